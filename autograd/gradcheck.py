"""Compare analytic gradients with central finite differences, in float64."""

from .creation import tensor
from .grad_mode import enable_grad, no_grad
from .gradients import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree; the message names the input and element."""


def _prepare(inputs):
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != "float64":
            raise TypeError(f"gradcheck: input {i} is {t.dtype}; finite differences need "
                            f"float64 inputs (use .astype('float64'))")
    return inputs


def _outputs(fn, inputs):
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(out)


def _numerical(fn, inputs, index, grad_outputs, eps):
    """d <grad_outputs, fn(inputs)> / d inputs[index], element by element."""
    x = inputs[index]
    flat = x.data.reshape(-1)
    backend = x.backend
    result = backend.zeros((flat.shape[0],), "float64")

    def weighted_total():
        with no_grad():
            total = 0.0
            for out, g in zip(_outputs(fn, inputs), grad_outputs):
                total += float((out.astype("float64") * g).sum().item())
            return total

    for k in range(flat.shape[0]):
        original = float(backend.item(flat[k]))
        flat[k] = original + eps
        plus = weighted_total()
        flat[k] = original - eps
        minus = weighted_total()
        flat[k] = original
        result[k] = (plus - minus) / (2 * eps)
    return backend.reshape(result, x.shape)


def _compare(what, index, analytic, numerical, atol, rtol, raise_exception):
    backend = numerical.backend if isinstance(numerical, Tensor) else None
    a = analytic.numpy().reshape(-1)
    n = numerical.numpy().reshape(-1) if backend else numerical.reshape(-1)
    worst, worst_excess = None, 0.0
    for k in range(len(n)):
        excess = abs(float(a[k]) - float(n[k])) - (atol + rtol * abs(float(n[k])))
        if excess > worst_excess or (excess != excess):
            worst, worst_excess = k, excess
            if excess != excess:
                break
    if worst is None:
        return True
    if raise_exception:
        raise GradcheckError(
            f"{what}: gradient of input {index} disagrees with finite differences at flat "
            f"element {worst}: analytic {float(a[worst])!r}, numerical {float(n[worst])!r} "
            f"(atol={atol}, rtol={rtol})")
    return False


def _random_like(out):
    return tensor(out.backend.randn(out.shape, "float64"), backend=out.backend)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True when every float64 input's analytic gradient, taken against a random upstream
    gradient, matches central finite differences; otherwise GradcheckError (or False)."""
    inputs = _prepare(inputs)
    outputs = _outputs(fn, inputs)
    grad_outputs = [_random_like(out) for out in outputs]
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    differentiable = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if differentiable:
        analytic = grad([o for o, _ in differentiable], [inputs[i] for i in checked],
                        [g for _, g in differentiable], allow_unused=True)
    else:
        analytic = [None] * len(checked)
    for i, a in zip(checked, analytic):
        if a is None:
            a = tensor(inputs[i].backend.zeros(inputs[i].shape, "float64"),
                       backend=inputs[i].backend)
        numerical = _numerical(fn, inputs, i, grad_outputs, eps)
        numerical = Tensor(numerical, inputs[i].backend)
        if not _compare("gradcheck", i, a, numerical, atol, rtol, raise_exception):
            return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True):
    """gradcheck of the first derivative: checks second derivatives of `fn`."""
    inputs = _prepare(inputs)
    outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        grad_outputs = [_random_like(o).requires_grad_(True) for o in outputs]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    n_inputs = len(inputs)

    def first_derivative(*args):
        xs, gs = args[:n_inputs], args[n_inputs:]
        with enable_grad():  # finite differences evaluate this under no_grad
            outs = _outputs(fn, xs)
            pairs = [(o, g) for o, g in zip(outs, gs) if o.requires_grad]
            grads = grad([o for o, _ in pairs], [xs[i] for i in checked],
                         [g for _, g in pairs], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else xs[i] * 0.0 for i, g in zip(checked, grads))

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps, atol, rtol,
                     raise_exception)
