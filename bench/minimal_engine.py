"""The smallest reverse-mode engine Python allows, for the chain of the overhead suite.

One object per op and one closure per backward rule, on NumPy arrays, with the NumPy backend's
formulas (so the same NumPy calls) and nothing else: no checks of shapes, dtypes or backends,
no version counters or hooks, and backward rules on arrays, so its gradients cannot be
differentiated again. What it costs per op is what recording a graph costs in Python at the
least, the floor that pluggrad's per-op overhead is set against.
"""

import heapq
import itertools

import numpy

_creation_order = itertools.count()


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
        return Value(y, (self,), lambda grad: (grad - grad * y * y,))

    def sigmoid(self):
        y = numpy.exp(-numpy.logaddexp(0, -self.data))

        def backward_rule(grad):
            scaled = grad * y
            return (scaled - scaled * y,)

        return Value(y, (self,), backward_rule)

    def sum(self):
        shape = self.data.shape
        return Value(self.data.sum(), (self,),
                     lambda grad: (numpy.broadcast_to(grad, shape),))

    def backward(self):
        """Fill `.grad` of every Value this one depends on, newest first, so each gradient
        is complete before it is passed on."""
        self.grad = numpy.ones_like(self.data)
        queue = [(-self.order, self)]
        while queue:
            node = heapq.heappop(queue)[1]
            if node.backward_rule is None:
                continue
            for parent, grad in zip(node.parents, node.backward_rule(node.grad)):
                if parent.grad is None:
                    parent.grad = grad
                    heapq.heappush(queue, (-parent.order, parent))
                else:
                    parent.grad = parent.grad + grad
