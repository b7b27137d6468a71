"""The playground: its features, session, command line and picture."""

import math
import re
import subprocess
import sys

import numpy as np
import pytest

import autograd as ag
import backends
from nn.playground import FEATURES, Config, ConfigError, Session, feature_matrix
from nn.playground.cli import main

ACCURACY_LINE = re.compile(r"^test accuracy: (\d+\.\d)%$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# One command line per data set that learns it to at least 90% at noise 0.1 (the README
# lists them).
LEARNS_AT_NOISE_0_1 = {
    "circle": ["--dataset", "circle", "--noise", "0.1", "--features", "x1^2,x2^2",
               "--hidden", "", "--epochs", "10"],
    "xor": ["--dataset", "xor", "--noise", "0.1", "--features", "x1*x2", "--hidden", "",
            "--epochs", "10"],
    "gauss": ["--dataset", "gauss", "--noise", "0.1", "--hidden", "", "--epochs", "10"],
    "spiral": ["--dataset", "spiral", "--noise", "0.1", "--features",
               "x1,x2,sin(x1),sin(x2)", "--epochs", "60"],
}


def test_feature_matrix_matches_numpy(backend):
    points = np.random.default_rng(0).uniform(-6, 6, (15, 2)).astype(np.float32)
    x1, x2 = points.T
    expected = {"x1": x1, "x2": x2, "x1^2": x1 ** 2, "x2^2": x2 ** 2, "x1*x2": x1 * x2,
                "sin(x1)": np.sin(x1), "sin(x2)": np.sin(x2)}
    assert list(FEATURES) == list(expected)
    names = ["sin(x2)", "x1", "x1*x2", "x2^2", "x1^2", "sin(x1)", "x2"]
    features = feature_matrix(ag.tensor(points), names)
    assert features.shape == (15, 7) and features.backend.name == backend
    np.testing.assert_allclose(features.numpy(), np.stack([expected[n] for n in names], 1),
                               rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="x3"):
        feature_matrix(ag.tensor(points), ["x1", "x3"])


def small_config(**settings):
    return Config(**{"samples": 60, "epochs": 3, "hidden": (4,), **settings})


def test_session_steps_record_history_and_repeat_for_a_seed():
    first, second = Session(small_config()), Session(small_config())
    for session in (first, second):
        for _ in range(3):
            session.step()
    assert first.epoch == 3
    assert len(first.history.test_loss) == 3
    assert first.history.train_loss == second.history.train_loss
    assert first.history.metrics["test_accuracy"] == second.history.metrics["test_accuracy"]
    other = Session(small_config(seed=1))
    other.step()
    assert other.history.train_loss[0] != first.history.train_loss[0]
    assert first.train_points.shape == (30, 2) and first.test_labels.shape == (30,)


def test_session_metrics_match_numpy_on_its_own_predictions():
    session = Session(small_config(features=("x1", "x2", "x1*x2")))
    session.step()
    with ag.no_grad():
        logits = session.model(session.features(session.test_points)).numpy()[:, 0]
    labels = session.test_labels.numpy()
    expected_loss = np.mean(np.maximum(logits, 0) - logits * labels
                            + np.log1p(np.exp(-np.abs(logits))))
    assert session.history.test_loss[-1] == pytest.approx(expected_loss, rel=1e-5)
    assert session.history.metrics["test_accuracy"][-1] == pytest.approx(
        np.mean((logits > 0) == (labels > 0.5)))


def test_predict_grid_rows_run_over_x2_and_columns_over_x1(backend):
    session = Session(small_config(backend=backend))
    grid = session.predict_grid(resolution=5)
    assert grid.shape == (5, 5) and grid.backend.name == backend
    values = np.linspace(-6, 6, 5, dtype=np.float32)
    for i, j in [(0, 4), (3, 1), (2, 2)]:
        point = ag.tensor([[values[j], values[i]]])
        with ag.no_grad():
            logit = session.model(session.features(point)).item()
        assert grid.numpy()[i, j] == pytest.approx(1 / (1 + math.exp(-logit)), rel=1e-5)


def test_session_features_are_standardised_on_the_training_points():
    session = Session(small_config(features=("x1^2", "x2")))
    train = session.features(session.train_points).numpy()
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train.std(axis=0), 1.0, rtol=1e-5)


@pytest.mark.parametrize("settings, field", [
    ({"noise": 1.5}, "noise"), ({"test_ratio": 0.0}, "test_ratio"),
    ({"samples": 10, "test_ratio": 0.01}, "test_ratio"), ({"features": ()}, "features"),
    ({"hidden": (8, 0)}, "hidden"), ({"lr": math.nan}, "lr"), ({"epochs": 0}, "epochs"),
    ({"backend": "abacus"}, "backend"), ({"dataset": "moons"}, "dataset"),
])
def test_config_check_names_the_bad_field(settings, field):
    with pytest.raises(ConfigError) as caught:
        Session(Config(**settings))
    assert caught.value.field == field


# ---------------------------------------------------------------- the command line
def run_playground(*options, cwd):
    result = subprocess.run([sys.executable, "-m", "nn.playground", *options], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def final_accuracy(stdout):
    match = ACCURACY_LINE.match(stdout.strip().splitlines()[-1])
    assert match, f"the output does not end with the accuracy line:\n{stdout}"
    return float(match.group(1))


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """`python -m nn.playground` with its defaults, run once for the tests below."""
    folder = tmp_path_factory.mktemp("playground")
    return run_playground(cwd=folder), folder


def test_default_playground_learns_the_spiral_and_draws_it(default_run):
    stdout, folder = default_run
    assert final_accuracy(stdout) >= 95.0
    losses = re.findall(r"train loss (\d\.\d+)  test loss (\d\.\d+)", stdout)
    assert len(losses) >= 10
    assert float(losses[-1][0]) < float(losses[0][0])
    picture = folder / "playground.png"
    assert picture.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("name", ["numba", "cupy"])
def test_other_backends_reach_the_same_accuracy(default_run, name, tmp_path):
    state = backends.available().get(name, "not registered")
    if state is not True:
        pytest.skip(f"{name}: {state}")
    stdout = run_playground("--backend", name, cwd=tmp_path)
    assert final_accuracy(stdout) == final_accuracy(default_run[0])


@pytest.mark.parametrize("dataset", list(LEARNS_AT_NOISE_0_1))
def test_each_data_set_is_learnt_at_noise_0_1(dataset, tmp_path, capsys):
    out = tmp_path / f"{dataset}.png"
    assert main([*LEARNS_AT_NOISE_0_1[dataset], "--out", str(out)]) == 0
    assert final_accuracy(capsys.readouterr().out) >= 90.0
    assert out.read_bytes().startswith(PNG_SIGNATURE)


def test_picture_has_the_map_and_the_loss_curves(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    from nn.playground.plot import draw

    session = Session(small_config())
    session.step()
    draw(session, tmp_path / "picture.png")
    pixels = image.imread(tmp_path / "picture.png")
    assert pixels.shape[:2] == (500, 1100)


def test_without_matplotlib_it_trains_and_says_how_to_get_the_picture(monkeypatch, capsys,
                                                                        tmp_path):
    for name in [name for name in sys.modules if name.split(".")[0] == "matplotlib"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "nn.playground.plot", raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "none.png"
    assert main(["--samples", "40", "--epochs", "2", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert 'pip install "pluggrad[plot]"' in stdout
    assert ACCURACY_LINE.match(stdout.strip().splitlines()[-1])
    assert not out.exists()


@pytest.mark.parametrize("option, value", [
    ("--dataset", "moons"), ("--noise", "2"), ("--noise", "lots"), ("--samples", "1"),
    ("--test-ratio", "1"), ("--batch-size", "0"), ("--features", "x1,x3"),
    ("--features", ""), ("--features", "x1,x1"), ("--hidden", "8,x"), ("--hidden", "8,0"),
    ("--activation", "swish"), ("--lr", "0"), ("--lr", "inf"), ("--optimizer", "lbfgs"),
    ("--init", "glorot"), ("--epochs", "0"), ("--seed", "-1"), ("--backend", "abacus"),
    ("--out", "picture.jpg"), ("--out", "no/such/folder/picture.png"),
])
def test_a_bad_option_stops_with_a_message_naming_it(option, value, capsys, tmp_path,
                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as caught:
        main([option, value])
    assert caught.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"python -m nn.playground: error: argument {option}")


def test_the_command_reports_a_bad_option_without_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nn.playground", "--noise", "3"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "argument --noise: must be a number in [0, 1], got 3.0" in result.stderr
