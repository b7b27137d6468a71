"""Matrix products."""

from ..function import Function


class MatMul(Function):
    """Batched matrix product of operands with at least two dimensions each; batch axes
    broadcast, and the engine sums their gradients back."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return ((matmul(grad, b.swapaxes(-1, -2)) if needs[0] else None),
                (matmul(a.swapaxes(-1, -2), grad) if needs[1] else None))


def matmul(a, b):
    """NumPy's matmul, 1-D operands included: a 1-D operand is treated as a row (on the left)
    or a column (on the right) and that axis is dropped from the result."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}; use * for scalars")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not match: the last "
            f"axis of the first ({inner_a}) must equal the "
            f"{'only' if b.ndim == 1 else 'second-to-last'} axis of the second ({inner_b}). "
            f"Transpose an operand (.T) or fix the layer sizes.")
    if a.ndim >= 2 and b.ndim >= 2:
        return MatMul.apply(a, b)
    a2 = a.reshape(1, inner_a) if a.ndim == 1 else a
    b2 = b.reshape(inner_b, 1) if b.ndim == 1 else b
    out = MatMul.apply(a2, b2)
    if a.ndim == 1:
        out = out.squeeze(-2)
    if b.ndim == 1:
        out = out.squeeze(-1)
    return out
