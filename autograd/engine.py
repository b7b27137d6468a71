"""Reverse-mode differentiation: walk the graph from the outputs back to the leaves.

The walk is iterative (any depth works). Each node's incoming gradients are summed on the node
itself. Nodes run in the reverse of the order they were made: every node that can feed a node
a gradient was made after it, so its gradient is complete when it runs, and no pass over the
graph is needed first. This loop runs once per op of every backward pass, so it keeps its
bookkeeping on the nodes' slots rather than in dictionaries.
"""

from heapq import heappop, heappush

from . import anomaly, grad_mode, graph
from . import tensor as tensor_module
from .graph import FREED, Constants, nodes_of
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

    Nodes run newest first, so a leaf's gradient is complete once the oldest node with an
    edge to it has run. One pass over the graph finds that node for each hooked leaf; a
    `_LeafFinisher` queued half a step after it writes the leaf's `.grad` and calls its
    hooks. The walk runs it like any node, so the walk's loop is unchanged by this."""
    last_user = {}  # hooked leaf -> sequence number of the oldest node with an edge to it
    for node in nodes_of(roots):
        for parent in node.next:
            if isinstance(parent, Tensor) and getattr(parent, "_post_accumulate_hooks", None):
                last_user[parent] = min(last_user.get(parent, node._sequence), node._sequence)
    by_node = {}
    for leaf, sequence in last_user.items():
        by_node.setdefault(sequence, []).append(leaf)
    shared = {id(grad) for grad in root_grads}
    for sequence, leaves in by_node.items():
        finisher = _LeafFinisher(leaves, leaf_grads, shared, written, create_graph)
        heappush(queue, (0.5 - sequence, finisher))


class _LeafFinisher:
    """A stand-in node (no edges, nothing saved) whose backward writes its leaves' finished
    gradients to `.grad` and calls their post-accumulate hooks. A leaf's `register_hook`
    hooks run first, as they do at the end of the walk. Of two leaves handed the same
    gradient, the second written gets a copy (`written` holds the ids of those written)."""

    n_outputs = 1
    next = ()
    saved = None
    _hooks = None
    _fit = None
    _plain = True

    def __init__(self, leaves, leaf_grads, shared, written, create_graph):
        self._grads = ()  # not None, so that the walk runs it
        self._saved_at = None
        self._out = None
        self.leaves, self.leaf_grads = leaves, leaf_grads
        self.shared, self.written, self.create_graph = shared, written, create_graph

    def check_saved_versions(self):
        """Nothing is saved here."""

    def _backward(self, _grad):
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
        return ()

    def name(self):
        return "post-accumulate-grad hooks"


def _run_nodes(queue, leaf_grads, retain_graph, captured_outputs, captured):
    """Run each queued node's backward and hand each input its gradient: a leaf's is summed
    in `leaf_grads`, a parent node's on the node, which joins the queue with its first one.

    This loop runs once per op of every backward pass, so the common case (one output, one
    gradient) takes no helper calls, and a chain of ops takes no heap: a parent that is the
    only node waiting runs next without joining the queue (`following`)."""
    following = None
    # Nothing to observe or check in this walk: a plain node needs only its backward.
    unobserved = not captured_outputs and not (graph.observers and anomaly.is_anomaly_enabled())
    try:
        while following is not None or queue:
            if following is None:
                node = heappop(queue)[1]
            else:
                node, following = following, None
            grads = node._grads
            node._grads = None
            saved = node.saved
            if saved is FREED or node._saved_at != tensor_module.version_clock:
                node.check_saved_versions()
            if node._plain and unobserved:
                input_grads = node._backward(grads)
            else:
                input_grads = _backward_observed(node, grads, captured_outputs, captured)
            if not retain_graph:  # drop what backward read: only the graph's skeleton stays
                if saved is not None and type(saved) is not Constants:
                    node.saved = FREED
                node._out = None
            for parent, grad in zip(node.next, input_grads):
                if parent is None or grad is None:
                    continue
                if isinstance(parent, Tensor):
                    _add_leaf_grad(leaf_grads, parent, grad)
                    continue
                if following is not None:  # a second parent waits: both take the queue
                    heappush(queue, (-following._sequence, following))
                    following = None
                if type(parent) is tuple:
                    _add_node_grad(parent[0], parent[1], grad, queue)
                elif parent._grads is None:
                    parent._grads = grad if parent.n_outputs == 1 else _first_grads(parent, grad)
                    if queue:
                        heappush(queue, (-parent._sequence, parent))
                    else:
                        following = parent
                elif parent.n_outputs == 1:
                    parent._grads = parent._grads + grad
                else:
                    _add_node_grad(parent, 0, grad, queue)
    finally:  # left by an error: drop the gradient it holds
        if following is not None:
            following._grads = None


def _backward_observed(node, grads, captured_outputs, captured):
    """A node's backward with what a plain one lacks: its hooks and the gradients
    `autograd.grad` captures, the anomaly check, several outputs, and its input gradients
    fitted to its inputs' shapes and dtypes."""
    if node._hooks or captured_outputs:
        grads = _observe(node, grads, captured_outputs, captured)
    if graph.observers and anomaly.is_anomaly_enabled():
        input_grads = anomaly.checked_backward(node, grads)
    elif node.n_outputs == 1:
        input_grads = node._backward(grads)
    else:
        input_grads = node._backward(*grads)
    if node._fit is not None:
        input_grads = _fit_to_inputs(node, input_grads)
    return input_grads


def _first_grads(node, grad):
    grads = [None] * node.n_outputs
    grads[0] = grad
    return grads


def _observe(node, grads, captured_outputs, captured):
    """Run the hooks of the node's outputs on their gradients, and note the gradients of
    outputs that `autograd.grad` asked for."""
    single = node.n_outputs == 1
    grads = [grads] if single else list(grads)
    if node._hooks:
        for index, hooks in node._hooks.items():
            if grads[index] is not None:
                grads[index] = _run_hooks(hooks, grads[index])
    for tensor in captured_outputs.get(node, ()):
        captured[id(tensor)] = grads[tensor._output_index]
    return grads[0] if single else grads


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


def _fit_to_inputs(node, input_grads):
    """Sum broadcast gradients back to their inputs' shapes and cast them to their inputs'
    dtypes (done here once for every op)."""
    from .ops.shape import sum_to

    fitted = []
    for grad, fit in zip(input_grads, node._fit):
        if grad is not None and fit is not None:
            shape, dtype = fit
            data = grad.data
            if data.shape != shape:
                try:
                    grad = sum_to(grad, shape)
                except ValueError:
                    raise RuntimeError(
                        f"{node.name()}: backward returned a gradient of shape "
                        f"{tuple(data.shape)} for an input of shape {tuple(shape)}, and it "
                        f"does not broadcast to it") from None
            if data.dtype != dtype:
                grad = grad.astype(str(dtype))
        fitted.append(grad)
    return fitted


def _add_node_grad(node, index, grad, queue):
    if node.n_outputs == 1:
        if node._grads is None:
            node._grads = grad
            heappush(queue, (-node._sequence, node))
        else:
            node._grads = node._grads + grad
        return
    grads = node._grads
    if grads is None:
        grads = node._grads = [None] * node.n_outputs
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
