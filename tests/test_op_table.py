"""The op table against what it is derived into and checked by: every op's backend
primitive exists on the Backend interface, every op is run by a row of the op tests (its
forward, its backward and its backward's backward), every public name it declares is a
Tensor method and an `autograd` function, and the jit's tables come from it."""

import os
import subprocess
import sys

import numpy as np
import pytest
import test_autograd_linalg
import test_autograd_ops

import autograd as ag
import backends
from autograd import graph
from autograd.jit import fusion, onnx_export
from autograd.jit.ops import DIRECT_PRIMITIVE, FUNCTIONS
from autograd.op import COMPOSED, OPS


class _OpRecorder:
    """A stand-in tracer that notes the class of every op applied."""

    def __init__(self):
        self.seen = set()

    def record(self, op, args, result):
        self.seen.add(op.__name__)

    def record_primitive(self, name, args, result):
        pass

    def read_value(self, tensor, how):
        pass


def _exercise(fn, arrays):
    """Run `fn` forward, backward with create_graph, and backward again."""
    inputs = [ag.tensor(a, requires_grad=np.issubdtype(np.asarray(a).dtype, np.floating))
              for a in arrays]
    out = fn(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    total = sum((o * o).sum() for o in outs if o.dtype.is_floating and o.requires_grad)
    wanted = [t for t in inputs if t.requires_grad]
    if not isinstance(total, ag.Tensor) or not wanted:
        return
    grads = ag.grad(total, wanted, create_graph=True, allow_unused=True)
    second = sum((g * g).sum() for g in grads if g is not None and g.requires_grad)
    if isinstance(second, ag.Tensor):
        ag.grad(second, wanted, allow_unused=True)


def _ops_the_tests_run():
    recorder = _OpRecorder()
    graph.start_trace(recorder)
    try:
        for row in test_autograd_ops.ROWS:
            shapes = row.shapes[0]
            _exercise(row.fn, row.inputs(shapes))
        for name, fn, _, make, shape in test_autograd_linalg._rows():
            data = make(np.random.default_rng(0), *shape)
            _exercise(fn, [data])
        for order, axis, keepdims in test_autograd_linalg.NORM_CASES:
            _exercise(lambda x: ag.linalg.norm(x, order, axis, keepdims),
                      [test_autograd_linalg.VECTOR])
    finally:
        graph.stop_trace()
    return recorder.seen


def test_every_op_is_run_by_an_op_test_row_forward_and_backward():
    missing = sorted(set(OPS) - _ops_the_tests_run())
    assert not missing, f"ops without a row in the op tests: {missing}"


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.primitive))
def test_every_primitive_an_op_calls_is_on_the_backend_interface(name):
    primitive = OPS[name].primitive
    assert callable(getattr(backends.Backend, primitive, None)), (
        f"{name} calls the primitive {primitive!r}, which backends.Backend does not declare")


def test_every_public_name_of_the_table_is_exported():
    for name, op in OPS.items():
        if op.method is not None:
            assert callable(getattr(ag.Tensor, op.method, None)), (name, op.method)
            assert callable(getattr(ag, op.method, None)), (name, op.method)
            assert op.method in ag.__all__
        if op.function is not None:
            assert callable(getattr(ag, op.function, None)), (name, op.function)
            assert op.function in ag.__all__
        if op.operator is not None:
            assert callable(getattr(ag.Tensor, op.operator, None)), (name, op.operator)
    for name in COMPOSED:
        assert callable(getattr(ag.Tensor, name)) and callable(getattr(ag, name)), name


def test_the_public_functions_have_their_names_and_docs():
    assert ag.exp.__name__ == "exp" and ag.sum.__doc__
    assert "axis" in str(__import__("inspect").signature(ag.sum))


def test_the_jit_tables_are_derived_from_the_op_table():
    assert set(FUNCTIONS) == set(OPS) - {"ToBackend"}
    assert {op.__name__ for op in DIRECT_PRIMITIVE} == {n for n, op in FUNCTIONS.items()
                                                         if op.direct}
    assert set(fusion._ELEMENTWISE) == {n for n, op in FUNCTIONS.items() if op.fusable}
    for name, node in onnx_export._ONE_NODE.items():
        assert node == FUNCTIONS[name].onnx


def test_importing_autograd_on_the_numpy_backend_imports_no_numba():
    code = ("import sys, autograd; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite')))")
    env = dict(os.environ, AUTOGRAD_BACKEND="numpy")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.stdout.strip() == "[]"
