"""Indexing and its backward: `getitem`, and `index_add`, which scatters a gradient back
(repeated indices accumulate)."""

from ..op import Op
from ..tensor import Tensor


class GetItem(Op):
    """`t[index]`: ints, slices, None, `...`, integer arrays and boolean masks; the gradient
    scatters back, and repeated indices accumulate."""

    operator, primitive = "__getitem__", "getitem"
    direct = True

    @staticmethod
    def call(x, index):
        return GetItem.apply(x, native_index(x.backend, index))

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.index, ctx.dtype = a.shape, index, ctx.backend.dtype_name(a)
        return ctx.backend.getitem(a, index)

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, ctx.shape, ctx.index, ctx.dtype), None


class IndexAdd(Op):
    primitive = "index_add"

    @staticmethod
    def forward(ctx, values, shape, index, dtype):
        ctx.index = index
        return ctx.backend.index_add(shape, index, values, dtype)

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.index), None, None, None


def native_index(backend, index):
    """An index with every Tensor in it replaced by its backend array."""
    if isinstance(index, Tensor):
        return _index_array(backend, index)
    if isinstance(index, tuple):
        return tuple(_index_array(backend, i) if isinstance(i, Tensor) else i for i in index)
    return index


def _index_array(backend, tensor):
    if tensor.backend is not backend:
        raise TypeError(f"getitem: the index is on backend {tensor.backend.name!r} but the "
                        f"tensor is on {backend.name!r}; move it with "
                        f".to({backend.name!r})")
    if tensor.dtype.is_floating:
        raise IndexError(f"getitem: index tensors must be integer or bool, got {tensor.dtype}")
    return tensor.data

