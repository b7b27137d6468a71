"""Optimisers against their documented update rules, written out in NumPy below: 25 steps
on a fixed problem in float64, to 1e-10, on every backend (so each backend's fused update
is checked). Also parameter groups, zero_grad, saving state, schedulers and clipping."""

import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from nn.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, StepLR

STEPS = 25
RNG = np.random.default_rng(2024)
# The problem: loss = sum(a * w**2 / 2 + b * sin(w)) over two parameters, so the gradient
# a * w + b * cos(w) changes along the trajectory and is easy to write in NumPy. The first
# parameter is large enough (2**15 elements) that a backend's fused update kernel does the
# work (the Numba backend hands arrays under 2**14 elements to the composed NumPy update);
# the second is small.
SHAPES = [(128, 256), (5,)]
START = [RNG.normal(size=shape) for shape in SHAPES]
A = [RNG.uniform(0.5, 2.0, size=shape) for shape in SHAPES]
B = [RNG.normal(size=shape) for shape in SHAPES]


def _numpy_grad(i, w):
    return A[i] * w + B[i] * np.cos(w)


def _loss(params):
    total = 0
    for p, a, b in zip(params, A, B):
        total = total + (ag.tensor(a) * p * p * 0.5 + ag.tensor(b) * p.sin()).sum()
    return total


# ------------------------------------------------------------------------ NumPy references
def sgd_reference(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    def step(w, g, state, t):
        g = g + weight_decay * w
        if momentum:
            if t == 1:
                state["b"] = g.copy()
            else:
                state["b"] = momentum * state["b"] + (1 - dampening) * g
            g = g + momentum * state["b"] if nesterov else state["b"]
        return w - lr * g
    return step


def adam_reference(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   decoupled=False):
    beta1, beta2 = betas

    def step(w, g, state, t):
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        state["m"] = beta1 * state.get("m", 0) + (1 - beta1) * g
        state["v"] = beta2 * state.get("v", 0) + (1 - beta2) * g * g
        m_hat = state["m"] / (1 - beta1 ** t)
        if amsgrad:
            # As PyTorch computes it: the running maximum of the raw second moment, then
            # bias-corrected.
            state["v_max"] = np.maximum(state.get("v_max", 0), state["v"])
            v_hat = state["v_max"] / (1 - beta2 ** t)
        else:
            v_hat = state["v"] / (1 - beta2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return step


def rmsprop_reference(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False):
    def step(w, g, state, t):
        g = g + weight_decay * w
        state["v"] = alpha * state.get("v", 0) + (1 - alpha) * g * g
        v = state["v"]
        if centered:
            state["g_avg"] = alpha * state.get("g_avg", 0) + (1 - alpha) * g
            v = v - state["g_avg"] ** 2
        if momentum:
            state["b"] = momentum * state.get("b", 0) + g / (np.sqrt(v) + eps)
            return w - lr * state["b"]
        return w - lr * g / (np.sqrt(v) + eps)
    return step


def adagrad_reference(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                      eps=1e-10):
    def step(w, g, state, t):
        g = g + weight_decay * w
        lr_t = lr / (1 + (t - 1) * lr_decay)
        state["sum"] = state.get("sum", initial_accumulator_value) + g * g
        return w - lr_t * g / (np.sqrt(state["sum"]) + eps)
    return step


VARIANTS = {
    "sgd": (SGD, dict(lr=0.05), sgd_reference),
    "sgd_momentum": (SGD, dict(lr=0.05, momentum=0.9), sgd_reference),
    "sgd_dampening": (SGD, dict(lr=0.05, momentum=0.8, dampening=0.3), sgd_reference),
    "sgd_nesterov": (SGD, dict(lr=0.05, momentum=0.9, nesterov=True), sgd_reference),
    "sgd_weight_decay": (SGD, dict(lr=0.05, momentum=0.5, weight_decay=0.1), sgd_reference),
    "adam": (Adam, dict(lr=0.05), adam_reference),
    "adam_betas_weight_decay": (Adam, dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1),
                                adam_reference),
    "adam_amsgrad": (Adam, dict(lr=0.05, amsgrad=True), adam_reference),
    "adamw": (AdamW, dict(lr=0.05, weight_decay=0.1),
              lambda **kw: adam_reference(decoupled=True, **kw)),
    "adamw_amsgrad": (AdamW, dict(lr=0.05, weight_decay=0.1, amsgrad=True),
                      lambda **kw: adam_reference(decoupled=True, **kw)),
    "rmsprop": (RMSprop, dict(lr=0.01), rmsprop_reference),
    "rmsprop_momentum": (RMSprop, dict(lr=0.01, momentum=0.9), rmsprop_reference),
    "rmsprop_centered": (RMSprop, dict(lr=0.01, centered=True, alpha=0.9), rmsprop_reference),
    "rmsprop_all": (RMSprop, dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1),
                    rmsprop_reference),
    "adagrad": (Adagrad, dict(lr=0.1), adagrad_reference),
    "adagrad_all": (Adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                  initial_accumulator_value=0.2, eps=1e-6), adagrad_reference),
}


def _reference_trajectory(reference, kwargs):
    step = reference(**kwargs)
    weights = [w.copy() for w in START]
    states = [{} for _ in START]
    trajectory = []
    for t in range(1, STEPS + 1):
        weights = [step(w, _numpy_grad(i, w), states[i], t) for i, w in enumerate(weights)]
        trajectory.append([w.copy() for w in weights])
    return trajectory


def _fresh_params():
    return [ag.tensor(w, requires_grad=True) for w in START]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_trajectory_follows_the_documented_rule(backend, variant):
    cls, kwargs, reference = VARIANTS[variant]
    params = _fresh_params()
    optimizer = cls(params, **kwargs)
    expected = _reference_trajectory(reference, kwargs)
    for t in range(STEPS):
        optimizer.zero_grad()
        _loss(params).backward()
        optimizer.step()
        for p, w in zip(params, expected[t]):
            np.testing.assert_allclose(p.numpy(), w, rtol=0, atol=1e-10,
                                       err_msg=f"step {t + 1}")
    for p in params:
        assert p.backend.name == backend and p.dtype == "float64" and p.is_leaf


def test_param_groups_have_their_own_hyperparameters_and_lr_changes_apply_next_step(backend):
    params = _fresh_params()
    optimizer = SGD([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]]}], lr=0.01)
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.01]
    _loss(params).backward()
    optimizer.step()
    g0, g1 = _numpy_grad(0, START[0]), _numpy_grad(1, START[1])
    np.testing.assert_allclose(params[0].numpy(), START[0] - 0.1 * g0, atol=1e-12)
    np.testing.assert_allclose(params[1].numpy(), START[1] - 0.01 * g1, atol=1e-12)

    optimizer.param_groups[1]["lr"] = 0.5
    before = params[1].numpy().copy()
    optimizer.zero_grad()
    _loss(params).backward()
    optimizer.step()
    np.testing.assert_allclose(params[1].numpy(), before - 0.5 * _numpy_grad(1, before),
                               atol=1e-12)


def test_zero_grad_to_none_or_zeros_and_parameters_without_grad_are_skipped(backend):
    params = _fresh_params()
    optimizer = Adam(params, lr=0.1)
    (params[0] * 2).sum().backward()
    assert params[1].grad is None
    optimizer.step()
    np.testing.assert_array_equal(params[1].numpy(), START[1])
    assert params[1] not in optimizer.state
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(params[0].grad.numpy(), np.zeros(SHAPES[0]))
    optimizer.zero_grad()
    assert params[0].grad is None


@pytest.mark.parametrize("variant", ["adam", "adam_amsgrad", "adamw"])
def test_adam_counts_steps_per_parameter_when_one_misses_a_gradient(backend, variant):
    """Adam updates a group's parameters together; one that had no gradient in a step has
    a lower step count from then on, and its bias correction must use its own count."""
    cls, kwargs, reference = VARIANTS[variant]
    params = _fresh_params()
    optimizer = cls(params, **kwargs)
    step = reference(**kwargs)
    weights = [w.copy() for w in START]
    states = [{} for _ in START]
    counts = [0, 0]
    for t, trained in enumerate([(0, 1), (0,), (0, 1), (0, 1)]):
        optimizer.zero_grad()
        _loss([params[i] for i in trained] + [params[i].detach() for i in (0, 1)
                                               if i not in trained]).backward()
        optimizer.step()
        for i in trained:
            counts[i] += 1
            weights[i] = step(weights[i], _numpy_grad(i, weights[i]), states[i], counts[i])
        for p, w in zip(params, weights):
            np.testing.assert_allclose(p.numpy(), w, rtol=0, atol=1e-10, err_msg=f"step {t}")
    assert [optimizer.state[p]["step"] for p in params] == [4, 3]


@pytest.mark.parametrize("variant", ["sgd_momentum", "adam_amsgrad", "rmsprop_all",
                                     "adagrad_all"])
def test_state_dict_resumes_the_same_trajectory(backend, variant, tmp_path):
    cls, kwargs, _ = VARIANTS[variant]
    params = _fresh_params()
    optimizer = cls(params, **kwargs)
    for _ in range(5):
        optimizer.zero_grad()
        _loss(params).backward()
        optimizer.step()
    nn.save(optimizer, tmp_path / "opt.safetensors")

    resumed_params = [ag.tensor(p.numpy(), requires_grad=True) for p in params]
    resumed = cls(resumed_params, lr=123.0)
    resumed.load_state_dict(nn.load(tmp_path / "opt.safetensors"))
    assert resumed.param_groups[0]["lr"] == kwargs["lr"]
    for _ in range(5):
        for opt, ps in ((optimizer, params), (resumed, resumed_params)):
            opt.zero_grad()
            _loss(ps).backward()
            opt.step()
    for p, q in zip(params, resumed_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_load_state_dict_refuses_a_different_layout():
    params = _fresh_params()
    saved = SGD(params, lr=0.1).state_dict()
    with pytest.raises(ValueError, match=r"2 parameter\(s\) in the saved state, 1 here"):
        SGD(params[:1], lr=0.1).load_state_dict(saved)


@pytest.mark.parametrize("make", [
    lambda p: SGD(p, lr=-1.0), lambda p: SGD(p, lr=0.1, nesterov=True),
    lambda p: Adam(p, betas=(0.9, 1.0)), lambda p: Adam(p, eps=-1.0),
    lambda p: RMSprop(p, alpha=1.5), lambda p: Adagrad(p, lr_decay=-0.1),
    lambda p: AdamW(p, weight_decay=-0.1),
])
def test_invalid_hyperparameters_are_refused(make):
    with pytest.raises(ValueError):
        make(_fresh_params())


def test_params_must_be_leaves_that_require_grad_and_appear_once():
    w = ag.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="leaf"):
        SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="leaf"):
        SGD([ag.tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        Adam([])


# ------------------------------------------------------------------------------ schedulers
def _two_group_optimizer():
    params = _fresh_params()
    return SGD([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.02}],
               lr=1.0)


def _run_schedule(scheduler, optimizer, epochs):
    seen = [scheduler.get_last_lr()]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        seen.append(scheduler.get_last_lr())
        assert seen[-1] == [g["lr"] for g in optimizer.param_groups]
    return seen


def test_step_lr_matches_its_formula():
    optimizer = _two_group_optimizer()
    seen = _run_schedule(StepLR(optimizer, step_size=3, gamma=0.5), optimizer, 10)
    for epoch, lrs in enumerate(seen):
        np.testing.assert_allclose(lrs, [b * 0.5 ** (epoch // 3) for b in (0.1, 0.02)],
                                   rtol=1e-12)
        assert all(type(lr) is float for lr in lrs)


def test_exponential_lr_matches_its_formula():
    optimizer = _two_group_optimizer()
    seen = _run_schedule(ExponentialLR(optimizer, gamma=0.9), optimizer, 10)
    for epoch, lrs in enumerate(seen):
        np.testing.assert_allclose(lrs, [b * 0.9 ** epoch for b in (0.1, 0.02)], rtol=1e-12)


def test_cosine_annealing_matches_its_formula_past_t_max():
    optimizer = _two_group_optimizer()
    eta_min, t_max = 0.001, 10
    seen = _run_schedule(CosineAnnealingLR(optimizer, T_max=t_max, eta_min=eta_min),
                         optimizer, 35)
    for epoch, lrs in enumerate(seen):
        expected = [eta_min + (b - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2
                    for b in (0.1, 0.02)]
        np.testing.assert_allclose(lrs, expected, rtol=1e-10, atol=1e-15)


def test_schedulers_chain_from_a_changed_lr():
    optimizer = _two_group_optimizer()
    scheduler = ExponentialLR(optimizer, gamma=0.5)
    scheduler.step()
    optimizer.param_groups[0]["lr"] = 1.0
    scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([0.5, 0.02 * 0.25])


def test_scheduler_state_round_trips():
    optimizer = _two_group_optimizer()
    scheduler = StepLR(optimizer, step_size=2)
    for _ in range(3):
        scheduler.step()
    restored = StepLR(_two_group_optimizer(), step_size=5)
    restored.load_state_dict(scheduler.state_dict())
    assert restored.last_epoch == 3 and restored.step_size == 2
    assert restored.get_last_lr() == scheduler.get_last_lr()


# ------------------------------------------------------------------------------ clipping
def test_clip_grad_norm_scales_all_gradients_together(backend):
    params = _fresh_params()
    _loss(params).backward()
    grads = [_numpy_grad(i, w) for i, w in enumerate(START)]
    total = math.sqrt(sum((g ** 2).sum() for g in grads))
    returned = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(returned, ag.Tensor)
    np.testing.assert_allclose(returned.item(), total, rtol=1e-12)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.numpy(), g * (1.0 / (total + 1e-6)), rtol=1e-12)
    # Already within the bound: unchanged.
    before = [p.grad.numpy().copy() for p in params]
    nn.utils.clip_grad_norm_(params, max_norm=10.0)
    for p, g in zip(params, before):
        np.testing.assert_array_equal(p.grad.numpy(), g)


def test_clip_grad_norm_infinity_norm_and_no_gradients(backend):
    params = _fresh_params()
    _loss(params).backward()
    largest = max(np.abs(_numpy_grad(i, w)).max() for i, w in enumerate(START))
    returned = nn.utils.clip_grad_norm_(params, 0.5, norm_type=math.inf)
    np.testing.assert_allclose(returned.item(), largest, rtol=1e-12)
    assert max(np.abs(p.grad.numpy()).max() for p in params) <= 0.5
    assert nn.utils.clip_grad_norm_(_fresh_params(), 1.0).item() == 0.0


def test_clip_grad_value(backend):
    params = _fresh_params()
    _loss(params).backward()
    nn.utils.clip_grad_value_(params, 0.3)
    for i, (p, w) in enumerate(zip(params, START)):
        np.testing.assert_allclose(p.grad.numpy(), np.clip(_numpy_grad(i, w), -0.3, 0.3),
                                   rtol=1e-12)
