"""Gradients returned to the caller rather than stored in `.grad`: `grad`, and the whole
derivative matrices `jacobian` and `hessian`, as torch.autograd.functional has them."""

from .creation import zeros_like
from .engine import run_backward
from .ops.shape import Stack
from .tensor import Tensor, _output_grad


def _as_sequence(name, value):
    if isinstance(value, Tensor):
        return [value]
    values = list(value)
    for v in values:
        if not isinstance(v, Tensor):
            raise TypeError(f"grad: {name} must be Tensors, got {type(v).__name__}")
    return values


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """A tuple with d(outputs)/d(input) for each input, without touching any `.grad`.

    An input the outputs do not depend on raises, or gives None with `allow_unused=True`.
    `create_graph=True` records the computation, so the result can be differentiated again.
    """
    outputs = _as_sequence("outputs", outputs)
    inputs = _as_sequence("inputs", inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    else:
        grad_outputs = ([grad_outputs] if isinstance(grad_outputs, Tensor)
                        else list(grad_outputs))
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {tuple(t.shape)}) does not require "
                               f"grad; create it with requires_grad=True")
    roots, root_grads = [], []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(f"grad: output of shape {tuple(out.shape)} does not require "
                               f"grad, so it does not depend on any input")
        roots.append(out)
        root_grads.append(_output_grad("grad", out, g))
    retain = create_graph if retain_graph is None else retain_graph
    grads = run_backward(roots, root_grads, retain, create_graph, capture=inputs)
    for i, (t, g) in enumerate(zip(inputs, grads)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {tuple(t.shape)}) was not used to compute the "
                f"outputs; pass allow_unused=True to get None for it")
    return tuple(grads)



def _inputs(inputs):
    is_tuple = isinstance(inputs, (tuple, list))
    inputs = tuple(inputs) if is_tuple else (inputs,)
    prepared = []
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"jacobian: inputs must be Tensors, got {type(t).__name__}")
        prepared.append(t if t.requires_grad else t.detach().requires_grad_(True))
    return is_tuple, tuple(prepared)


def jacobian(fn, inputs, create_graph=False):
    """d fn(inputs) / d inputs, of shape `output.shape + input.shape` (one per input when
    `inputs` is a tuple): row by row, one backward pass per output element."""
    is_tuple, inputs = _inputs(inputs)
    output = fn(*inputs)
    if not isinstance(output, Tensor):
        raise TypeError("jacobian: fn must return a single Tensor")
    flat = output.reshape(-1)
    rows = [[] for _ in inputs]
    for k in range(flat.shape[0]):
        if not flat.requires_grad:
            grads = [None] * len(inputs)
        else:
            grads = grad(flat[k], inputs, retain_graph=True, create_graph=create_graph,
                         allow_unused=True)
        for i, (t, g) in enumerate(zip(inputs, grads)):
            rows[i].append(zeros_like(t) if g is None else g)
    result = []
    for t, row in zip(inputs, rows):
        if row:
            jac = Stack.call(row).reshape(tuple(output.shape) + tuple(t.shape))
        else:
            jac = Tensor(t.backend.zeros(tuple(output.shape) + tuple(t.shape), t.dtype),
                         t.backend)
        result.append(jac if create_graph else jac.detach())
    return tuple(result) if is_tuple else result[0]


def hessian(fn, inputs):
    """Second derivatives of a scalar fn: the Jacobian of its gradient. For a tuple of inputs,
    a tuple of tuples: hessian[i][j] = d2 fn / d input_i d input_j."""
    is_tuple, inputs = _inputs(inputs)

    def gradient(*xs):
        out = fn(*xs)
        if out.size != 1:
            raise ValueError(f"hessian: fn must return a single value, got shape "
                             f"{tuple(out.shape)}")
        return grad(out.reshape(()), xs, create_graph=True, allow_unused=True)

    def component(i):
        def gradient_i(*xs):
            g = gradient(*xs)[i]
            return g if g is not None else zeros_like(xs[i])
        return gradient_i

    if not is_tuple:
        return jacobian(component(0), inputs[0])
    return tuple(jacobian(component(i), inputs) for i in range(len(inputs)))
