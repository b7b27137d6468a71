"""PyTorch's spellings on pluggrad's NumPy-style API: what `Tensor.size`, `.device` and the
reductions' `dim=`/`keepdim=` (and var/std's `correction=`/`unbiased=`) are made of.

The README's table "Coming from PyTorch" lists each habit and its pluggrad equivalent."""

import functools
import inspect


class ElementCount(int):
    """`Tensor.size`: the element count (NumPy's meaning, an int), also callable with
    PyTorch's meaning: `t.size()` is the shape, `t.size(d)` the length of axis `d`."""

    def __new__(cls, count, shape):
        number = super().__new__(cls, count)
        number.shape = tuple(shape)
        return number

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"size(dim): dim must be an int, got {dim!r}")
        if not -len(self.shape) <= dim < len(self.shape):
            raise ValueError(f"size({dim}): dim is out of range for a tensor of shape "
                             f"{self.shape}; use a dim in [{-len(self.shape)}, "
                             f"{len(self.shape) - 1}]")
        return self.shape[dim]

    def __reduce__(self):
        return int, (int(self),)


# One ElementCount per shape, made once: `size` is read on hot paths (item, bool, the
# reductions' empty check), where building an int subclass each time cost more than the rest.
_ELEMENT_COUNTS = {}
_MAX_SHAPES_KEPT = 4096


def element_count(shape):
    """The ElementCount of `shape`, kept for the next tensor of that shape."""
    count = 1
    for n in shape:
        count *= n
    if len(_ELEMENT_COUNTS) >= _MAX_SHAPES_KEPT:
        _ELEMENT_COUNTS.clear()
    number = _ELEMENT_COUNTS[shape] = ElementCount(count, shape)
    return number


class Device(str):
    """`Tensor.device`: the backend's name (so it passes wherever a backend name goes), with
    PyTorch's `.type` ("cpu" or "cuda") and `.index`."""

    def __new__(cls, backend):
        device = super().__new__(cls, backend.name)
        kind, _, rest = str(backend.device).partition(":")
        device.type = kind
        device.index = int(rest.split()[0]) if rest.split() else None
        return device

    def __repr__(self):
        return f"device(backend={str(self)!r}, type={self.type!r})"


_TORCH_NAMES = {"dim": "axis", "keepdim": "keepdims", "correction": "ddof", "unbiased": "ddof"}


def torch_axis(op, axis, keepdims, torch_names, ddof=None, default_axis=None):
    """(axis, keepdims), or (axis, keepdims, ddof) for var/std, from PyTorch's keyword names
    `dim`, `keepdim` (and `correction`/`unbiased` for var/std) given to the reduction `op`.
    Mind that pluggrad's var/std default to ddof=0 (NumPy), PyTorch's to ddof=1."""
    allowed = {"dim"} | ({"keepdim"} if keepdims is not None else set())
    allowed |= {"correction", "unbiased"} if ddof is not None else set()
    unknown = sorted(set(torch_names) - allowed)
    if unknown:
        known = ", ".join(f"{name}= (pluggrad: {_TORCH_NAMES[name]}=)" for name in
                          sorted(allowed))
        raise TypeError(f"{op}: unexpected keyword argument(s) {', '.join(unknown)}; "
                        f"{op} takes {known}")
    if "dim" in torch_names:
        if axis != default_axis:
            raise TypeError(f"{op}: got both axis={axis!r} and dim={torch_names['dim']!r}; "
                            f"give one (dim is PyTorch's name for axis)")
        axis = torch_names["dim"]
    if "keepdim" in torch_names:
        keepdims = bool(torch_names["keepdim"])
    if ddof is None:
        return axis, keepdims
    if "correction" in torch_names and "unbiased" in torch_names:
        raise TypeError(f"{op}: give correction= or unbiased=, not both")
    if "correction" in torch_names:
        ddof = torch_names["correction"]
    elif "unbiased" in torch_names:
        ddof = 1 if torch_names["unbiased"] else 0
    return axis, keepdims, ddof


class ValuesIndices(tuple):
    """What `max(dim=d)` and `min(dim=d)` return, as in PyTorch: the values and the positions
    where they are, also as `.values` and `.indices`."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


def torch_extreme(tensor, op, axis, keepdims, torch_names):
    """max/min with PyTorch's names. With `dim=`, PyTorch's result: (values, indices)."""
    axis, keepdims = torch_axis(op, axis, keepdims, torch_names)
    values = getattr(tensor, op)(axis, keepdims)
    if "dim" not in torch_names:
        return values
    arg = "argmax" if op == "max" else "argmin"
    return ValuesIndices(values, torch_arg_reduction(tensor, arg, None, {"dim": axis,
                                                                        "keepdim": keepdims}))


def torch_arg_reduction(tensor, op, axis, torch_names):
    """argmax/argmin with PyTorch's `dim=` and `keepdim=`."""
    axis, keepdim = torch_axis(op, axis, False, torch_names)
    index = getattr(tensor, op)(axis)
    if not keepdim:
        return index
    if axis is None:
        return index.reshape((1,) * tensor.ndim)
    return index.unsqueeze(axis % tensor.ndim)


def accepting_torch_names(name, method):
    """The Tensor method `name` (a reduction, or softmax) also taking PyTorch's keyword
    names; without them it is `method` itself, called with nothing in between."""
    parameters = list(inspect.signature(method).parameters.values())
    names = [p.name for p in parameters]
    if "axis" not in names:
        return method
    if name in ("max", "min"):
        def with_torch_names(tensor, axis=None, keepdims=False, **torch_names):
            if torch_names:
                return torch_extreme(tensor, name, axis, keepdims, torch_names)
            return method(tensor, axis, keepdims)
    elif name in ("argmax", "argmin"):
        def with_torch_names(tensor, axis=None, **torch_names):
            if torch_names:
                return torch_arg_reduction(tensor, name, axis, torch_names)
            return method(tensor, axis)
    elif "ddof" in names:
        def with_torch_names(tensor, axis=None, ddof=0, keepdims=False, **torch_names):
            if torch_names:
                axis, keepdims, ddof = torch_axis(name, axis, keepdims, torch_names, ddof)
            return method(tensor, axis, ddof, keepdims)
    elif "keepdims" in names:
        def with_torch_names(tensor, axis=None, keepdims=False, **torch_names):
            if torch_names:
                axis, keepdims = torch_axis(name, axis, keepdims, torch_names)
            return method(tensor, axis, keepdims)
    else:  # any other function with an axis: softmax, concat, logsumexp, ...
        position = names.index("axis")
        default = parameters[position].default

        def with_torch_names(*args, **kwargs):
            if "dim" in kwargs:
                axis = kwargs.get("axis", args[position] if len(args) > position else default)
                if axis != default:
                    raise TypeError(f"{name}: got both axis={axis!r} and dim="
                                    f"{kwargs['dim']!r}; give one (dim is PyTorch's name for "
                                    f"axis)")
                args = args[:position]
                kwargs["axis"] = kwargs.pop("dim")
            if "keepdim" in kwargs:
                if "keepdims" not in names:
                    raise TypeError(f"{name}: unexpected keyword argument(s) keepdim; {name} "
                                    f"takes dim= (pluggrad: axis=)")
                kwargs["keepdims"] = bool(kwargs.pop("keepdim"))
            return method(*args, **kwargs)
    return functools.wraps(method)(with_torch_names)
