"""`save` and `load`: checkpoints as safetensors files.

A safetensors file is a JSON header plus raw tensor bytes, so reading one never runs code
from it (unlike pickle, which `torch.save` writes and which can run anything on load). The
tensors of a flat state dict are stored under its own keys, so a Module's file loads into
the matching PyTorch module with `safetensors.torch.load_file`. Everything else (optimiser
hyperparameters, step counts, the nesting of an optimiser's state) goes into the header's
metadata as JSON, with each tensor replaced by its name in the file.
"""

import json
import os

import safetensors
import safetensors.numpy

import autograd as ag
from autograd import files

from . import distributed

_LAYOUT_KEY = "pluggrad.layout"
_PICKLE_PROTOCOL_MARK = 0x80
_ZIP_MAGIC = b"PK\x03\x04"


def save(obj, path):
    """Write a Module's, an optimiser's or any state dict's tensors and data to `path`.

    The file is complete before it takes the real name (written under a unique temporary
    name beside `path`, flushed to disk, then renamed), so an interrupted save, or several
    threads saving to one path, never leave a half-written checkpoint; its metadata holds
    a SHA-256 checksum of the whole file, which `load` checks. In a data-parallel job
    (nn.distributed) only rank 0 writes: every rank holds the same weights."""
    state = obj.state_dict() if hasattr(obj, "state_dict") else obj
    if not isinstance(state, dict):
        raise TypeError(f"nn.save: expected a Module, an optimiser or a state dict, got "
                        f"{type(obj).__name__}")
    if distributed.rank() != 0:
        return
    tensors = {}
    layout = _encode(state, (), tensors)
    arrays = {name: _c_ordered(t.numpy()) for name, t in tensors.items()}
    data = safetensors.numpy.save(arrays, metadata={
        _LAYOUT_KEY: json.dumps(layout), files.CHECKSUM_KEY: files.CHECKSUM_PLACEHOLDER})
    files.write_atomically(path, files.seal(data))


def load(path, backend=None):
    """Read a file written by `save` (or any safetensors file) back as a state dict, its
    tensors on `backend` (the default backend when None). Raises ValueError naming the file
    and the problem when it is not a well-formed safetensors file, when its checksum (in
    files written by `save`) does not match its bytes, or when its layout entry is damaged
    (nested beyond reason included); a pickle is refused without being read, since
    unpickling can run code."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    _refuse_pickles(data, path)
    try:
        arrays = safetensors.numpy.load(data)
        metadata = files.read_metadata(data)
    except (safetensors.SafetensorError, ValueError) as error:
        raise ValueError(f"nn.load: {path} is not a valid safetensors file ({error}); it may "
                         f"be truncated or written by something else") from None
    if files.CHECKSUM_KEY in metadata:
        try:
            files.verify(data, metadata)
        except ValueError as error:
            raise ValueError(f"nn.load: {path} {error}") from None
    tensors = {name: ag.tensor(array, backend=backend) for name, array in arrays.items()}
    if _LAYOUT_KEY not in metadata:
        return tensors
    try:
        return _decode(json.loads(metadata[_LAYOUT_KEY]), tensors)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise ValueError(f"nn.load: {path} has a damaged {_LAYOUT_KEY!r} header entry "
                         f"({type(error).__name__}: {error})") from None


def _refuse_pickles(data, path):
    head = data[:4]
    if head[:1] == bytes([_PICKLE_PROTOCOL_MARK]) or head == _ZIP_MAGIC:
        raise ValueError(f"nn.load: {path} is a pickle (as written by pickle.dump or "
                         f"torch.save), not a safetensors file. Unpickling can run arbitrary "
                         f"code, so it is not read; re-save the tensors as safetensors (with "
                         f"nn.save, or safetensors.torch.save_file(model.state_dict(), path))")


def _c_ordered(array):
    """safetensors copies an array's memory as it lies, so a view in another order (a
    transpose) must first be copied into row-major order."""
    return array if array.flags.c_contiguous else array.copy(order="C")


def _encode(value, path, tensors):
    """`value` as JSON-ready data, its tensors moved into `tensors` under dotted names."""
    if isinstance(value, ag.Tensor):
        name = ".".join(str(part) for part in path)
        if name in tensors:
            raise ValueError(f"nn.save: two tensors would both be stored as {name!r}; "
                             f"rename a key so that no dotted path repeats")
        tensors[name] = value
        return {"tensor": name}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"nn.save: dict keys must be strings or integers, got "
                                f"{key!r} at {'.'.join(map(str, path)) or 'the top level'}")
        return {"dict": [[key, _encode(v, path + (key,), tensors)] for key, v in value.items()]}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(v, path + (i,), tensors) for i, v in enumerate(value)]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    raise TypeError(f"nn.save: cannot store a {type(value).__name__} (at "
                    f"{'.'.join(map(str, path)) or 'the top level'}); only tensors, numbers, "
                    f"strings, None, lists, tuples and dicts")


def _decode(layout, tensors):
    (kind, body), = layout.items()
    if kind == "tensor":
        return tensors[body]
    if kind == "dict":
        return {key: _decode(v, tensors) for key, v in body}
    if kind == "list":
        return [_decode(v, tensors) for v in body]
    if kind == "tuple":
        return tuple(_decode(v, tensors) for v in body)
    if kind == "value":
        return body
    raise ValueError(f"unknown entry kind {kind!r}")
