"""nn.fit and its halves (train_epoch, evaluate): what they record, checked against the
loop written out by hand and against NumPy."""

import io

import numpy as np
import pytest

import autograd as ag
import nn
from nn.data import DataLoader, TensorDataset
from nn.train import History, accuracy, binary_accuracy, evaluate, train_epoch


def regression_data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (X @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    return ag.tensor(X), ag.tensor(y)


def linear_model(seed=0):
    ag.manual_seed(seed)
    return nn.Linear(3, 1)


def numpy_mse(model, X, y):
    W, b = model.weight.numpy(), model.bias.numpy()
    return float(np.mean((X.numpy() @ W.T + b - y.numpy()) ** 2))


def test_fit_matches_the_hand_written_loop(backend):
    X, y = regression_data()
    X_test, y_test = regression_data(10, seed=1)
    model = linear_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, seed=3)
    history = nn.fit(model, nn.functional.mse_loss, optimizer, loader, epochs=4,
                     test_loader=DataLoader(TensorDataset(X_test, y_test), batch_size=4),
                     progress=False)

    by_hand = linear_model()
    hand_optimizer = nn.optim.SGD(by_hand.parameters(), lr=0.05, momentum=0.9)
    hand_loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, seed=3)
    train_losses, test_losses = [], []
    for _ in range(4):
        total = 0.0
        for xb, yb in hand_loader:
            loss = nn.functional.mse_loss(by_hand(xb), yb)
            loss.backward()
            hand_optimizer.step()
            hand_optimizer.zero_grad()
            total += loss.item() * len(yb)
        train_losses.append(total / len(y))
        test_losses.append(numpy_mse(by_hand, X_test, y_test))

    assert isinstance(history, History)
    np.testing.assert_allclose(history.train_loss, train_losses, rtol=1e-6)
    np.testing.assert_allclose(history.test_loss, test_losses, rtol=1e-5)
    np.testing.assert_allclose(model.weight.numpy(), by_hand.weight.numpy(), rtol=1e-6)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.metrics == {}


def test_epoch_means_weight_each_batch_by_its_samples():
    # with lr=0 the model never changes, so the epoch's mean loss is the loss over all
    # samples, however they are batched: a short last batch (10 = 3 + 3 + 3 + 1) must count
    # for one sample, not for a whole batch
    X, y = regression_data(10)
    model = linear_model()
    labels = ag.tensor((np.arange(10) % 2).astype(np.float32)).reshape(-1, 1)
    history = nn.fit(model, nn.functional.mse_loss, nn.optim.SGD(model.parameters(), lr=0.0),
                     DataLoader(TensorDataset(X, y), batch_size=3), epochs=2,
                     test_loader=DataLoader(TensorDataset(X, labels), batch_size=3),
                     metrics={"accuracy": binary_accuracy}, progress=False)
    expected = numpy_mse(model, X, y)
    np.testing.assert_allclose(history.train_loss, [expected, expected], rtol=1e-6)
    outputs = X.numpy() @ model.weight.numpy().T + model.bias.numpy()
    expected_accuracy = np.mean((outputs > 0) == (labels.numpy() > 0.5))
    np.testing.assert_allclose(history.metrics["test_accuracy"], [expected_accuracy] * 2,
                               rtol=1e-6)
    assert sorted(history.metrics) == ["test_accuracy", "train_accuracy"]
    assert len(history.metrics["train_accuracy"]) == 2


def test_accuracy_metrics_match_numpy():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(20, 4)).astype(np.float32)
    classes = rng.integers(0, 4, 20)
    assert accuracy(ag.tensor(logits), ag.tensor(classes)).item() == pytest.approx(
        np.mean(logits.argmax(axis=1) == classes))
    scores, labels = logits[:, :1], (rng.random(20) > 0.5).astype(np.float32)
    assert binary_accuracy(ag.tensor(scores), ag.tensor(labels)).item() == pytest.approx(
        np.mean((scores[:, 0] > 0) == (labels > 0.5)))


def test_evaluate_leaves_no_graph_and_restores_the_mode():
    X, y = regression_data(6)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    seen = []
    model.register_forward_hook(lambda module, inputs, output: seen.append(
        (module.training, output.requires_grad)))
    evaluate(model, nn.functional.mse_loss, DataLoader(TensorDataset(X, y), batch_size=6))
    assert seen == [(False, False)]
    assert model.training
    model.eval()
    evaluate(model, nn.functional.mse_loss, DataLoader(TensorDataset(X, y), batch_size=6))
    assert not model.training


def test_train_epoch_reports_the_running_loss_after_each_batch():
    X, y = regression_data(10)
    model = linear_model()
    running = []
    result = train_epoch(model, nn.functional.mse_loss,
                         nn.optim.SGD(model.parameters(), lr=0.0),
                         DataLoader(TensorDataset(X, y), batch_size=4), on_batch=running.append)
    assert len(running) == 3
    assert running[-1] == pytest.approx(result["loss"])


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_shows_the_loss_on_a_terminal_only(monkeypatch, capsys):
    X, y = regression_data(12)

    def run(**kwargs):
        model = linear_model()
        nn.fit(model, nn.functional.mse_loss, nn.optim.SGD(model.parameters(), lr=0.01),
               DataLoader(TensorDataset(X, y), batch_size=4), epochs=2, **kwargs)

    run()
    assert capsys.readouterr().err == ""
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    run()
    assert "epoch 2/2" in terminal.getvalue() and "loss=" in terminal.getvalue()
    quiet = Terminal()
    monkeypatch.setattr("sys.stderr", quiet)
    run(progress=False)
    assert quiet.getvalue() == ""


def test_fit_rejects_bad_arguments():
    X, y = regression_data(4)
    model = linear_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        nn.fit(model, nn.functional.mse_loss, optimizer,
               DataLoader(TensorDataset(X, y)), epochs=-1)
    with pytest.raises(ValueError, match="inputs..., target"):
        nn.fit(model, nn.functional.mse_loss, optimizer, DataLoader(TensorDataset(X)),
               epochs=1, progress=False)
