"""The fixed table of ops a program may hold, by name.

A saved program names its ops, and loading looks every name up here and refuses any other,
so a file can never choose what code runs. The table is autograd's op table (`OPS`), plus the
backend primitives that have no gradient (`primitive_op`).
"""

from ..op import OPS

# ToBackend is left out: a program runs on one backend.
FUNCTIONS = {name: op for name, op in OPS.items() if name != "ToBackend"}

# Backend primitives recorded by `autograd.function.primitive_op` (no gradient), and
# "detach": a traced value used again as a constant (`t.detach()`).
PRIMITIVES = frozenset({"lt", "le", "gt", "ge", "eq", "ne", "argmax", "argmin", "where",
                        "astype"})
DETACH = "detach"

# Ops whose forward is exactly one backend primitive on the same arguments. Replay without
# a graph calls that primitive directly, skipping the forward's frame.
DIRECT_PRIMITIVE = {op: op.primitive for op in FUNCTIONS.values() if op.direct}


def builtin(name, fn):
    """Whether the instruction `name` (run by `fn`, None for a primitive) is in the table."""
    if fn is None:
        return name in PRIMITIVES or name == DETACH
    return FUNCTIONS.get(name) is fn
