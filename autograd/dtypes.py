"""Dtype names.

A dtype is its name, a `str` subclass, so `t.dtype == "float32"` and `t.dtype == ag.float32`
both hold, and nothing here depends on an array library's dtype objects.
"""


class DType(str):
    __slots__ = ()

    @property
    def is_floating(self):
        return self.startswith("float")

    def __repr__(self):
        return f"autograd.{self}"


float16 = DType("float16")
float32 = DType("float32")
float64 = DType("float64")
int32 = DType("int32")
int64 = DType("int64")
bool_ = DType("bool")

_KNOWN = {d: d for d in (float16, float32, float64, int32, int64, bool_)}
_ALIASES = {"bool_": bool_, "float": float32, "int": int64, "double": float64}
_PYTHON_TYPES = {float: float32, int: int64, bool: bool_}


def as_dtype(dtype):
    """The DType named by `dtype`: a DType, a name such as "float64", a Python type, or an
    array library's dtype (anything with a `name`/`__name__` attribute naming a dtype)."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        name = dtype
    elif dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    else:
        name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None)
    found = _KNOWN.get(name) or _ALIASES.get(name)
    if found is None:
        raise TypeError(f"unknown dtype {dtype!r}: use one of {', '.join(_KNOWN)}")
    return found


def names():
    """The names of the dtypes a tensor can hold."""
    return tuple(_KNOWN)
