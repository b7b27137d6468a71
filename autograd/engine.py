"""Reverse-mode differentiation: walk the graph from the outputs back to the leaves.

The walk is iterative (any depth works). Each node's incoming gradients are summed on the node
itself, and a node runs once every node that feeds it a gradient has run, so its gradient
is complete when it does.
"""

from . import grad_mode
from .tensor import Tensor


def _collect(root_nodes):
    """Every node reachable from the roots, each with the number of edges coming into it."""
    pending = {}
    stack = list(root_nodes)
    for node in stack:
        pending.setdefault(node, 0)
    seen = set(stack)
    while stack:
        node = stack.pop()
        for inp in node.inputs:
            if isinstance(inp, Tensor):
                parent = inp.grad_fn
                if parent is not None:
                    pending[parent] = pending.get(parent, 0) + 1
                    if parent not in seen:
                        seen.add(parent)
                        stack.append(parent)
    return pending


def _run_hooks(hooks, grad):
    for hook in list(hooks.values()):
        replaced = hook(grad)
        if replaced is not None:
            grad = replaced
    return grad


def run_backward(roots, root_grads, retain_graph, create_graph, capture=None):
    """Propagate `root_grads` from `roots` back through the graph.

    Without `capture`, leaf gradients are accumulated into `.grad`. With `capture` (a list of
    input tensors), nothing is written: the gradient of each captured tensor is returned.
    """
    leaf_grads = {}
    captured = {}
    captured_outputs = {}
    if capture is not None:
        for t in capture:
            if t.grad_fn is not None:
                captured_outputs.setdefault(t.grad_fn, []).append(t)
    with grad_mode.set_grad_enabled(create_graph):
        root_nodes = []
        for root, grad in zip(roots, root_grads):
            node = root.grad_fn
            if node is None:
                _add_leaf_grad(leaf_grads, root, grad)
                continue
            _add_node_grad(node, root._output_index, grad)
            root_nodes.append(node)
        pending = _collect(root_nodes)
        ready = [node for node in root_nodes if pending[node] == 0]
        ready = list(dict.fromkeys(ready))
        try:
            while ready:
                node = ready.pop()
                grads = node._grads
                node._grads = None
                if node._hooks:
                    for index, hooks in node._hooks.items():
                        if grads[index] is not None:
                            grads[index] = _run_hooks(hooks, grads[index])
                for tensor in captured_outputs.get(node, ()):
                    captured[id(tensor)] = grads[tensor._output_index]
                _propagate(node, grads, leaf_grads)
                if not retain_graph:
                    node._free()
                for inp in node.inputs:
                    if isinstance(inp, Tensor) and inp.grad_fn is not None:
                        parent = inp.grad_fn
                        pending[parent] -= 1
                        if pending[parent] == 0:
                            ready.append(parent)
        finally:
            for node in pending:
                node._grads = None

        for tensor, grad in leaf_grads.values():
            if tensor._hooks:
                grad = _run_hooks(tensor._hooks, grad)
            if capture is not None:
                captured[id(tensor)] = grad
            elif tensor.grad is None:
                tensor.grad = grad if create_graph else Tensor(
                    tensor.backend.copy(grad.data), tensor.backend)
            else:
                tensor.grad = tensor.grad + grad
    if capture is not None:
        return [captured.get(id(t)) for t in capture]
    return None


def _propagate(node, grads, leaf_grads):
    """Call the node's backward and hand each input its gradient."""
    if all(g is None for g in grads):
        return
    if node._n_outputs > 1:
        grads = [g if g is not None else _zeros_for(node, i) for i, g in enumerate(grads)]
    input_grads = node.fn.backward(node, *grads)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    if len(input_grads) != len(node.inputs):
        raise RuntimeError(
            f"{node.name()}: backward returned {len(input_grads)} gradient(s) for "
            f"{len(node.inputs)} forward argument(s); return one per argument (None for "
            f"those without a gradient)")
    for inp, grad in zip(node.inputs, input_grads):
        if grad is None or not isinstance(inp, Tensor) or not inp.requires_grad:
            continue
        if not isinstance(grad, Tensor):
            raise TypeError(f"{node.name()}: backward must return Tensors or None, got "
                            f"{type(grad).__name__}")
        if grad.shape != inp.shape:
            grad = _fit_to_input(node, grad, inp)
        if grad.data.dtype != inp.data.dtype:
            grad = grad.astype(inp.dtype)
        parent = inp.grad_fn
        if parent is None:
            _add_leaf_grad(leaf_grads, inp, grad)
        else:
            _add_node_grad(parent, inp._output_index, grad)


def _fit_to_input(node, grad, inp):
    """Sum a broadcast gradient back to its input's shape (done here once for every op)."""
    from .ops.shape import sum_to

    try:
        return sum_to(grad, inp.shape)
    except ValueError:
        raise RuntimeError(
            f"{node.name()}: backward returned a gradient of shape {tuple(grad.shape)} for an "
            f"input of shape {tuple(inp.shape)}, and it does not broadcast to it") from None


def _zeros_for(node, index):
    tensor = node._outputs[index]() if node._outputs else None
    if tensor is None:
        raise RuntimeError(f"{node.name()}: output {index} was dropped before backward")
    return Tensor(node.output_backend.zeros_like(tensor.data), node.output_backend)


def _add_node_grad(node, index, grad):
    grads = node._grads
    if grads is None:
        grads = node._grads = [None] * node._n_outputs
    previous = grads[index]
    grads[index] = grad if previous is None else previous + grad


def _add_leaf_grad(leaf_grads, tensor, grad):
    entry = leaf_grads.get(id(tensor))
    if entry is None:
        leaf_grads[id(tensor)] = (tensor, grad)
    else:
        leaf_grads[id(tensor)] = (tensor, entry[1] + grad)
