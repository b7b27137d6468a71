"""Reverse-mode differentiation: walk the graph from the outputs back to the leaves.

The walk is iterative (any depth works). Each node's incoming gradients are summed on the node
itself. Nodes run in the reverse of the order they were made: every node that can feed a node
a gradient was made after it, so its gradient is complete when it runs, and no pass over the
graph is needed first. This loop runs once per op of every backward pass, so it keeps its
bookkeeping on the nodes' slots rather than in dictionaries.
"""

from heapq import heappop, heappush

from . import grad_mode
from .function import _FREED
from .tensor import Tensor, post_accumulate_hooked


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
        queue = []  # a heap of (-sequence number, node): the newest node comes out first
        for root, grad in zip(roots, root_grads):
            node = root.grad_fn
            if node is None:
                _add_leaf_grad(leaf_grads, root, grad)
            else:
                _add_node_grad(node, root._output_index, grad, queue)
        written = set()  # ids of the gradients already written to a `.grad` during the walk
        if post_accumulate_hooked and capture is None:
            _queue_leaf_finishers(roots, queue, leaf_grads, root_grads, written, create_graph)
        try:
            _run_nodes(queue, leaf_grads, retain_graph, captured_outputs, captured)
        finally:
            for _, node in queue:  # left by an error: drop the gradients they hold
                node._grads = None

        shared = _shared_grads(leaf_grads, root_grads) | written
        post_hooks = bool(post_accumulate_hooked)
        for tensor, grad, _ in leaf_grads.values():
            if tensor._hooks:
                grad = _run_hooks(tensor._hooks, grad)
                shared.add(id(grad))  # a hook may keep what it returns
            if capture is not None:
                captured[id(tensor)] = grad
            else:
                _write_leaf_grad(tensor, grad, shared, create_graph)
                if post_hooks:
                    _run_post_accumulate_hooks(tensor)
    if capture is not None:
        return [captured.get(id(t)) for t in capture]
    return None


def _write_leaf_grad(tensor, grad, shared, create_graph):
    """Accumulate `grad` into `tensor.grad`. A gradient also held elsewhere (its id in
    `shared`) is copied, so that changing one `.grad` in place (clipping, say) never
    changes another."""
    if tensor.grad is None:
        tensor.grad = grad if id(grad) not in shared or create_graph else Tensor(
            tensor.backend.copy(grad.data), tensor.backend)
    else:
        tensor.grad = tensor.grad + grad


def _run_post_accumulate_hooks(tensor):
    for hook in list(getattr(tensor, "_post_accumulate_hooks", {}).values()):
        hook(tensor)


def _queue_leaf_finishers(roots, queue, leaf_grads, root_grads, written, create_graph):
    """Let each leaf with a post-accumulate hook get its `.grad` as soon as it is complete.

    Nodes run newest first, so a leaf's gradient is complete once the oldest node that
    takes it as an input has run. One pass over the graph finds that node for each hooked
    leaf; a `_LeafFinisher` queued half a step after it writes the leaf's `.grad` and calls
    its hooks. The walk's loop runs it like any node, so it is unchanged by this."""
    last_user = {}  # hooked leaf -> sequence number of the oldest node using it
    seen, stack = set(), [root.grad_fn for root in roots if root.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for inp in node.inputs:
            if not isinstance(inp, Tensor) or not inp.requires_grad:
                continue
            if inp.grad_fn is not None:
                stack.append(inp.grad_fn)
            elif getattr(inp, "_post_accumulate_hooks", None):
                last_user[inp] = min(last_user.get(inp, node._sequence), node._sequence)
    by_node = {}
    for leaf, sequence in last_user.items():
        by_node.setdefault(sequence, []).append(leaf)
    shared = {id(grad) for grad in root_grads}
    for sequence, leaves in by_node.items():
        finisher = _LeafFinisher(leaves, leaf_grads, shared, written, create_graph)
        heappush(queue, (0.5 - sequence, finisher))


class _LeafFinisher:
    """A stand-in node (no inputs, one output) whose backward writes its leaves' finished
    gradients to `.grad` and calls their post-accumulate hooks. A leaf's `register_hook`
    hooks run first, as they do at the end of the walk. Of two leaves handed the same
    gradient, the second written gets a copy (`written` holds the ids of those written)."""

    _hooks = None
    _n_outputs = 1
    _saved = None
    inputs = ()

    def __init__(self, leaves, leaf_grads, shared, written, create_graph):
        self.fn = self
        self._grads = [None]  # not None, so that the walk runs it
        self.leaves, self.leaf_grads = leaves, leaf_grads
        self.shared, self.written, self.create_graph = shared, written, create_graph

    def backward(self, _node, _grad):
        for leaf in self.leaves:
            entry = self.leaf_grads.pop(id(leaf), None)
            if entry is None:  # no gradient reached this leaf
                continue
            grad = entry[1]
            if leaf._hooks:
                grad = _run_hooks(leaf._hooks, grad)
            _write_leaf_grad(leaf, grad, self.shared | self.written, self.create_graph)
            self.written.add(id(grad))
            _run_post_accumulate_hooks(leaf)

    def name(self):
        return "post-accumulate-grad hooks"


def _run_nodes(queue, leaf_grads, retain_graph, captured_outputs, captured):
    """Run each queued node's backward and hand each input its gradient: a leaf's is summed
    in `leaf_grads`, a parent node's on the node, which joins the queue with its first one.

    This loop runs once per op of every backward pass, so the common case (one output, one
    gradient) takes no helper calls."""
    while queue:
        node = heappop(queue)[1]
        grads = node._grads
        node._grads = None
        if node._hooks or captured_outputs:
            grads = _observe(node, grads, captured_outputs, captured)
        if node._n_outputs == 1:
            input_grads = None if grads is None else node.fn.backward(node, grads[0])
        else:
            input_grads = _multi_output_backward(node, grads)
        if not retain_graph and node._saved is not None:
            node._saved = _FREED
        inputs = node.inputs
        if input_grads is None:
            input_grads = (None,) * len(inputs)
        elif type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if len(input_grads) != len(inputs):
            raise RuntimeError(
                f"{node.name()}: backward returned {len(input_grads)} gradient(s) for "
                f"{len(inputs)} forward argument(s); return one per argument (None for "
                f"those without a gradient)")
        for inp, grad in zip(inputs, input_grads):
            if grad is None or not isinstance(inp, Tensor) or not inp.requires_grad:
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
                _add_leaf_grad(leaf_grads, inp, grad)
                continue
            if parent._grads is None and parent._n_outputs == 1:
                parent._grads = [grad]
                heappush(queue, (-parent._sequence, parent))
            else:
                _add_node_grad(parent, inp._output_index, grad, queue)


def _observe(node, grads, captured_outputs, captured):
    """Run the hooks of the node's outputs on their gradients, and note the gradients of
    outputs that `autograd.grad` asked for."""
    if node._hooks and grads is not None:
        grads = list(grads)
        for index, hooks in node._hooks.items():
            if grads[index] is not None:
                grads[index] = _run_hooks(hooks, grads[index])
    for tensor in captured_outputs.get(node, ()):
        captured[id(tensor)] = None if grads is None else grads[tensor._output_index]
    return grads


def _multi_output_backward(node, grads):
    """Backward of a node with several outputs: an output that got no gradient gets zeros."""
    if grads is None or all(g is None for g in grads):
        return None
    grads = [g if g is not None else _zeros_for(node, i) for i, g in enumerate(grads)]
    return node.fn.backward(node, *grads)


def _shared_grads(leaf_grads, root_grads):
    """The ids of the gradients that another holder has too: a root gradient the caller
    passed in, or one Tensor handed on unchanged to several leaves (by `+`, say)."""
    shared = {id(grad) for grad in root_grads}
    seen = set()
    for _, grad, _ in leaf_grads.values():
        if id(grad) in seen:
            shared.add(id(grad))
        seen.add(id(grad))
    return shared


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


def _add_node_grad(node, index, grad, queue):
    grads = node._grads
    if grads is None:
        grads = node._grads = [None] * node._n_outputs
        heappush(queue, (-node._sequence, node))
    previous = grads[index]
    grads[index] = grad if previous is None else previous + grad


def _add_leaf_grad(leaf_grads, tensor, grad):
    """Sum a leaf's gradients. The second makes a new sum, which only this backward holds,
    so later ones are added into it in place, unless the sum must stay differentiable or is
    0-d (a backend may hold a 0-d result as an immutable scalar)."""
    entry = leaf_grads.get(id(tensor))
    if entry is None:
        leaf_grads[id(tensor)] = [tensor, grad, False]
    elif entry[2]:
        tensor.backend.add_into(entry[1].data, grad.data)
    else:
        entry[1] = entry[1] + grad
        entry[2] = not grad_mode._state.enabled and len(grad.data.shape) > 0
