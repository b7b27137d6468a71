"""Every loss against its closed form, written out in NumPy: the value and the gradient with
respect to the input, for each reduction, on every backend; and the extremes (logits of
+-1e4, probabilities of exactly 0 and 1) giving finite values equal to the limits."""

import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

RNG = np.random.default_rng(1234)
N, C = 6, 4


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _one_hot(t, classes):
    return np.eye(classes)[t]


# Each case: (name, module factory, input, target, per-item loss, d(per-item loss)/d(input)).
# "Per item" is per element for the elementwise losses, per sample for the classification
# ones, whose gradient rows belong to one sample each.
def _cases():
    x = RNG.normal(size=(N, 3))
    y = RNG.normal(size=(N, 3))
    d = x - y
    yield ("mse", nn.MSELoss, x, y, d ** 2, 2 * d)
    yield ("l1", nn.L1Loss, x, y, np.abs(d), np.sign(d))
    delta = 0.7
    huber = np.where(np.abs(d) < delta, 0.5 * d ** 2, delta * (np.abs(d) - 0.5 * delta))
    huber_grad = np.where(np.abs(d) < delta, d, delta * np.sign(d))
    yield ("huber", lambda reduction: nn.HuberLoss(reduction, delta=delta), x, y, huber,
           huber_grad)

    p = RNG.uniform(0.05, 0.95, size=(N, 3))
    yt = RNG.uniform(0, 1, size=(N, 3))
    yield ("bce", nn.BCELoss, p, yt, -(yt * np.log(p) + (1 - yt) * np.log(1 - p)),
           (p - yt) / (p * (1 - p)))
    z = RNG.normal(scale=3, size=(N, 3))
    yield ("bce_logits", nn.BCEWithLogitsLoss, z, yt, np.logaddexp(0, z) - z * yt,
           _sigmoid(z) - yt)

    logits = RNG.normal(scale=2, size=(N, C))
    labels = RNG.integers(0, C, size=N)
    probs = _softmax(logits)
    q = _one_hot(labels, C)
    yield ("cross_entropy", nn.CrossEntropyLoss, logits, labels,
           -(q * np.log(probs)).sum(axis=1), probs - q)
    eps = 0.2
    smoothed = q * (1 - eps) + eps / C
    yield ("cross_entropy_smoothed",
           lambda reduction: nn.CrossEntropyLoss(reduction, label_smoothing=eps),
           logits, labels, -(smoothed * np.log(probs)).sum(axis=1), probs - smoothed)
    soft = _softmax(RNG.normal(size=(N, C)))
    yield ("cross_entropy_probabilities", nn.CrossEntropyLoss, logits, soft,
           -(soft * np.log(probs)).sum(axis=1), probs - soft)
    log_probs = np.log(probs)
    yield ("nll", nn.NLLLoss, log_probs, labels, -log_probs[np.arange(N), labels], -q)

    scores = RNG.normal(size=(N, 1))
    signs = RNG.choice([-1.0, 1.0], size=(N, 1))
    yield ("wasserstein", nn.WassersteinLoss, scores, signs, -signs * scores,
           -signs * np.ones_like(scores))


CASES = list(_cases())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_value_and_gradient_match_closed_form(backend, case, reduction):
    name, make, x, target, per_item, item_grad = case
    inp = ag.tensor(x, requires_grad=True)
    tgt = ag.tensor(target)
    loss = make(reduction=reduction)(inp, tgt)

    if reduction == "none":
        upstream = RNG.normal(size=per_item.shape)
        np.testing.assert_allclose(loss.numpy(), per_item, rtol=1e-12, atol=1e-12)
        loss.backward(ag.tensor(upstream))
    else:
        expected = per_item.mean() if reduction == "mean" else per_item.sum()
        upstream = np.full(per_item.shape, 1 / per_item.size if reduction == "mean" else 1.0)
        assert loss.shape == ()
        np.testing.assert_allclose(loss.item(), expected, rtol=1e-12, atol=1e-12)
        loss.backward()
    # Broadcast each item's upstream gradient over that item's row of the input.
    upstream = upstream.reshape(upstream.shape + (1,) * (x.ndim - upstream.ndim))
    np.testing.assert_allclose(inp.grad.numpy(), upstream * item_grad, rtol=1e-10,
                               atol=1e-12)
    assert inp.grad.backend.name == backend


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_logits_at_huge_logits_gives_the_limits(backend, dtype):
    z = ag.tensor([1e4, 1e4, -1e4, -1e4, 0.0], dtype=dtype, requires_grad=True)
    y = ag.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    loss.sum().backward()
    # softplus(z) - z*y -> 0, z, 0, -z; gradient sigmoid(z) - y -> 0, 1, 0, -1; at 0: 0.5-1.
    np.testing.assert_allclose(loss.numpy(), [0.0, 1e4, 0.0, 1e4, math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), [0.0, 1.0, 0.0, -1.0, -0.5], atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_at_huge_logits_gives_the_limits(backend, dtype):
    logits = ag.tensor([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=dtype,
                       requires_grad=True)
    labels = ag.tensor([0, 1, 2])
    loss = F.cross_entropy(logits, labels, reduction="none")
    loss.sum().backward()
    # The softmax is one-hot on the largest logit: -log p is 0 there, and 1e4 - (-1e4) for
    # the second row; the gradient is softmax - one_hot.
    np.testing.assert_allclose(loss.numpy(), [0.0, 2e4, 0.0], rtol=1e-6)
    np.testing.assert_allclose(logits.grad.numpy(),
                               [[0, 0, 0], [1, -1, 0], [0, 0, 0]], atol=1e-7)
    probs = ag.tensor([[0.5, 0.5, 0.0]], dtype=dtype)
    soft = F.cross_entropy(ag.tensor([[1e4, -1e4, 0.0]], dtype=dtype), probs)
    np.testing.assert_allclose(soft.item(), 0.5 * 2e4, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_at_probabilities_of_exactly_zero_and_one_is_finite(backend, dtype):
    p = ag.tensor([0.0, 1.0, 0.0, 1.0], dtype=dtype, requires_grad=True)
    y = ag.tensor([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    loss.sum().backward()
    # Matching labels: the loss is 0 and the gradient (p - y) / (p (1 - p)) tends to
    # 1 (p -> 0, y = 0) and -1 (p -> 1, y = 1). Opposite labels: log floored at -100, as in
    # PyTorch, where the loss is flat.
    np.testing.assert_array_equal(loss.numpy(), [0.0, 0.0, 100.0, 100.0])
    np.testing.assert_array_equal(p.grad.numpy(), [1.0, -1.0, 0.0, 0.0])


def test_bce_refuses_values_outside_zero_one(backend):
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(ag.tensor([0.5, 1.5]), ag.tensor([0.0, 1.0]))


def test_regression_losses_refuse_silent_broadcasting(backend):
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        F.mse_loss(ag.zeros(4, 1), ag.zeros(4))


def test_cross_entropy_checks_class_indices(backend):
    logits = ag.zeros(3, 4)
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        F.cross_entropy(logits, ag.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"\[0, 3\], got values in \[-1, 2\]"):
        F.cross_entropy(logits, ag.tensor([2, -1, 1]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        F.cross_entropy(logits, ag.tensor([0, 1]))
    with pytest.raises(TypeError, match="int64"):
        F.nll_loss(logits, ag.tensor([0.0, 1.0, 2.0]))


def test_cross_entropy_over_extra_axes_matches_per_position(backend):
    # (N, C, d) logits with (N, d) labels: PyTorch's layout for per-position classes.
    logits = RNG.normal(size=(2, 3, 5))
    labels = RNG.integers(0, 3, size=(2, 5))
    loss = F.cross_entropy(ag.tensor(logits), ag.tensor(labels), reduction="none")
    moved = np.moveaxis(logits, 1, -1).reshape(-1, 3)
    expected = -np.log(_softmax(moved))[np.arange(10), labels.reshape(-1)].reshape(2, 5)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)


def test_cross_entropy_over_extra_axes_gradient_is_softmax_minus_one_hot(backend):
    logits = RNG.normal(size=(2, 3, 5))
    labels = RNG.integers(0, 3, size=(2, 5))
    x = ag.tensor(logits, requires_grad=True)
    F.cross_entropy(x, ag.tensor(labels), reduction="sum").backward()
    moved = _softmax(np.moveaxis(logits, 1, -1).reshape(-1, 3))
    expected = moved - _one_hot(labels.reshape(-1), 3)
    np.testing.assert_allclose(x.grad.numpy(),
                               np.moveaxis(expected.reshape(2, 5, 3), -1, 1), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_class_indices_has_second_derivatives(backend, reduction,
                                                                 label_smoothing):
    # Gradient penalties differentiate the loss's gradient again.
    labels = ag.tensor(RNG.integers(0, C, size=N))
    logits = ag.tensor(RNG.normal(size=(N, C)), dtype="float64", requires_grad=True)

    def loss(x):
        return F.cross_entropy(x, labels, reduction, label_smoothing)

    assert ag.gradcheck(loss, [logits])
    assert ag.gradgradcheck(loss, [logits])


def test_unknown_reduction_is_refused():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="average")
    with pytest.raises(ValueError, match="reduction"):
        F.l1_loss(ag.zeros(2), ag.zeros(2), reduction="average")


def test_wasserstein_accepts_a_number_target(backend):
    scores = ag.tensor([1.0, -2.0, 3.0], dtype="float64", requires_grad=True)
    loss = nn.WassersteinLoss()(scores, -1.0)
    loss.backward()
    np.testing.assert_allclose(loss.item(), np.mean([1.0, -2.0, 3.0]))
    np.testing.assert_allclose(scores.grad.numpy(), [1 / 3] * 3)


def test_loss_options_are_checked_when_built():
    with pytest.raises(ValueError, match="delta"):
        nn.HuberLoss(delta=0.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
