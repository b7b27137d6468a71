"""The playground's regression problem and its regularisation: the two regression point
sets, a session that learns a target instead of a class, and the L1 / L2 penalty added to
the training loss."""

import math

import numpy as np
import pytest

from nn.data import make_reg_gauss, make_reg_plane
from nn.playground import Config, ConfigError, Session

SMALL = {"samples": 200, "hidden": (4,)}


@pytest.mark.parametrize("make", [make_reg_plane, make_reg_gauss])
def test_regression_sets_have_targets_in_range_and_repeat_for_a_seed(make, backend):
    X, y = make(300, noise=0.2, seed=3)
    assert X.shape == (300, 2) and y.shape == (300,) and X.backend.name == backend
    X, y = X.numpy(), y.numpy()
    assert np.abs(X).max() <= 6 and np.abs(y).max() <= 1 and y.std() > 0.05
    again_X, again_y = make(300, noise=0.2, seed=3)
    np.testing.assert_array_equal(again_X.numpy(), X)
    np.testing.assert_array_equal(again_y.numpy(), y)
    with pytest.raises(ValueError, match=f"{make.__name__}: noise must be"):
        make(10, noise=2)


def test_the_plane_is_the_sum_of_the_coordinates_and_the_bumps_peak_at_their_centres():
    X, y = make_reg_plane(500, seed=0)
    X, y = X.numpy(), y.numpy()
    np.testing.assert_allclose(y, np.clip(X.sum(axis=1) / 10, -1, 1), atol=1e-6)
    X, y = make_reg_gauss(4000, seed=0)
    X, y = X.numpy(), y.numpy()
    for centre, sign in (((-4, 2.5), 1), ((0, 2.5), -1), ((0, -2.5), 1)):
        near = np.hypot(*(X - centre).T) < 0.3
        assert near.any() and np.all(np.sign(y[near]) == sign) and np.abs(y[near]).min() > 0.8
    far = np.min([np.hypot(*(X - c).T) for c in [(a, b) for a in (-4, 0, 4)
                                                   for b in (2.5, -2.5)]], axis=0) > 2
    assert np.all(y[far] == 0)


def test_a_data_set_must_fit_the_problem_type():
    with pytest.raises(ConfigError, match="dataset: 'reg-plane' is not a classification"):
        Config(dataset="reg-plane").check()
    with pytest.raises(ConfigError, match="dataset: 'spiral' is not a regression"):
        Config(problem="regression").check()
    with pytest.raises(ConfigError, match="regularization: invalid choice 'L3'"):
        Config(regularization="L3").check()
    with pytest.raises(ConfigError, match="regularization_rate"):
        Config(regularization_rate=-1).check()


def test_a_regression_session_learns_the_plane():
    session = Session(Config(problem="regression", dataset="reg-plane", **SMALL))
    for _ in range(40):
        session.step()
    history = session.history
    assert history.test_loss[-1] < 0.01 < history.test_loss[0]
    assert "test_accuracy" not in history.metrics
    assert session.output_range == (-1.0, 1.0)
    grid = session.predict_grid(7).numpy()
    values = np.linspace(-6, 6, 7)
    plane = (values[None, :] + values[:, None]) / 10
    np.testing.assert_allclose(grid[1:-1, 1:-1], plane[1:-1, 1:-1], atol=0.15)


@pytest.mark.parametrize("kind, term", [
    ("L1", lambda weight: np.abs(weight).sum()),
    ("L2", lambda weight: 0.5 * (weight ** 2).sum()),
])
def test_the_penalty_is_added_to_the_training_loss_only(kind, term):
    session = Session(Config(regularization=kind, regularization_rate=0.3, **SMALL))
    weights = [weight.numpy() for weight in session.weights()]
    assert [w.shape for w in weights] == [(4, 2), (1, 4)]
    expected = sum(term(weight) for weight in weights)
    assert session.penalty().item() == pytest.approx(expected, rel=1e-5)
    inputs = session.features(session.train_points)
    target = session.train_labels.reshape(-1, 1)
    output = session.model(inputs)
    data_loss = session.loss_fn(output, target).item()
    assert session.training_loss(output, target).item() == pytest.approx(
        data_loss + 0.3 * expected, rel=1e-5)
    session.step()
    assert session.history.train_loss[0] == pytest.approx(
        session.loss_fn(session.model(inputs), target).item(), rel=1e-5)


@pytest.mark.parametrize("kind", ["L1", "L2"])
def test_regularisation_keeps_the_weights_smaller(kind):
    def weight_size(rate):
        session = Session(Config(regularization=kind, regularization_rate=rate,
                                 hidden=(8, 8), samples=200))
        for _ in range(10):
            session.step()
        return sum(float(np.abs(w.numpy()).sum()) for w in session.weights())
    free, held = weight_size(0.0), weight_size(0.1)
    assert held < 0.8 * free and math.isfinite(held)
