"""The graph's node: what one recorded op application keeps for its backward.

Every op, built in (`autograd.op.Op`) or user-defined (`autograd.Function`), records an
instance of its own class as the node: the op's class is its backward rule, the instance
holds what that rule reads. A node refers to the nodes that made its inputs (its edges, in
`next`), to the input tensors its backward reads, and to its outputs only weakly, so:

- dropping the last tensor of a graph frees the graph at once, by reference counting;
- a tensor that no backward reads is not kept alive by the graph;
- after a backward that does not retain the graph, a node drops what it saved and only the
  graph's skeleton (the edges) is left.
"""

import itertools
import threading

from . import tensor as tensor_module
from .tensor import Tensor, new_tensor

# What `saved` holds once a backward without `retain_graph` has run.
FREED = object()

class Constants(tuple):
    """What a node saved when that is only Python numbers (`x * 0.5` keeps 0.5): nothing to
    free after backward, so a second backward through the node works, as in PyTorch."""

    __slots__ = ()


# `next` numbers nodes in creation order: backward runs them newest first.
node_counter = itertools.count()


class _Tracing(threading.local):
    """The tracer of `autograd.jit.trace` running in this thread, else None."""

    tracer = None


tracing = _Tracing()

# How many observers are active: threads tracing (`autograd.jit`) and anomaly-mode blocks
# (`autograd.detect_anomaly`). Ops look at this number first, so a program with neither pays
# one global lookup per op for them.
observers = 0
_observers_lock = threading.Lock()


def add_observer():
    global observers
    with _observers_lock:
        observers += 1


def remove_observer():
    global observers
    with _observers_lock:
        observers -= 1


def start_trace(tracer):
    """Send this thread's ops to `tracer` until `stop_trace()`."""
    if tracing.tracer is not None:
        raise RuntimeError("jit.trace: a trace is already running in this thread; trace the "
                           "outer function only (traced and compiled functions called inside "
                           "it are recorded op by op)")
    tracing.tracer = tracer
    add_observer()


def stop_trace():
    tracing.tracer = None
    remove_observer()


def read_value(tensor, how):
    """Report to this thread's tracer that a traced value is read out as Python data."""
    tracer = tracing.tracer
    if tracer is not None:
        tracer.read_value(tensor, how)


def record(op, args, result):
    """Report an op application to the observers: this thread's tracer, if it has one, and
    the anomaly check."""
    tracer = tracing.tracer
    if tracer is not None:
        tracer.record(op, args, result)
    anomaly.check_forward(op, result)


def nodes_of(roots):
    """Each node of the graphs of the tensors `roots` once, from the roots back."""
    seen = set()
    stack = [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        yield node
        for parent in node.next:
            if parent is not None and not isinstance(parent, Tensor):
                stack.append(parent[0] if type(parent) is tuple else parent)


def reachable_leaves(roots):
    """The leaf tensors requiring grad that the graphs of `roots` reach: those a backward
    from them gives a gradient."""
    found = {}
    for node in nodes_of(roots):
        for parent in node.next:
            if isinstance(parent, Tensor):
                found[id(parent)] = parent
    return list(found.values())


def edge(tensor):
    """What a node keeps of an input tensor to send it a gradient: the node that made it
    (with the output index when that node made several), the tensor itself for a leaf that
    requires grad, and None for a constant."""
    node = tensor.grad_fn
    if node is not None:
        index = tensor._output_index
        return node if index == 0 else (node, index)
    return tensor if tensor.requires_grad else None


class Node:
    """A recorded op application (the base of `Op` and `Function`).

    - `next`: one edge per forward argument (see `edge`), None where no gradient flows;
    - `saved`: what the backward rule reads (None for nothing); `FREED` after a backward
      that did not retain it;
    - `_saved_at`: the version clock when it saved, to detect in-place changes since;
    - `_out`: a weak reference to the output, when the backward reads it (`output()`);
    - `_fit`: None, or per argument the (shape, dtype) its gradient must be brought back to,
      for ops whose output's shape or dtype differs from an input's (broadcasting).
    Rarely used attributes (hooks, several outputs, the anomaly trace) are class defaults
    that an instance overrides in its `__dict__`; `_plain` says that it has none of them.
    """

    __slots__ = ("next", "saved", "backend", "_saved_at", "_sequence", "_grads", "_out",
                 "__dict__", "__weakref__")

    n_outputs = 1
    _fit = None
    _hooks = None
    _stack = None  # the user's stack when the node was made, kept under detect_anomaly
    # One output, no hooks, no fit: the engine then calls `_backward(grad)` and nothing
    # else. The lean ops' nodes start plain; gaining a hook or a fit makes a node not.
    _plain = False

    @property
    def needs_input_grad(self):
        """For each forward argument, whether a gradient flows to it."""
        return tuple([e is not None for e in self.next])

    def output(self):
        """The op's output as a Tensor connected to the graph (made anew from the saved
        array when the caller dropped it), checked against in-place changes."""
        tensor = self._out()
        if tensor is None:
            return new_tensor(self.saved, self.backend, True, self)
        return tensor

    def check_saved_versions(self):
        """Raise if a tensor this node saved was changed in place since it was saved."""
        saved = self.saved
        if saved is FREED:
            raise self.freed_error()
        candidates = list(saved) if type(saved) is tuple else []
        if self._out is not None:
            candidates.append(self._out())
        for tensor in candidates:
            if isinstance(tensor, Tensor) and tensor._version > self._saved_at:
                raise self.modified_error(tensor)

    def modified_error(self, tensor):
        return RuntimeError(
            f"{self.name()}: {describe_producer(tensor)} (shape {tuple(tensor.shape)}), "
            f"which {self.name()} needs for its gradient, was modified in place since it was "
            f"saved: it is at version {tensor._version}, it was saved at version "
            f"{self._saved_at}. Use an out-of-place operation (x = x + y instead of x += y), "
            f"or .clone() the tensor before changing it.")

    def freed_error(self):
        return RuntimeError(
            f"{self.name()}: trying to backward through the graph a second time, but its "
            f"saved values were freed by the first backward(). Pass retain_graph=True to the "
            f"first backward() (or autograd.grad) to keep them.")

    def name(self):
        return type(self).__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"


def describe_producer(tensor):
    """'output 0 of ExpBackward' or 'a leaf tensor', as PyTorch names a saved tensor."""
    if tensor.grad_fn is None:
        return "a leaf tensor"
    return f"output {tensor._output_index} of {tensor.grad_fn.name()}"


def version_clock():
    return tensor_module.version_clock


from . import anomaly  # noqa: E402  (it uses the observer count above)
