"""`detect_anomaly`: find the op that first made a NaN or an infinity, forward or backward.

Inside it, every op checks its result, and each recorded node keeps the stack of the user
code that created it; a non-finite result raises at once, naming the op and, for a gradient,
the line of the forward pass that made the node whose backward produced it (PyTorch's
anomaly mode, Chainer's debug mode). Outside it, ops pay one global lookup for the check.
"""

import functools
import threading
import traceback

from . import graph


class _AnomalyState(threading.local):
    depth = 0
    backward_node = None  # the node whose backward is running, in anomaly mode


_state = _AnomalyState()


class detect_anomaly:
    """Context manager and decorator: raise at the first op (forward or backward) whose
    result holds a NaN or an infinity. Slow: meant for finding where a NaN comes from."""

    def __enter__(self):
        _state.depth += 1
        graph.add_observer()
        return self

    def __exit__(self, *exc):
        _state.depth -= 1
        graph.remove_observer()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly():
                return fn(*args, **kwargs)

        return wrapper


def is_anomaly_enabled():
    return _state.depth > 0


def check_forward(op, result):
    """Called for each op while observers are active: in anomaly mode, keep the user's stack
    on the node and raise if the result is not finite."""
    if not _state.depth:
        return
    results = result if type(result) is tuple else (result,)
    running = _state.backward_node
    stack = _user_stack() if running is None else running._stack
    for index, tensor in enumerate(results):
        if tensor.grad_fn is not None and tensor.grad_fn._stack is None:
            tensor.grad_fn._stack = stack
        if tensor.backend.all_finite(tensor.data):
            continue
        if running is not None:
            raise _backward_error(running, f"its step {_op_name(op)}", tensor)
        raise FloatingPointError(
            f"detect_anomaly: {_op_name(op)} returned a NaN or an infinity in its output "
            f"{index} (shape {tuple(tensor.shape)}), called at:\n{_format(stack)}")


def checked_backward(node, grads):
    """Run the backward of `node` (as the engine does), raising at the first non-finite
    value it makes, with the line of the forward pass that created the node."""
    _state.backward_node = node
    try:
        input_grads = node._backward(grads) if node.n_outputs == 1 else node._backward(*grads)
    finally:
        _state.backward_node = None
    for index, grad in enumerate(input_grads):
        if grad is not None and not grad.backend.all_finite(grad.data):
            raise _backward_error(node, f"the gradient of its input {index}", grad)
    return input_grads


def _backward_error(node, what, tensor):
    where = (f"The forward op was created at:\n{_format(node._stack)}"
             if node._stack is not None else
             "(the op was recorded outside detect_anomaly, so its forward line is unknown: "
             "enter the block before the forward pass)")
    return FloatingPointError(
        f"detect_anomaly: {node.name()} made a NaN or an infinity in {what} (shape "
        f"{tuple(tensor.shape)}). {where}")


def _op_name(op):
    return getattr(op, "__name__", str(op))


def _user_stack():
    """The stack without this package's own frames: the user's lines that led to the op."""
    frames = traceback.extract_stack()[:-2]
    package = __file__.rsplit("/", 1)[0]
    return [f for f in frames if not f.filename.startswith(package)]


def _format(stack):
    return "".join(traceback.format_list(stack[-8:])).rstrip()
