"""Fused in-place optimiser updates: one backend call per parameter per step (for Adam, one
per group of parameters).

Each runs without recording a graph and bumps the versions of what it changes, so a graph
that saved the old values refuses to backward through them. The backend decides how many
passes over memory an update takes (the Numba backend makes each one pass).
"""

from .tensor import Tensor, bump_version


def _data(op, param, *tensors):
    for t in (param,) + tensors:
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {type(t).__name__}")
        if t is not None and t.backend is not param.backend:
            raise TypeError(f"{op}: the parameter is on backend {param.backend.name!r} but a "
                            f"state tensor is on {t.backend.name!r}; move the optimiser state "
                            f"with .to({param.backend.name!r})")
        if t is not None and t.shape != param.shape:
            raise ValueError(f"{op}: a state tensor has shape {tuple(t.shape)}, the parameter "
                             f"{tuple(param.shape)}")
    return [None if t is None else t.data for t in tensors]


def _bump(*tensors):
    for t in tensors:
        if t is not None:
            bump_version(t)


def sgd_step_(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0, nesterov=False,
              weight_decay=0.0, first_step=False):
    """SGD with PyTorch's rule; `momentum_buffer` (None without momentum) updates in place."""
    g, buf = _data("sgd_step_", param, grad, momentum_buffer)
    param.backend.sgd_step_(param.data, g, buf, lr, momentum, dampening, nesterov,
                            weight_decay, first_step)
    _bump(param, momentum_buffer)


def adam_step_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
               weight_decay=0.0, amsgrad=False, decoupled_weight_decay=False):
    """Adam (AdamW with `decoupled_weight_decay`) with PyTorch's rule; `step` counts from 1."""
    adam_steps_([param], [grad], [exp_avg], [exp_avg_sq], [max_exp_avg_sq], step, lr, beta1,
                beta2, eps, weight_decay, amsgrad, decoupled_weight_decay)


def adam_steps_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, step, lr, beta1, beta2,
                eps, weight_decay=0.0, amsgrad=False, decoupled_weight_decay=False):
    """`adam_step_` on each of several parameters of one backend (aligned lists; Nones in
    `max_exp_avg_sqs` without amsgrad) with one step count: one backend call for all, which
    the Numba backend makes one compiled loop."""
    backend = params[0].backend
    arrays = [[], [], [], [], []]
    for state in zip(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs):
        if state[0].backend is not backend:
            raise TypeError(f"adam_steps_: the parameters are on backends {backend.name!r} "
                            f"and {state[0].backend.name!r}; update each backend's "
                            f"parameters in a call of their own")
        for found, array in zip(arrays, [state[0].data] + _data("adam_step_", *state)):
            found.append(array)
    backend.adam_steps_(*arrays, step, lr, beta1, beta2, eps, weight_decay, amsgrad,
                        decoupled_weight_decay)
    for state in zip(params, exp_avgs, exp_avg_sqs, max_exp_avg_sqs):
        _bump(*state)


def rmsprop_step_(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                  weight_decay=0.0, momentum=0.0, centered=False):
    """RMSprop with PyTorch's rule; `grad_avg` is used when centered, `momentum_buffer` with
    momentum."""
    g, sq, ga, buf = _data("rmsprop_step_", param, grad, square_avg, grad_avg, momentum_buffer)
    param.backend.rmsprop_step_(param.data, g, sq, ga, buf, lr, alpha, eps, weight_decay,
                                momentum, centered)
    _bump(param, square_avg, grad_avg, momentum_buffer)


def adagrad_step_(param, grad, state_sum, step, lr, lr_decay=0.0, weight_decay=0.0,
                  eps=1e-10):
    """Adagrad with PyTorch's rule; `step` counts from 1."""
    g, s = _data("adagrad_step_", param, grad, state_sum)
    param.backend.adagrad_step_(param.data, g, s, step, lr, lr_decay, weight_decay, eps)
    _bump(param, state_sum)
