"""Two minimal reverse-mode engines for the chain of the overhead suite: the floors under
pluggrad's per-op cost.

Both run the NumPy backend's formulas (so the same NumPy calls as pluggrad on that backend)
and nothing else: no checks of shapes, dtypes or backends, no version counters, hooks,
broadcast reduction or error messages, and only the ops the chain uses.

- `Value` is the least any Python engine that records a graph can do: one object per op and
  one closure per backward rule, on arrays.
- `Tensor` is the `Function` protocol with all of that stripped: each op a `Function` with
  `forward(ctx, arrays)` and `backward(ctx, Tensors)`, a context that saves for backward,
  `apply` with a no-grad path, and backward rules in Tensor ops (so, in pluggrad, they can be
  differentiated again). pluggrad's custom ops take this protocol; its built-in ops take the
  leaner path of `autograd.op` (no context object, and the operators call each op's
  generated `apply` directly).
"""

import heapq
import itertools

import numpy

import backends

_creation_order = itertools.count()
_formulas = backends.get("numpy")  # sigmoid and the fused backward formulas, as pluggrad's


# ---------------------------------------------------------------------------- closures
class Value:
    __slots__ = ("data", "grad", "parents", "backward_rule", "order")

    def __init__(self, data, parents=(), backward_rule=None):
        self.data = data
        self.grad = None
        self.parents = parents
        self.backward_rule = backward_rule  # the output's gradient -> one per parent
        self.order = next(_creation_order)

    def __mul__(self, scale):
        """By a Python number."""
        return Value(self.data * scale, (self,), lambda grad: (grad * scale,))

    def __add__(self, other):
        return Value(self.data + other.data, (self, other), lambda grad: (grad, grad))

    def tanh(self):
        y = numpy.tanh(self.data)
        return Value(y, (self,), lambda grad: (_formulas.tanh_backward(grad, y),))

    def sigmoid(self):
        y = _formulas.sigmoid(self.data)
        return Value(y, (self,), lambda grad: (_formulas.sigmoid_backward(grad, y),))

    def sum(self):
        shape = self.data.shape
        return Value(self.data.sum(), (self,),
                     lambda grad: (numpy.broadcast_to(grad, shape),))

    def backward(self):
        """Run each node's rule newest first, so its gradient is complete when it runs."""
        self.grad = numpy.ones_like(self.data)
        queue = [(-self.order, self)]
        while queue:
            node = heapq.heappop(queue)[1]
            for parent, grad in zip(node.parents, node.backward_rule(node.grad)):
                if parent.grad is not None:
                    parent.grad = parent.grad + grad
                    continue
                parent.grad = grad
                if parent.backward_rule is not None:
                    heapq.heappush(queue, (-parent.order, parent))


# ---------------------------------------------------------------------------- Functions
_recording = [True]


class Tensor:
    __slots__ = ("data", "requires_grad", "grad", "grad_fn")

    def __init__(self, data, requires_grad=False, grad_fn=None):
        self.data = data
        self.requires_grad = requires_grad
        self.grad = None
        self.grad_fn = grad_fn

    def __mul__(self, other):
        return Mul.apply(self, other)

    def __add__(self, other):
        return Add.apply(self, other)

    def tanh(self):
        return Tanh.apply(self)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def sum(self):
        return Sum.apply(self)

    def backward(self):
        """Nodes run newest first, with grad recording off; a leaf sums what it gets."""
        _recording[0] = False
        try:
            root = self.grad_fn
            root.grad = Tensor(numpy.ones_like(self.data))
            queue = [(-root.order, root)]
            while queue:
                node = heapq.heappop(queue)[1]
                for tensor, grad in zip(node.inputs, node.fn.backward(node, node.grad)):
                    if grad is None or not tensor.requires_grad:
                        continue
                    target = tensor.grad_fn or tensor
                    if target.grad is not None:
                        target.grad = target.grad + grad
                        continue
                    target.grad = grad
                    if target is not tensor:
                        heapq.heappush(queue, (-target.order, target))
        finally:
            _recording[0] = True


class Context:
    __slots__ = ("fn", "inputs", "saved", "grad", "order")

    def __init__(self, fn, inputs):
        self.fn = fn
        self.inputs = inputs
        self.saved = None
        self.grad = None
        self.order = next(_creation_order)

    def save_for_backward(self, *values):
        self.saved = values

    @property
    def saved_tensors(self):
        return tuple([Tensor(v) if type(v) is numpy.ndarray else v for v in self.saved])


class _ForwardOnlyContext:
    __slots__ = ()

    def save_for_backward(self, *values):
        pass


class Function:
    """The first argument is a Tensor; a second, if any, a Tensor or a Python number."""

    @classmethod
    def apply(cls, x, y=None):
        if y is None:
            requires_grad, arrays = x.requires_grad, (x.data,)
        elif type(y) is Tensor:
            requires_grad, arrays = x.requires_grad or y.requires_grad, (x.data, y.data)
        else:
            requires_grad, arrays = x.requires_grad, (x.data, y)
        if requires_grad and _recording[0]:
            ctx = Context(cls, (x, y))
            return Tensor(cls.forward(ctx, *arrays), True, ctx)
        return Tensor(cls.forward(_ForwardOnlyContext(), *arrays))


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, None


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        y = numpy.tanh(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return (TanhBackward.apply(grad, y),)


class TanhBackward(Function):
    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        return _formulas.tanh_backward(grad, y)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        y = _formulas.sigmoid(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return (SigmoidBackward.apply(grad, y),)


class SigmoidBackward(Function):
    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        return _formulas.sigmoid_backward(grad, y)


class Sum(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a.sum()

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return (Tensor(numpy.broadcast_to(grad.data, a.data.shape)),)
