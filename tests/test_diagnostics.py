"""python -m nn.diagnostics: activation and gradient spread at initialisation."""

import numpy as np
import pytest

import autograd as ag
from nn.diagnostics import main, measure
from nn.playground.model import build_mlp


def printed_rows(stdout):
    """The table's rows as lists of floats (layer, mean, std, gradient std, ...)."""
    rows = []
    for line in stdout.splitlines():
        fields = line.split()
        if fields and fields[0].isdigit():
            rows.append([float(value) for value in fields])
    return rows


def test_small_normal_init_makes_tanh_activations_fade(capsys):
    assert main(["--init", "normal", "--activation", "tanh", "--layers", "5"]) == 0
    rows = printed_rows(capsys.readouterr().out)
    stds = [row[2] for row in rows]
    assert [row[0] for row in rows] == [1, 2, 3, 4, 5]
    assert all(later < 0.5 * earlier for earlier, later in zip(stds, stds[1:]))
    assert stds[-1] / stds[0] < 1e-2  # orders of magnitude over five layers
    gradient_stds = [row[3] for row in rows]
    assert gradient_stds[0] < 1e-2 * gradient_stds[-1]  # and gradients fade going back


def test_xavier_init_keeps_tanh_activations_level(capsys):
    assert main(["--init", "xavier", "--activation", "tanh", "--layers", "5"]) == 0
    stds = [row[2] for row in printed_rows(capsys.readouterr().out)]
    assert len(stds) == 5
    assert max(stds) / min(stds) <= 1.5


def test_kaiming_init_keeps_relu_activations_level():
    rows, _, _ = measure("kaiming", "relu", layers=6, width=200, batch=400)
    stds = [row.activation_std for row in rows]
    assert max(stds) / min(stds) <= 1.5


def test_statistics_match_a_numpy_forward_and_backward_pass(backend):
    layers, width, batch = 3, 20, 50
    rows, activations, gradients = measure("xavier", "tanh", layers, width, batch, seed=4)
    # the same draws, in the same order, as measure makes them
    ag.manual_seed(4)
    model = build_mlp(width, (width,) * layers, 1, "tanh", "xavier")
    h = ag.randn(batch, width).numpy().astype(np.float64)
    upstream = ag.randn(batch, 1).numpy().astype(np.float64)
    weights = [linear.weight.numpy().astype(np.float64) for linear in list(model)[::2]]
    layer_inputs, outputs = [], []
    for W in weights[:-1]:
        layer_inputs.append(h)
        h = np.tanh(h @ W.T)  # biases are zero under xavier
        outputs.append(h)
    expected_gradients, expected_weight_gradients = [None] * layers, [None] * layers
    grad = upstream @ weights[-1]
    for i in reversed(range(layers)):
        expected_gradients[i] = grad
        before_tanh = grad * (1 - outputs[i] ** 2)
        expected_weight_gradients[i] = before_tanh.T @ layer_inputs[i]
        grad = before_tanh @ weights[i]
    for i, row in enumerate(rows):
        assert row.layer == i + 1
        assert row.activation_mean == pytest.approx(outputs[i].mean(), abs=1e-5)
        assert row.activation_std == pytest.approx(outputs[i].std(), rel=1e-4)
        assert row.gradient_std == pytest.approx(expected_gradients[i].std(), rel=1e-4)
        assert row.weight_gradient_std == pytest.approx(expected_weight_gradients[i].std(),
                                                        rel=1e-4)
        np.testing.assert_allclose(activations[i].numpy(), outputs[i], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(gradients[i].numpy(), expected_gradients[i], rtol=1e-4,
                                   atol=1e-6)


def test_histograms_are_written_as_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "spread.png"
    assert main(["--layers", "2", "--width", "30", "--batch", "40", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"histograms: {out}" in capsys.readouterr().out


@pytest.mark.parametrize("option, value", [
    ("--init", "zeros"), ("--activation", "swish"), ("--layers", "0"), ("--width", "x"),
    ("--batch", "-3"), ("--seed", "-1"), ("--backend", "abacus"), ("--out", "spread.jpg"),
])
def test_a_bad_option_stops_with_a_message_naming_it(option, value, capsys):
    with pytest.raises(SystemExit) as caught:
        main([option, value])
    assert caught.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"python -m nn.diagnostics: error: argument {option}")
