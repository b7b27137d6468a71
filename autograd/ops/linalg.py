"""Matrix products."""

from ..op import Op
from ..operands import as_tensor, as_tensor_like, common_backend
from ..tensor import Tensor
from .reduce import Sum
from .shape import Transpose


class MatMul(Op):
    """Batched matrix product of operands with at least two dimensions each; batch axes
    broadcast, and the engine sums their gradients back."""

    function, operator, primitive, onnx = "matmul", "__matmul__", "matmul", "MatMul"
    direct = True

    @staticmethod
    def call(a, b):
        """NumPy's matmul (`a @ b`), 1-D operands included."""
        common_backend("matmul", (a, b))
        if isinstance(a, Tensor):
            return matmul(a, as_tensor_like(a, b))
        if isinstance(b, Tensor):
            return matmul(as_tensor_like(b, a), b)
        return matmul(as_tensor(a), as_tensor(b))

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


class Linear(Op):
    """x @ weight.T + bias in one op: the weight's gradient comes out in the weight's own
    (out, in) layout, and a layer is one node of the graph instead of three."""

    function, onnx = "linear", "Gemm"

    @staticmethod
    def call(x, weight, bias=None):
        """x @ weight.T + bias (weight of shape (out_features, in_features)) as one op."""
        common_backend("linear", (x, weight, bias))
        return linear(as_tensor(x), as_tensor(weight), None if bias is None else as_tensor(bias))

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        backend = ctx.backend
        out = backend.matmul(x, backend.transpose(weight, (1, 0)))
        if bias is None:
            return out
        if bias.dtype == out.dtype:
            # The product is a fresh array: adding the bias in place saves allocating (and
            # first touching) another one of the output's size.
            backend.add_into(out, bias)
            return out
        return backend.add(out, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        # A batch of any shape is a stack of rows: (..., features) -> (rows, features).
        # The shapes are known to fit, so the ops are applied directly, without the checks
        # of the user-facing functions (this runs for every layer of every training step).
        rows = grad if grad.ndim == 2 else grad.reshape(-1, weight.shape[0])
        grad_x = grad_weight = grad_bias = None
        if needs[0]:
            grad_x = MatMul.apply(grad, weight) if grad.ndim >= 2 else matmul(grad, weight)
        if needs[1]:
            inputs = x if x.ndim == 2 else x.reshape(-1, weight.shape[1])
            grad_weight = MatMul.apply(Transpose.apply(rows, (1, 0)), inputs)
        if needs[2]:
            grad_bias = Sum.apply(rows, (0,), False)
        return grad_x, grad_weight, grad_bias


def linear(x, weight, bias=None):
    """x @ weight.T + bias, with weight of shape (out_features, in_features), as a layer
    computes it."""
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be (out_features, in_features), got shape "
                         f"{tuple(weight.shape)}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {tuple(x.shape)} does not match weight of "
                         f"shape {tuple(weight.shape)}: the input's last axis must be "
                         f"in_features = {weight.shape[1]}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got "
                         f"{tuple(bias.shape)}")
    return Linear.apply(x, weight, bias)


def svd(t):
    """Reduced singular value decomposition (u, s, vh) of a matrix, t == u @ diag(s) @ vh,
    differentiable as `autograd.linalg.svd(t, full_matrices=False)`."""
    from .decompositions import SVD

    t = as_tensor(t)
    if t.ndim != 2:
        raise ValueError(f"svd: expects a matrix, got shape {tuple(t.shape)}")
    return SVD.apply(t, False)
