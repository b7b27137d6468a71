"""Reverse-mode differentiation: walk the graph from the outputs back to the leaves.

The walk is iterative (any depth works). Each node's incoming gradients are summed on the node
itself, and a node runs once every node that feeds it a gradient has run, so its gradient
is complete when it does. This loop runs once per op of every backward pass, so it keeps its
bookkeeping on the nodes' slots rather than in dictionaries.
"""

from . import grad_mode
from .tensor import Tensor


def _collect(root_nodes):
    """Every node reachable from the roots, each counting the edges that come into it."""
    visit = object()
    for node in root_nodes:
        node._visit = visit
        node._pending = 0
    nodes = list(root_nodes)
    stack = list(root_nodes)
    while stack:
        for inp in stack.pop().inputs:
            if isinstance(inp, Tensor):
                parent = inp.grad_fn
                if parent is not None:
                    if parent._visit is visit:
                        parent._pending += 1
                    else:
                        parent._visit = visit
                        parent._pending = 1
                        nodes.append(parent)
                        stack.append(parent)
    return nodes


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
                _add_leaf_grad(leaf_grads, root, grad, owned=False)
            else:
                _add_node_grad(node, root._output_index, grad)
                if node not in root_nodes:
                    root_nodes.append(node)
        nodes = _collect(root_nodes)
        ready = [node for node in root_nodes if node._pending == 0]
        try:
            while ready:
                node = ready.pop()
                grads = node._grads
                node._grads = None
                if grads is None:  # every path into this node carried no gradient
                    grads = [None] * node._n_outputs
                if node._hooks:
                    for index, hooks in node._hooks.items():
                        if grads[index] is not None:
                            grads[index] = _run_hooks(hooks, grads[index])
                if captured_outputs:
                    for tensor in captured_outputs.get(node, ()):
                        captured[id(tensor)] = grads[tensor._output_index]
                _propagate(node, grads, leaf_grads, ready)
                if not retain_graph:
                    node._free()
        finally:
            for node in nodes:
                node._grads = None
                node._visit = None

        for tensor, grad, owned in leaf_grads.values():
            if tensor._hooks:
                grad = _run_hooks(tensor._hooks, grad)
                owned = False
            if capture is not None:
                captured[id(tensor)] = grad
            elif tensor.grad is None:
                # A gradient also held elsewhere is copied, so that changing one `.grad` in
                # place (clipping, say) never changes another.
                tensor.grad = grad if owned or create_graph else Tensor(
                    tensor.backend.copy(grad.data), tensor.backend)
            else:
                tensor.grad = tensor.grad + grad
    if capture is not None:
        return [captured.get(id(t)) for t in capture]
    return None


def _propagate(node, grads, leaf_grads, ready):
    """Call the node's backward, hand each input its gradient, and queue each parent node
    whose last pending gradient this was."""
    inputs = node.inputs
    if len(grads) == 1:
        has_grad = grads[0] is not None
    else:
        has_grad = any(g is not None for g in grads)
        if has_grad:
            grads = [g if g is not None else _zeros_for(node, i) for i, g in enumerate(grads)]
    if has_grad:
        input_grads = node.fn.backward(node, *grads)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if len(input_grads) != len(inputs):
            raise RuntimeError(
                f"{node.name()}: backward returned {len(input_grads)} gradient(s) for "
                f"{len(inputs)} forward argument(s); return one per argument (None for "
                f"those without a gradient)")
    else:
        input_grads = (None,) * len(inputs)
    for inp, grad in zip(inputs, input_grads):
        if grad is None:
            if isinstance(inp, Tensor) and inp.grad_fn is not None:
                _release(inp.grad_fn, ready)
            continue
        if not isinstance(inp, Tensor) or not inp.requires_grad:
            continue
        if not isinstance(grad, Tensor):
            raise TypeError(f"{node.name()}: backward must return Tensors or None, got "
                            f"{type(grad).__name__}")
        data, expected = grad.data, inp.data
        if data.shape != expected.shape:
            grad = _fit_to_input(node, grad, inp)
        if data.dtype is not expected.dtype and data.dtype != expected.dtype:
            grad = grad.astype(inp.dtype)
        parent = inp.grad_fn
        if parent is None:
            passed_on = (any(grad is g for g in grads)
                         or sum(g is grad for g in input_grads) > 1)
            _add_leaf_grad(leaf_grads, inp, grad, owned=not passed_on)
            continue
        grads_in = parent._grads
        if grads_in is None:
            grads_in = parent._grads = [None] * parent._n_outputs
        index = inp._output_index
        previous = grads_in[index]
        grads_in[index] = grad if previous is None else previous + grad
        parent._pending -= 1
        if parent._pending == 0:
            ready.append(parent)


def _release(parent, ready):
    """One of the edges into `parent` has been handled (without a gradient)."""
    parent._pending -= 1
    if parent._pending == 0:
        ready.append(parent)


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
    tensor = node._outputs[index]()
    if tensor is None:
        raise RuntimeError(f"{node.name()}: output {index} was dropped before backward")
    return Tensor(tensor.backend.zeros_like(tensor.data), tensor.backend)


def _add_node_grad(node, index, grad):
    grads = node._grads
    if grads is None:
        grads = node._grads = [None] * node._n_outputs
    previous = grads[index]
    grads[index] = grad if previous is None else previous + grad


def _add_leaf_grad(leaf_grads, tensor, grad, owned):
    """Sum a leaf's gradients; `owned` says whether no other tensor holds the same array."""
    entry = leaf_grads.get(id(tensor))
    if entry is None:
        leaf_grads[id(tensor)] = (tensor, grad, owned)
    else:
        leaf_grads[id(tensor)] = (tensor, entry[1] + grad, True)
