"""Fused elementwise kernels for the Numba backend.

`fuse_elementwise(run)` turns a run of elementwise steps (an `ElementwiseRun` from
`autograd.jit`: input shapes and dtypes, steps as backend primitive names over inputs,
earlier steps and Python scalars, and the steps to return) into one generated
`@njit(parallel=True)` loop: each input is read once and only the returned values are
written, instead of one pass over memory per op.

Inputs may broadcast to the run's shape in the two ways models need: a single element
(a scalar or bias of size 1), or the trailing axes (a bias row against a batch, looped as
rows times a contiguous inner axis). Any other layout, or a run too small for a parallel
launch to pay off, returns None and the caller runs the steps one by one.

Arithmetic follows NumPy's types: a Python scalar takes its array operand's dtype (as NumPy
does with a weak scalar), each step's result is converted to the dtype the traced op gave,
and `error_model="numpy"` makes a division by zero give inf or nan instead of raising.
"""

import functools
import math

import numba
import numpy

# Below this many elements a parallel launch costs more than the passes it saves: measured
# on a two-core machine, a fused 6-op chain beats NumPy's per-op loops 3x from 2**12
# elements on, and loses at 2**11.
MIN_FUSED_SIZE = 1 << 12

_EXPRESSIONS = {
    "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}",
    "neg": "-{0}", "abs": "abs({0})", "sqrt": "np.sqrt({0})", "sign": "np.sign({0})",
    # Numba's scalar np.maximum / np.minimum propagate NaN from either side, as NumPy's do.
    "maximum": "np.maximum({0}, {1})", "minimum": "np.minimum({0}, {1})",
    "where": "{1} if {0} else {2}", "astype": "{0}",
    "lt": "{0} < {1}", "le": "{0} <= {1}", "gt": "{0} > {1}", "ge": "{0} >= {1}",
    "eq": "{0} == {1}", "ne": "{0} != {1}",
}
_COMPARISONS = {"lt", "le", "gt", "ge", "eq", "ne"}
_DTYPES = {"float32", "float64", "int32", "int64", "bool"}


def fuse_elementwise(run):
    """A kernel computing `run` in one pass, or None when this run should not be fused."""
    size = math.prod(run.shape)
    if size < MIN_FUSED_SIZE or any(d not in _DTYPES for d in _dtypes(run)):
        return None
    if any(primitive not in _EXPRESSIONS for primitive, _, _ in run.steps):
        return None
    layouts = [_layout(shape, run.shape) for shape, _ in run.inputs]
    if None in layouts:
        return None
    inner = {math.prod(shape) for (shape, _), layout in zip(run.inputs, layouts)
             if layout == "row"}
    if len(inner) > 1:
        return None
    inner = inner.pop() if inner else 1
    source, scalars = _kernel_source(run, layouts)
    kernel = _compile(source)
    out_dtypes = [run.steps[j][2] for j in run.outputs]
    shape = run.shape

    def launch(*arrays):
        flat = [numpy.ascontiguousarray(a).reshape(-1) for a in arrays]
        outs = [numpy.empty(size, dtype=d) for d in out_dtypes]
        kernel(size, inner, *flat, *scalars, *outs)
        return tuple(o.reshape(shape) for o in outs)

    return launch


def _dtypes(run):
    return [d for _, d in run.inputs] + [d for _, _, d in run.steps]


def _layout(shape, run_shape):
    """How an input of `shape` is indexed in a loop over `run_shape`: "full" (flat index),
    "one" (its single element), "row" (the trailing axes), or None (not supported)."""
    size = math.prod(shape)
    if tuple(shape) == tuple(run_shape) or size == math.prod(run_shape):
        return "full" if _broadcasts(shape, run_shape) else None
    if size == 1:
        return "one"
    trailing = tuple(shape)
    while trailing and trailing[0] == 1:
        trailing = trailing[1:]
    if trailing == tuple(run_shape[len(run_shape) - len(trailing):]):
        return "row"
    return None


def _broadcasts(shape, run_shape):
    if len(shape) > len(run_shape):
        return False
    offset = len(run_shape) - len(shape)
    return all(n in (1, run_shape[offset + i]) for i, n in enumerate(shape))


def _kernel_source(run, layouts):
    """The kernel's Python source, and the scalar arguments it takes after the arrays.

    Source depends only on the structure of the run, never on values (scalars are
    arguments), so runs that differ in shapes or constants share one compiled kernel."""
    operand_dtypes = [d for _, d in run.inputs]
    step_dtypes = [d for _, _, d in run.steps]
    scalars = []
    body = []
    loads = []
    for k, layout in enumerate(layouts):
        index = {"full": "i", "one": "0", "row": "c"}[layout]
        if layout == "one":
            loads.append(f"    x{k} = in{k}[0]")
        else:
            body.append(f"x{k} = in{k}[{index}]")

    def value_dtype(operand):
        kind, value = operand
        return operand_dtypes[value] if kind == "input" else step_dtypes[value]

    for j, (primitive, operands, dtype) in enumerate(run.steps):
        arrays = [o for o in operands if o[0] != "scalar"]
        names = []
        for kind, value in operands:
            if kind == "input":
                names.append(f"x{value}")
            elif kind == "step":
                names.append(f"t{value}")
            else:
                scalar_dtype = _scalar_dtype(primitive, value, dtype,
                                             [value_dtype(a) for a in arrays])
                scalars.append(numpy.dtype(scalar_dtype).type(value))
                names.append(f"s{len(scalars) - 1}")
        expression = _EXPRESSIONS[primitive].format(*names)
        if dtype != "bool" or primitive == "astype":
            expression = f"{_constructor(dtype)}({expression})"
        body.append(f"t{j} = {expression}")
    for position, j in enumerate(run.outputs):
        body.append(f"out{position}[i] = t{j}")

    arguments = ([f"in{k}" for k in range(len(layouts))]
                 + [f"s{k}" for k in range(len(scalars))]
                 + [f"out{k}" for k in range(len(run.outputs))])
    lines = [f"def kernel(size, inner, {', '.join(arguments)}):"] + loads
    if "row" in layouts:
        lines += ["    for r in prange(size // inner):",
                  "        for c in range(inner):",
                  "            i = r * inner + c"]
        lines += [f"            {line}" for line in body]
    else:
        lines += ["    for i in prange(size):"]
        lines += [f"        {line}" for line in body]
    return "\n".join(lines) + "\n", scalars


def _scalar_dtype(primitive, value, step_dtype, array_dtypes):
    """The dtype NumPy gives a Python scalar next to arrays: the array's, unless a float
    meets an integer or bool array (then float64)."""
    if primitive not in _COMPARISONS or not array_dtypes:
        return step_dtype
    other = array_dtypes[0]
    if isinstance(value, float) and not other.startswith("float"):
        return "float64"
    if isinstance(value, int) and not isinstance(value, bool) and other == "bool":
        return "int64"
    return other


def _constructor(dtype):
    return "bool" if dtype == "bool" else f"np.{dtype}"


@functools.lru_cache(maxsize=None)
def _compile(source):
    namespace = {"np": numpy, "prange": numba.prange}
    exec(compile(source, "<fused elementwise kernel>", "exec"), namespace)
    return numba.njit(parallel=True, error_model="numpy")(namespace["kernel"])
