"""python -m nn.diagnostics: activation and gradient spread at initialisation."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
from nn.diagnostics import COLUMNS, main, measure
from nn.models import build_mlp


def printed_rows(stdout):
    """The table's rows as lists of floats, in the order of COLUMNS."""
    rows = []
    for line in stdout.splitlines():
        fields = line.split()
        if fields and fields[0].isdigit():
            rows.append([float(value) for value in fields])
    return rows


def test_small_normal_init_makes_tanh_activations_fade(capsys):
    assert main(["--init", "normal", "--activation", "tanh", "--depth", "5"]) == 0
    rows = printed_rows(capsys.readouterr().out)
    stds = [row[2] for row in rows]
    assert [row[0] for row in rows] == [1, 2, 3, 4, 5]
    assert all(later < 0.5 * earlier for earlier, later in zip(stds, stds[1:]))
    assert stds[-1] / stds[0] < 1e-2  # orders of magnitude over five layers
    gradient_stds = [row[4] for row in rows]
    assert gradient_stds[0] < 1e-2 * gradient_stds[-1]  # and gradients fade going back


def test_xavier_init_keeps_tanh_activations_level(capsys):
    assert main(["--init", "xavier", "--activation", "tanh", "--layers", "5"]) == 0
    stds = [row[2] for row in printed_rows(capsys.readouterr().out)]
    assert len(stds) == 5
    assert max(stds) / min(stds) <= 1.5


def test_kaiming_init_keeps_relu_activations_level():
    rows, _, _ = measure("kaiming", "relu", depth=6, width=200, batch=400)
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
        assert row.gradient_mean == pytest.approx(expected_gradients[i].mean(), abs=1e-6)
        assert row.gradient_std == pytest.approx(expected_gradients[i].std(), rel=1e-4)
        assert row.weight_gradient_std == pytest.approx(expected_weight_gradients[i].std(),
                                                        rel=1e-4)
        np.testing.assert_allclose(activations[i].numpy(), outputs[i], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(gradients[i].numpy(), expected_gradients[i], rtol=1e-4,
                                   atol=1e-6)


def test_histograms_are_written_as_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "spread.png"
    assert main(["--depth", "2", "--width", "30", "--batch", "40", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"histograms: {out}" in capsys.readouterr().out


@pytest.mark.parametrize("option, value", [
    ("--init", "glorot"), ("--activation", "swish"), ("--depth", "0"), ("--width", "x"),
    ("--batch", "-3"), ("--seed", "-1"), ("--backend", "abacus"), ("--out", "spread.jpg"),
])
def test_a_bad_option_stops_with_a_message_naming_it(option, value, capsys):
    with pytest.raises(SystemExit) as caught:
        main([option, value])
    assert caught.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"python -m nn.diagnostics: error: argument {option}")


def test_the_table_has_the_documented_columns(capsys):
    assert main(["--depth", "2", "--width", "10", "--batch", "20"]) == 0
    header = capsys.readouterr().out.splitlines()[1].split()
    assert header[:5] == ["layer", "act_mean", "act_std", "grad_mean", "grad_std"]
    assert header == list(COLUMNS)


def test_layers_is_an_alias_of_depth(capsys):
    assert main(["--layers", "3", "--width", "10", "--batch", "20"]) == 0
    by_layers = capsys.readouterr().out
    assert main(["--depth", "3", "--width", "10", "--batch", "20"]) == 0
    assert capsys.readouterr().out == by_layers
    assert [row[0] for row in printed_rows(by_layers)] == [1, 2, 3]


def test_zeros_init_makes_every_unit_of_a_layer_identical(capsys):
    assert main(["--init", "zeros", "--depth", "4", "--width", "12", "--batch", "30"]) == 0
    rows = printed_rows(capsys.readouterr().out)
    assert len(rows) == 4
    assert all(row[COLUMNS.index("alike")] == 12 for row in rows)
    rows, activations, _ = measure("zeros", "tanh", depth=2, width=6, batch=5)
    for a in activations:
        values = a.numpy()
        assert (values == values[:, :1]).all()
    xavier, _, _ = measure("xavier", "tanh", depth=2, width=6, batch=5)
    assert [row.units_alike for row in xavier] == [1, 1]


def test_diagnostics_does_not_need_the_playground():
    script = ("import sys, nn.diagnostics; "
              "assert not any(m.startswith('nn.playground') for m in sys.modules), "
              "sorted(m for m in sys.modules if m.startswith('nn.'))")
    subprocess.run([sys.executable, "-c", script], check=True, env=_environment())


BROKEN_MATPLOTLIB = "raise ImportError('libfreetype.so.6: cannot open shared object file')"


def _environment(*front):
    root = str(Path(__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, front), root])}


@pytest.mark.parametrize("failure", [BROKEN_MATPLOTLIB, "raise RuntimeError('bad font cache')",
                                     "import nonexistent_helper_of_matplotlib"])
@pytest.mark.parametrize("program, out_option", [
    ("nn.diagnostics", ["--depth", "2", "--width", "10", "--batch", "20"]),
    ("nn.playground", ["--samples", "40", "--epochs", "2"]),
])
def test_a_broken_matplotlib_still_trains_and_says_how_to_get_the_picture(
        tmp_path, failure, program, out_option):
    fake = tmp_path / "site" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(failure + "\n")
    out = tmp_path / "picture.png"
    result = subprocess.run([sys.executable, "-m", program, *out_option, "--out", str(out)],
                            env=_environment(tmp_path / "site"), cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "matplotlib is installed but fails to import" in result.stdout
    assert "pip install --force-reinstall matplotlib" in result.stdout
    assert not out.exists()
