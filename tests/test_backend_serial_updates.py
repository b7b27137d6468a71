"""Parameters on the NumPy backend, and small ones on the Numba backend, are updated by one
serial compiled loop (the parallel kernel's formula compiled without `parallel`), and the
result is the formula's run on NumPy's arrays (the code the CuPy backend runs). On the Numba
backend, Adam updates a group of small parameters in one compiled call."""

import numpy as np
import pytest

import autograd as ag
import backends
import nn
from backends.array_namespace import ArrayNamespaceBackend
from backends.numpy_backend import NumpyBackend

numba_state = backends.available().get("numba")
CPU_BACKENDS = ["numpy", pytest.param("numba", marks=pytest.mark.skipif(
    numba_state is not True, reason=f"numba: {numba_state}"))]
UPDATES = ("sgd_step_", "adam_step_", "rmsprop_step_", "adagrad_step_")

OPTIMIZERS = {
    "sgd": lambda p: nn.optim.SGD(p, lr=0.1),
    "sgd-nesterov": lambda p: nn.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                           weight_decay=0.01),
    "adam": lambda p: nn.optim.Adam(p, lr=0.01),
    "adam-amsgrad": lambda p: nn.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": lambda p: nn.optim.AdamW(p, lr=0.01),
    "rmsprop-centered": lambda p: nn.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: nn.optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.1),
}


def _trained(backend, make_optimizer, dtype):
    param = nn.Parameter(ag.tensor(np.linspace(-1, 1, 12).reshape(3, 4), dtype=dtype,
                                   backend=backend))
    optimizer = make_optimizer([param])
    for step in range(4):
        optimizer.zero_grad()
        ((param * param).sum() * (step + 1) + param.sin().sum()).backward()
        optimizer.step()
    return param.numpy()


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_updates_run_the_serial_loop_and_match_the_formula(backend, name, dtype, monkeypatch):
    from backends import numba_serial

    calls = []
    for loop in ("sgd_step", "adam_step", "rmsprop_step", "adagrad_step"):
        compiled = getattr(numba_serial, loop)
        monkeypatch.setattr(numba_serial, loop,
                            lambda *args, _compiled=compiled, _name=loop:
                            calls.append(_name) or _compiled(*args))
    got = _trained(backend, OPTIMIZERS[name], dtype)
    assert calls and set(calls) == {name.split("-")[0].replace("adamw", "adam") + "_step"}

    calls.clear()
    for update in UPDATES:  # the formula on arrays, for both CPU backends
        monkeypatch.setattr(NumpyBackend, update, getattr(ArrayNamespaceBackend, update))
    expected = _trained(backend, OPTIMIZERS[name], dtype)
    assert calls == []
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def test_the_serial_copies_are_cached_under_their_own_names():
    from backends import numba_kernels, numba_serial

    assert numba_serial.adam_step.py_func.__qualname__ == "adam_step_serial"
    assert numba_serial.adam_step.py_func.__code__ is numba_kernels.adam_step.py_func.__code__
    assert not numba_serial.adam_step.targetoptions.get("parallel")


@pytest.mark.skipif(numba_state is not True, reason=f"numba: {numba_state}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_a_group_of_small_parameters_is_one_compiled_adam_call(dtype, amsgrad, monkeypatch):
    from backends import numba_kernels

    calls = []
    fused = numba_kernels.adam_steps
    monkeypatch.setattr(numba_kernels, "adam_steps",
                        lambda *args: calls.append(len(args[0])) or fused(*args))

    def trained(backend):
        rng = np.random.default_rng(3)
        params = [nn.Parameter(ag.tensor(rng.standard_normal(shape), dtype=dtype,
                                         backend=backend))
                  for shape in [(3, 4), (4,), (2, 2, 2), (1,)]]
        optimizer = nn.optim.Adam(params, lr=0.01, weight_decay=0.1, amsgrad=amsgrad)
        for step in range(3):
            optimizer.zero_grad()
            sum(((p * p).sum() * (step + 1) + p.sin().sum() for p in params)).backward()
            optimizer.step()
        return [p.numpy() for p in params]

    got = trained("numba")
    assert calls == [4, 4, 4]
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for mine, theirs in zip(got, trained("numpy")):
        np.testing.assert_allclose(mine, theirs, rtol=tolerance, atol=tolerance)
