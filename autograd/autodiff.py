"""`grad`: gradients of outputs with respect to chosen inputs, returned rather than stored."""

from .engine import run_backward
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
