"""Optimisers and schedulers refuse NaN, infinities and non-numbers for every
hyperparameter, with an error naming it, instead of quietly filling the weights with NaN."""

import math

import pytest

import autograd as ag
from nn.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from nn.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, StepLR

NUMBERS = {
    SGD: ["lr", "momentum", "dampening", "weight_decay"],
    Adam: ["lr", "eps", "weight_decay"],
    AdamW: ["lr", "eps", "weight_decay"],
    RMSprop: ["lr", "alpha", "eps", "weight_decay", "momentum"],
    Adagrad: ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"],
}
FLAGS = {SGD: ["nesterov"], Adam: ["amsgrad"], AdamW: ["amsgrad"], RMSprop: ["centered"]}
CASES = [(cls, name) for cls, names in NUMBERS.items() for name in names]


def _params():
    return [ag.tensor([1.0, 2.0], requires_grad=True)]


def _make(cls, **overrides):
    if cls is SGD:
        overrides.setdefault("lr", 0.1)
    return cls(_params(), **overrides)


@pytest.mark.parametrize("cls, name", CASES, ids=[f"{c.__name__}-{n}" for c, n in CASES])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_naming_the_hyperparameter(cls, name, value):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: {name} must be a finite number"):
        _make(cls, **{name: value})


@pytest.mark.parametrize("cls, name", CASES, ids=[f"{c.__name__}-{n}" for c, n in CASES])
@pytest.mark.parametrize("value", ["0.1", None, True, [0.1]])
def test_non_numbers_are_refused_naming_the_hyperparameter(cls, name, value):
    with pytest.raises(TypeError, match=rf"{cls.__name__}: {name} must be a number"):
        _make(cls, **{name: value})


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("betas, error", [
    ((0.9, math.nan), ValueError), ((math.inf, 0.9), ValueError), (0.9, TypeError),
    ((0.9,), TypeError), (("0.9", 0.99), TypeError),
])
def test_betas_must_be_two_finite_numbers(cls, betas, error):
    with pytest.raises(error, match=rf"{cls.__name__}: betas"):
        _make(cls, betas=betas)


@pytest.mark.parametrize("cls, name", [(c, n) for c, names in FLAGS.items() for n in names])
def test_flags_must_be_booleans(cls, name):
    with pytest.raises(TypeError, match=rf"{cls.__name__}: {name} must be True or False"):
        _make(cls, **{name: "yes"})


def test_a_parameter_group_is_checked_as_the_defaults_are():
    with pytest.raises(ValueError, match="SGD: lr must be a finite number, got nan"):
        SGD([{"params": _params(), "lr": math.nan}], lr=0.1)
    with pytest.raises(TypeError, match="Adam: betas must be a pair of numbers"):
        Adam([{"params": _params(), "betas": 0.9}])
    optimizer = Adam([{"params": _params(), "lr": 0.5}], lr=0.1)
    assert optimizer.param_groups[0]["lr"] == 0.5


@pytest.mark.parametrize("make, name, error", [
    (lambda o: StepLR(o, 2, gamma=math.nan), "gamma", ValueError),
    (lambda o: StepLR(o, 2, gamma="0.5"), "gamma", TypeError),
    (lambda o: StepLR(o, 2.0), "step_size", TypeError),
    (lambda o: StepLR(o, True), "step_size", TypeError),
    (lambda o: ExponentialLR(o, math.inf), "gamma", ValueError),
    (lambda o: ExponentialLR(o, None), "gamma", TypeError),
    (lambda o: CosineAnnealingLR(o, math.inf), "T_max", ValueError),
    (lambda o: CosineAnnealingLR(o, math.nan), "T_max", ValueError),
    (lambda o: CosineAnnealingLR(o, "10"), "T_max", TypeError),
    (lambda o: CosineAnnealingLR(o, 10, eta_min=math.nan), "eta_min", ValueError),
])
def test_schedulers_refuse_nan_inf_and_non_numbers(make, name, error):
    with pytest.raises(error, match=name):
        make(SGD(_params(), lr=0.1))
