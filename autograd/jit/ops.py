"""The fixed table of ops a program may hold, by name.

A saved program names its ops, and loading looks every name up here and refuses any other,
so a file can never choose what code runs. The table is autograd's own `Function`s (those of
`autograd.ops`) plus the backend primitives that have no gradient (`primitive_op`).
"""

from ..function import Function
from ..ops import composite, elementwise, index, linalg, reduce, shape


def _functions_of(*modules):
    found = {}
    for module in modules:
        for name, value in vars(module).items():
            if (isinstance(value, type) and issubclass(value, Function)
                    and value.__module__ == module.__name__ and not name.startswith("_")):
                found[name] = value
    return found


# ToBackend is left out: a program runs on one backend.
FUNCTIONS = {name: fn for name, fn in
             _functions_of(elementwise, reduce, shape, index, linalg, composite).items()
             if name != "ToBackend"}

# Backend primitives recorded by `autograd.function.primitive_op` (no gradient), and
# "detach": a traced value used again as a constant (`t.detach()`).
PRIMITIVES = frozenset({"lt", "le", "gt", "ge", "eq", "ne", "sign", "argmax", "argmin",
                        "where", "astype"})
DETACH = "detach"

# Ops whose forward is exactly one backend primitive on the same arguments. Replay without
# a graph calls that primitive directly, skipping the forward's frame and its context.
DIRECT_PRIMITIVE = {FUNCTIONS[name]: primitive for name, primitive in {
    "Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "pow", "Neg": "neg",
    "Exp": "exp", "Log": "log", "Log1p": "log1p", "Sqrt": "sqrt", "Sin": "sin", "Cos": "cos",
    "Erf": "erf", "Abs": "abs", "Tanh": "tanh", "Sigmoid": "sigmoid", "Relu": "relu",
    "Maximum": "maximum", "Minimum": "minimum", "Where": "where", "AsType": "astype",
    "MatMul": "matmul", "Transpose": "transpose", "Reshape": "reshape",
    "BroadcastTo": "broadcast_to", "Softmax": "softmax", "LogSoftmax": "log_softmax",
    "TanhBackward": "tanh_backward", "SigmoidBackward": "sigmoid_backward",
    "ReluBackward": "relu_backward",
}.items()}


def builtin(name, fn):
    """Whether the instruction `name` (run by `fn`, None for a primitive) is in the table."""
    if fn is None:
        return name in PRIMITIVES or name == DETACH
    return FUNCTIONS.get(name) is fn
