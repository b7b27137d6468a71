"""`Optimizer`: parameter groups, per-parameter state, and saving both.

A subclass gives its defaults and `_update(param, grad, state, group)`, which makes one fused
in-place call of `autograd.updates` per parameter, so a backend can do the whole update in
one pass over memory; or `_update_group(params, group)`, given every parameter of a group
that has a gradient, to update them in one call (Adam does).
"""

import math
import numbers

import autograd as ag


class Optimizer:
    def __init__(self, params, defaults):
        if isinstance(params, ag.Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors "
                            f"or of group dicts, got a single Tensor; pass [tensor] or "
                            f"model.parameters()")
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict with "params" and any hyperparameters that differ from the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}: a parameter group must be a dict with "
                            f"a 'params' entry, got {group!r}")
        params = group["params"]
        params = [params] if isinstance(params, ag.Tensor) else list(params)
        for p in params:
            if not isinstance(p, ag.Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimise Tensors, got "
                                f"{type(p).__name__}")
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can only optimise leaf tensors "
                                 f"that require grad (shape {tuple(p.shape)}); use "
                                 f"nn.Parameter or requires_grad=True")
        known = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in known for p in params):
            raise ValueError(f"{type(self).__name__}: a parameter appears more than once "
                             f"across the parameter groups")
        overrides = {key: value for key, value in group.items() if key in self.defaults}
        check_hyperparameters(
            type(self).__name__, overrides,
            flags=[key for key, value in self.defaults.items() if isinstance(value, bool)],
            pairs=[key for key, value in self.defaults.items() if isinstance(value, tuple)])
        filled = dict(self.defaults)
        filled.update(group)
        filled["params"] = params
        self.param_groups.append(filled)

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (the default), or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad = None if set_to_none else ag.zeros_like(p.grad)

    def step(self, closure=None):
        """Update every parameter that has a gradient. `closure`, if given, re-evaluates the
        model and returns the loss (it runs with gradients enabled); step returns it."""
        loss = None
        if closure is not None:
            with ag.enable_grad():
                loss = closure()
        with ag.no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._update_group(params, group)
        return loss

    def _update_group(self, params, group):
        for p in params:
            self._update(p, p.grad, self.state.setdefault(p, {}), group)

    def _update(self, param, grad, state, group):
        raise NotImplementedError(f"{type(self).__name__} must define _update or "
                                  f"_update_group")

    # ---------------------------------------------------------------- saving
    def state_dict(self):
        """PyTorch's layout: {"state": {index: {name: value}}, "param_groups": [...]}, where
        parameters are numbered across the groups in order and each group lists its own
        indices under "params"."""
        index = {}
        groups = []
        for group in self.param_groups:
            numbered = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                numbered.append(index[id(p)])
            groups.append({**group, "params": numbered})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by `state_dict()` (or read back by
        `nn.load`); state tensors are copied onto each parameter's backend and dtype."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved state has "
                             f"{len(saved_groups)} parameter group(s), this optimiser "
                             f"{len(self.param_groups)}")
        by_index = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{type(self).__name__}.load_state_dict: group {i} has "
                                 f"{len(saved['params'])} parameter(s) in the saved state, "
                                 f"{len(group['params'])} here")
            by_index.update(zip(saved["params"], group["params"]))
        self.state = {}
        for key, values in state_dict["state"].items():
            param = by_index.get(int(key))
            if param is None:
                raise ValueError(f"{type(self).__name__}.load_state_dict: the saved state "
                                 f"refers to parameter {key}, which no saved group lists")
            self.state[param] = {name: _state_value(name, value, param)
                                 for name, value in values.items()}
        for saved, group in zip(saved_groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})


def check_hyperparameters(owner, values, flags=(), pairs=()):
    """Refuse a hyperparameter that is not what its optimiser or scheduler can use: the
    names in `flags` must be True or False, those in `pairs` two numbers, every other one a
    number (TypeError naming it otherwise); every number must be finite (ValueError: a NaN
    or an infinity would pass the range checks that follow and poison every weight)."""
    for name, value in values.items():
        if name in flags:
            if not isinstance(value, bool):
                raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
        elif name in pairs:
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                raise TypeError(f"{owner}: {name} must be a pair of numbers, got {value!r}")
            for i, item in enumerate(value):
                check_number(owner, f"{name}[{i}]", item)
        else:
            check_number(owner, name, value)


def check_number(owner, name, value):
    """`value` must be a finite real number (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r} "
                        f"({type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value}")


def _state_value(name, value, param):
    """A saved state entry ready for `param`: tensors copied to its backend and dtype."""
    if not isinstance(value, ag.Tensor):
        return value
    if tuple(value.shape) != tuple(param.shape):
        raise ValueError(f"Optimizer.load_state_dict: state {name!r} has shape "
                         f"{tuple(value.shape)} but its parameter has shape "
                         f"{tuple(param.shape)}")
    return ag.tensor(value, dtype=param.dtype, backend=param.backend)
