"""autograd.jit.compile_step: a whole training step traced once and replayed, against the
same steps taken eagerly, on every available backend; and what it refuses to capture."""

from itertools import pairwise

import numpy as np
import pytest

import autograd as ag
import nn
from nn.playground.session import Config, Session

RTOL = 1e-6  # float32, after 20 Adam steps: the replay runs the eager primitives in order


def eager_step(model, loss_fn, optimizer):
    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def mlp(sizes, activation=nn.ReLU, seed=0):
    ag.manual_seed(seed)
    layers = []
    for n_in, n_out in pairwise(sizes):
        layers += [nn.Linear(n_in, n_out), activation()]
    return nn.Sequential(*layers[:-1])


def assert_same_parameters(first, second):
    for (name, a), b in zip(first.named_parameters(), second.parameters()):
        a, b = a.numpy(), b.numpy()
        scale = np.abs(a).max()
        assert np.abs(a - b).max() <= RTOL * scale, f"{name} differs"


@pytest.mark.parametrize("loss_name, optimizer", [
    ("cross_entropy", lambda p: nn.optim.Adam(p, lr=1e-2)),
    ("mse", lambda p: nn.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("bce", lambda p: nn.optim.AdamW(p, lr=1e-2)),
])
def test_compiled_training_matches_eager_on_the_mlp(backend, loss_name, optimizer):
    sizes = (20, 64, 32, 10 if loss_name != "bce" else 1)
    ag.manual_seed(1)
    x = ag.randn(32, sizes[0])
    y = {"cross_entropy": ag.randint(0, 10, (32,)), "mse": ag.randn(32, 10),
         "bce": (ag.rand(32, 1) > 0.5).astype("float32")}[loss_name]
    loss_fn = {"cross_entropy": nn.CrossEntropyLoss(), "mse": nn.MSELoss(),
               "bce": nn.BCEWithLogitsLoss()}[loss_name]
    eager_model, compiled_model = mlp(sizes), mlp(sizes)
    eager = eager_step(eager_model, loss_fn, optimizer(eager_model.parameters()))
    compiled = ag.jit.compile_step(compiled_model, loss_fn,
                                   optimizer(compiled_model.parameters()))
    for _ in range(20):
        expected, got = eager(x, y).item(), compiled(x, y).item()
        assert got == pytest.approx(expected, rel=RTOL)
    assert_same_parameters(eager_model, compiled_model)


def test_compiled_training_matches_eager_on_the_playground_network(backend):
    config = Config(samples=200, batch_size=20, epochs=3, backend=backend,
                    features=("x1", "x2", "sin(x1)"))
    eager, compiled = Session(config), Session(config, compile=True)
    for _ in range(config.epochs):
        eager.step()
        compiled.step()
    assert compiled.history.train_loss == pytest.approx(eager.history.train_loss, rel=RTOL)
    assert_same_parameters(eager.model, compiled.model)


def test_fit_with_compile_trains_as_eager_fit_does(backend):
    ag.manual_seed(2)
    data = nn.data.TensorDataset(ag.randn(50, 4), ag.randint(0, 3, (50,)))
    histories, models = [], []
    for compile in (False, True):
        model = mlp((4, 16, 3), nn.Tanh)
        loader = nn.data.DataLoader(data, 16, shuffle=True, seed=0)  # a last batch of 2
        histories.append(nn.fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters()),
                                loader, epochs=3, metrics={"accuracy": nn.train.accuracy},
                                progress=False, compile=compile))
        models.append(model)
    assert histories[1].train_loss == pytest.approx(histories[0].train_loss, rel=RTOL)
    assert histories[1].metrics == histories[0].metrics
    assert_same_parameters(*models)


def test_a_replayed_step_builds_no_graph_and_reads_each_value_once():
    model = mlp((3, 8, 2))
    step = ag.jit.compile_step(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(),
                                                                        lr=0.1))
    x, y = ag.randn(4, 3), ag.randint(0, 2, (4,))
    first = step(x, y)
    second = step(x, y)
    assert not first.requires_grad and second.grad_fn is None
    assert all(p.grad is not None and p.grad.grad_fn is None for p in model.parameters())
    assert "Tensor(" not in step.traced.code.split("return")[0]  # arrays only until the end
    assert "del " in step.traced.code  # each value freed after its last use


def test_a_parameter_used_three_times_sums_its_gradients_like_eager(backend):
    ag.manual_seed(3)

    def build():
        return ag.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4),
                         requires_grad=True)

    def model_of(w):
        return lambda x: ((x @ w).tanh() @ w.T @ w).abs()

    x, y = ag.randn(5, 3), ag.randn(5, 4)
    w_eager, w_compiled = build(), build()
    eager = eager_step(model_of(w_eager), nn.MSELoss(), nn.optim.Adam([w_eager], lr=0.01))
    compiled = ag.jit.compile_step(model_of(w_compiled), nn.MSELoss(),
                                   nn.optim.Adam([w_compiled], lr=0.01))
    for _ in range(20):
        assert compiled(x, y).item() == pytest.approx(eager(x, y).item(), rel=RTOL)
    np.testing.assert_allclose(w_compiled.numpy(), w_eager.numpy(), rtol=RTOL, atol=1e-7)
    assert "add_into" in str(compiled.traced.program)


def test_other_input_shapes_and_dtypes_are_refused_by_name():
    model = mlp((3, 4, 2))
    step = ag.jit.compile_step(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(),
                                                                        lr=0.1))
    step(ag.randn(4, 3), ag.randint(0, 2, (4,)))
    with pytest.raises(ValueError, match=r"input 0 \(x\) is a float32\[5, 3\] Tensor .* "
                                         r"compiled for float32\[4, 3\]"):
        step(ag.randn(5, 3), ag.randint(0, 2, (5,)))
    with pytest.raises(TypeError, match=r"input 0 \(x\) is a float64\[4, 3\]"):
        step(ag.randn(4, 3, dtype="float64"), ag.randint(0, 2, (4,)))
    with pytest.raises(TypeError, match=r"input 1 \(y\) is a list"):
        step(ag.randn(4, 3), [0, 1, 0, 1])


def test_what_a_step_cannot_capture_is_named():
    model = mlp((3, 4, 1))
    x, y = ag.randn(4, 3), ag.randn(4, 1)

    def branching_loss(output, target):
        loss = ((output - target) ** 2).mean()
        return loss * 2 if loss > 1 else loss

    with pytest.raises(TypeError, match=r"reads %\d+ \(bool\[\], the result of gt\) out "
                                        r"as a Python value .* Python control flow"):
        ag.jit.compile_step(model, branching_loss, nn.optim.SGD(model.parameters(), lr=0.1))(
            x, y)
    dropping = nn.Sequential(model, nn.Dropout(0.5))
    with pytest.raises(RuntimeError, match=r"draws random numbers .*model\.eval\(\)"):
        ag.jit.compile_step(dropping, nn.MSELoss(), nn.optim.SGD(model.parameters(),
                                                                 lr=0.1))(x, y)
    # A failed trace leaves the backend as it was.
    assert ag.rand(2).shape == (2,)
    with pytest.raises(ValueError, match="one-element Tensor, got a Tensor of shape"):
        ag.jit.compile_step(model, lambda o, t: o - t, nn.optim.SGD(model.parameters(),
                                                                    lr=0.1))(x, y)


def test_a_change_the_trace_cannot_see_is_caught_by_the_first_replay():
    model = mlp((3, 4, 1))

    def sneaky(x):
        hidden = model(x)
        hidden.backend.add_into(hidden.data, hidden.data)  # in place, outside the ops
        return hidden

    with pytest.raises(RuntimeError, match="replaying the traced step gives another value of "
                                           "the loss"):
        ag.jit.compile_step(sneaky, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1))(
            ag.randn(4, 3), ag.randn(4, 1))


def test_the_playground_command_trains_with_a_compiled_step(tmp_path, capsys):
    from nn.playground.cli import main

    argv = ["--samples", "100", "--epochs", "2", "--out", str(tmp_path / "map.png")]
    assert main(argv + ["--compile"]) == 0
    compiled = capsys.readouterr().out
    assert main(argv) == 0
    eager = capsys.readouterr().out
    assert "test accuracy:" in compiled
    # The last epoch's losses, the picture and the accuracy: the same numbers either way.
    assert compiled.splitlines()[-3:] == eager.splitlines()[-3:]
