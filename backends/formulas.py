"""The fused formulas, each written once: sigmoid, the activation backwards and the optimiser
updates, as functions of one element's values.

They are written in a small subset of Python (arithmetic, comparisons, `a if c else b` on a
hyperparameter, and NumPy's `exp`, `sqrt`, `maximum`), so that one text serves every
backend:
- on NumPy (or CuPy) arrays, the function runs as it is, elementwise;
- `ufuncs.<name>` is the elementwise formula compiled by Numba into a NumPy ufunc (one call,
  one pass), which the NumPy backend and the Numba backend's small arrays use;
- the Numba backend's parallel loops (`numba_kernels`) call the formulas inlined;
- `cuda_source(formula)` translates one into the C body of a `cupy.ElementwiseKernel`.

The updates take their hyperparameters already combined (`*_constants`), so that each kernel
does the least arithmetic per element; a formula returns the new values of the arrays it
updates, in the order of its `updates` list. The base Backend's composed methods stay the
independent reference the conformance tests check these against.
"""

import ast
import functools
import inspect
import math
import os
import re
import types

from numpy import dtype, exp, maximum, sqrt


# ------------------------------------------------------------------------ activations
def sigmoid(x):
    # Only ever exp of a non-positive number: finite and exact at both ends.
    return sigmoid_from_exp(x, exp(-abs(x)))


def sigmoid_from_exp(x, e):
    """Sigmoid of `x` given e = exp(-|x|), in (0, 1] (a backend may compute the exp apart).
    The numerator is 1 for x >= 0 and e below, selected by arithmetic on the comparisons so
    that the same text runs on arrays and on numbers."""
    return ((x >= 0) + (x < 0) * e) / (1.0 + e)


def relu_backward(grad, y):
    return grad * (y > 0)


def tanh_backward(grad, y):
    return grad * (1 - y * y)


def sigmoid_backward(grad, y):
    return grad * (y * (1 - y))


def erf(x):
    """Not a fused formula, but NumPy has no loop for erf: compiled into a ufunc like them."""
    return math.erf(x)


# ------------------------------------------------------------------------ optimiser updates
def sgd(param, grad, neg_lr, weight_decay):
    g = grad + param * weight_decay if weight_decay != 0 else grad
    return param + g * neg_lr


def sgd_momentum(param, grad, buf, neg_lr, weight_decay, momentum, keep, nesterov,
                 first_step):
    g = grad + param * weight_decay if weight_decay != 0 else grad
    b = g if first_step else buf * momentum + g * keep
    step = g + b * momentum if nesterov else b
    return param + step * neg_lr, b


def adam(param, grad, exp_avg, exp_avg_sq, beta1, keep1, beta2, keep2, eps, weight_decay,
         decay, sqrt_bias2, step_size):
    p = param * decay if decay != 1 else param
    g = grad + p * weight_decay if weight_decay != 0 else grad
    m = exp_avg * beta1 + g * keep1
    v = exp_avg_sq * beta2 + g * g * keep2
    return p + m / (sqrt(v) / sqrt_bias2 + eps) * step_size, m, v


def amsgrad(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, keep1, beta2, keep2, eps,
            weight_decay, decay, sqrt_bias2, step_size):
    p = param * decay if decay != 1 else param
    g = grad + p * weight_decay if weight_decay != 0 else grad
    m = exp_avg * beta1 + g * keep1
    v = exp_avg_sq * beta2 + g * g * keep2
    v_max = maximum(max_exp_avg_sq, v)
    return p + m / (sqrt(v_max) / sqrt_bias2 + eps) * step_size, m, v, v_max


def rmsprop(param, grad, square_avg, neg_lr, alpha, keep, eps, weight_decay):
    g = grad + param * weight_decay if weight_decay != 0 else grad
    sq = square_avg * alpha + g * g * keep
    return param + g / (sqrt(sq) + eps) * neg_lr, sq


def rmsprop_centered_momentum(param, grad, square_avg, grad_avg, buf, neg_lr, alpha, keep, eps,
                              weight_decay, momentum, centered):
    """RMSprop with momentum, or centered, or both; without momentum `buf` is not read (the
    step is g / avg), nor `grad_avg` when not centered."""
    g = grad + param * weight_decay if weight_decay != 0 else grad
    sq = square_avg * alpha + g * g * keep
    ga = grad_avg * alpha + g * keep if centered else grad_avg
    avg = sqrt(sq - ga * ga) + eps if centered else sqrt(sq) + eps
    b = buf * momentum + g / avg if momentum != 0 else g / avg
    return param + b * neg_lr, sq, ga, b


def adagrad(param, grad, state_sum, neg_clr, weight_decay, eps):
    g = grad + param * weight_decay if weight_decay != 0 else grad
    s = state_sum + g * g
    return param + g / (sqrt(s) + eps) * neg_clr, s


# The arrays each update reads and writes, in the order its result gives them.
UPDATES = {sgd: ("param",), sgd_momentum: ("param", "buf"),
           adam: ("param", "exp_avg", "exp_avg_sq"),
           amsgrad: ("param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
           rmsprop: ("param", "square_avg"),
           rmsprop_centered_momentum: ("param", "square_avg", "grad_avg", "buf"),
           adagrad: ("param", "state_sum")}
# The updates' flags: booleans, not numbers of the arrays' dtype.
FLAGS = {"nesterov", "first_step", "centered"}
ELEMENTWISE = (sigmoid, relu_backward, tanh_backward, sigmoid_backward, erf)


# ------------------------------------------------------------------------ constant folding
def sgd_constants(lr, weight_decay, momentum=0.0, dampening=0.0):
    return {"neg_lr": -lr, "weight_decay": weight_decay, "momentum": momentum,
            "keep": 1 - dampening}


def adam_constants(step, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay):
    decoupled = bool(weight_decay) and decoupled_weight_decay
    return {"beta1": beta1, "keep1": 1 - beta1, "beta2": beta2, "keep2": 1 - beta2,
            "eps": eps, "weight_decay": 0 if decoupled else weight_decay,
            "decay": 1 - lr * weight_decay if decoupled else 1,
            "sqrt_bias2": math.sqrt(1 - beta2 ** step), "step_size": -lr / (1 - beta1 ** step)}


def rmsprop_constants(lr, alpha, eps, weight_decay, momentum=0.0):
    return {"neg_lr": -lr, "alpha": alpha, "keep": 1 - alpha, "eps": eps,
            "weight_decay": weight_decay, "momentum": momentum}


def adagrad_constants(step, lr, lr_decay, weight_decay, eps):
    return {"neg_clr": -lr / (1 + (step - 1) * lr_decay), "weight_decay": weight_decay,
            "eps": eps}


@functools.cache
def parameters(formula):
    """`formula`'s parameter names, in order (looked up once: updates run every step)."""
    return tuple(inspect.signature(formula).parameters)


def arguments(formula, values):
    """`formula`'s arguments, in order, from a dict of named values."""
    return [values[name] for name in parameters(formula)]


def constants_in_order(formula, constants):
    """The values of `constants` that `formula` takes, in its order."""
    return [constants[name] for name in parameters(formula) if name in constants]


# ------------------------------------------------------------------------ NumPy ufuncs
# The dtypes the ufuncs are compiled for: any other would be cast to one of them, and the
# result would have the wrong dtype. NumPy's native float32 and float64 dtypes are single
# objects, so `dtype in` this tuple is an identity test: the cheapest check an op can make.
COMPILED_DTYPES = (dtype("float32"), dtype("float64"))


class _Ufuncs:
    """Each elementwise formula as a NumPy ufunc, compiled by Numba when first asked for
    (and cached on disk), so importing this module neither imports Numba nor compiles.
    After that the ufunc is an ordinary attribute: a call costs what a NumPy ufunc call
    costs. Without Numba, the formula itself runs on the arrays."""

    def __getattr__(self, name):
        formula = next((f for f in ELEMENTWISE if f.__name__ == name), None)
        if formula is None:
            raise AttributeError(f"backends.formulas has no elementwise formula {name!r}")
        try:
            import numba

            from . import numba_cache
        except ImportError:
            compiled = _vectorized_erf if formula is erf else formula
        else:
            numba_cache.configure(os.path.dirname(os.path.abspath(__file__)))
            arity = len(inspect.signature(formula).parameters)
            signatures = [f"{t}({', '.join([t] * arity)})" for t in ("float32", "float64")]
            # The formulas a formula calls are compiled too, for Numba to call them.
            called = {name: numba.njit(inline="always")(globals()[name]) for name in _INLINED}
            formula = types.FunctionType(formula.__code__, dict(globals(), **called),
                                         formula.__name__)
            # `.ufunc` is the plain NumPy ufunc inside Numba's wrapper, whose Python-level
            # dispatch costs about half a microsecond a call.
            compiled = numba.vectorize(signatures, cache=True)(formula).ufunc
        setattr(self, name, compiled)
        return compiled


ufuncs = _Ufuncs()


def _vectorized_erf(x):
    import numpy

    values = numpy.asarray(x)
    return numpy.vectorize(math.erf, otypes=[values.dtype])(values)


# ------------------------------------------------------------------------ CUDA source
_C_FUNCTIONS = {"exp": "exp", "sqrt": "sqrt", "abs": "fabs"}
_C_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Gt: ">",
                ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!=",
                ast.USub: "-"}


def cuda_source(formula, outputs):
    """The C body of a `cupy.ElementwiseKernel` computing `formula`, whose values are named
    as its arguments (of the kernel's type `T`), the result going to `outputs` (one name, or
    the arrays an update writes, which the kernel declares as its outputs)."""
    function = ast.parse(inspect.getsource(formula)).body[0]
    lines = []
    for statement in function.body:
        if isinstance(statement, ast.Expr):  # the docstring
            continue
        if isinstance(statement, ast.Assign):
            name = statement.targets[0].id
            lines.append(f"T {name} = {_c_expression(statement.value)};")
        elif isinstance(statement, ast.Return):
            values = (statement.value.elts if isinstance(statement.value, ast.Tuple)
                      else [statement.value])
            # Every result first, then the outputs: an output may be an input read above.
            for k, value in enumerate(values):
                lines.append(f"T result_{k} = {_c_expression(value)};")
            lines += [f"{out} = result_{k};" for k, out in enumerate(outputs)]
    return "\n".join(lines)


_INLINED = {"sigmoid_from_exp"}


def _inlined(formula, args):
    """A one-line formula called from another, as a C expression of the caller's values."""
    function = ast.parse(inspect.getsource(formula)).body[0]
    (returned,) = [s for s in function.body if isinstance(s, ast.Return)]
    names = [a.arg for a in function.args.args]
    expression = _c_expression(returned.value)
    for name, value in zip(names, args):
        expression = re.sub(rf"\b{name}\b", f"({value})", expression)
    return expression


def _c_expression(node):
    if isinstance(node, ast.BinOp):
        return f"({_c_expression(node.left)} {_C_OPERATORS[type(node.op)]} " \
               f"{_c_expression(node.right)})"
    if isinstance(node, ast.UnaryOp):
        return f"({_C_OPERATORS[type(node.op)]}{_c_expression(node.operand)})"
    if isinstance(node, ast.Compare):
        return f"({_c_expression(node.left)} {_C_OPERATORS[type(node.ops[0])]} " \
               f"{_c_expression(node.comparators[0])})"
    if isinstance(node, ast.IfExp):
        return f"({_c_expression(node.test)} ? {_c_expression(node.body)} : " \
               f"{_c_expression(node.orelse)})"
    if isinstance(node, ast.Call):
        name = node.func.id
        args = [_c_expression(a) for a in node.args]
        if name in _INLINED:
            return _inlined(globals()[name], args)
        if name == "where":
            return f"({args[0]} ? (T)({args[1]}) : (T)({args[2]}))"
        if name == "maximum":  # NumPy's: NaN on either side wins
            a, b = args
            return f"(({a} >= {b} || {a} != {a}) ? {a} : {b})"
        return f"{_C_FUNCTIONS[name]}({', '.join(args)})"
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return f"(T){node.value!r}" if not isinstance(node.value, bool) else str(node.value).lower()
    raise ValueError(f"cuda_source: {ast.dump(node)} is outside the formulas' subset")
