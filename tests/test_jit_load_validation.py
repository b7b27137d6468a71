"""jit.load checks a program's every slot against its op before accepting it: a forged
file whose checksum was recomputed is refused at load, never run."""

import numpy as np
import pytest
from test_jit_serialization import _rewrite_program

import autograd as ag
import autograd.jit as jit


@pytest.fixture
def saved(tmp_path):
    ag.manual_seed(0)
    w = ag.randn(3, 4, requires_grad=True)

    def model(x):
        return (x.broadcast_to((5, 3)) @ w).tanh().sum(axis=1)

    traced = jit.trace(model, ag.randn(3))
    path = tmp_path / "model.pgp"
    traced.save(path)
    return traced, path


def _broadcast_to(size, declare):
    def edit(program):
        program["instructions"][0][1][1] = {"tuple": [size, 3]}
        if declare:  # every later slot made consistent with the forged size
            for slot in (1, 3, 4):
                program["slots"][slot][1][0] = size
            program["slots"][5][1] = [size]
    return edit


def test_an_untouched_program_still_loads_and_runs(saved):
    traced, path = saved
    loaded = jit.load(path)
    x = ag.randn(3)
    with ag.no_grad():
        np.testing.assert_allclose(loaded(x).numpy(), traced(x).numpy(), rtol=1e-6)


def test_a_forged_broadcast_to_10_to_the_17_elements_is_refused_at_load(saved):
    _, path = saved
    _rewrite_program(path, _broadcast_to(10 ** 17, declare=True))
    with pytest.raises(ValueError, match=r"jit.load: .*slot 1 \(float32\[100000000000000000, "
                                         r"3\]\) would hold"):
        jit.load(path)


def test_an_op_that_does_not_produce_its_declared_slot_is_refused(saved):
    _, path = saved
    _rewrite_program(path, _broadcast_to(10 ** 6, declare=False))
    with pytest.raises(ValueError, match=r"BroadcastTo gives float32\[1000000, 3\] for slot 1, "
                                         r"which the program declares float32\[5, 3\]"):
        jit.load(path)


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["slots"][3].__setitem__(2, "float64"),
     r"MatMul gives float32\[5, 4\] for slot 3, which the program declares float64\[5, 4\]"),
    (lambda p: p["slots"][5].__setitem__(1, [4]),
     r"Sum gives float32\[5\] for slot 5, which the program declares float32\[4\]"),
    (lambda p: p["instructions"][3][1].__setitem__(1, {"tuple": [7]}), r"Sum|axis"),
    (lambda p: p["instructions"][1][1].reverse(), r"MatMul|matmul|shape"),
])
def test_every_slot_is_checked_against_its_op(saved, edit, message):
    _, path = saved
    _rewrite_program(path, edit)
    with pytest.raises(ValueError, match=message) as caught:
        jit.load(path)
    assert "jit.load" in str(caught.value)
