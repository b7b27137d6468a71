"""`Module` and `Parameter`: how a model holds its weights and its sub-models.

Assigning a `Parameter` or a `Module` to an attribute registers it (as in PyTorch), so
`parameters()`, `state_dict()` and `to()` find everything without being told. Registered
values also stay ordinary attributes, so reading `self.weight` in `forward` costs nothing
extra.
"""

from collections import namedtuple

import autograd as ag
from autograd.tensor import HookHandle

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(ag.Tensor):
    """A leaf tensor that requires grad: what a Module registers and an optimiser updates.

    It shares the array of the tensor it is made from, like `torch.nn.Parameter`.
    """

    __slots__ = ()

    def __init__(self, tensor, requires_grad=True):
        if not isinstance(tensor, ag.Tensor):
            raise TypeError(f"Parameter: expected a Tensor, got {type(tensor).__name__}; "
                            f"make one with autograd.tensor(...) first")
        super().__init__(tensor.data, tensor.backend)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model: subclass it, assign parameters and sub-modules
    in `__init__` (after `super().__init__()`), and write `forward`."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def __call__(self, *args, **kwargs):
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                replaced = hook(self, args, output)
                if replaced is not None:
                    output = replaced
        return output

    def register_buffer(self, name, tensor, persistent=True):
        """Keep `tensor` (or None) as state that is not a parameter, as PyTorch does: it moves
        with `to()`, gets no gradient from optimisers, and is in `state_dict()` unless
        `persistent=False`. Reassigning `self.name = tensor` replaces it."""
        self._check_new_name("register_buffer", name)
        if tensor is not None and not isinstance(tensor, ag.Tensor):
            raise TypeError(f"{type(self).__name__}.register_buffer({name!r}, ...): expected "
                            f"a Tensor or None, got {type(tensor).__name__}")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name, param):
        """Register `param` (a Parameter, or None) under `name`, as assigning it does."""
        self._check_new_name("register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}.register_parameter({name!r}, ...): "
                            f"expected an nn.Parameter or None, got {type(param).__name__}")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def add_module(self, name, module):
        """Register `module` (or None) under `name`, as assigning it does; `name` may be any
        string without a dot (ModuleList uses "0", "1", ...)."""
        self._check_new_name("add_module", name, replaceable=self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module({name!r}, ...): expected a "
                            f"Module or None, got {type(module).__name__}")
        self._parameters.pop(name, None)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def _check_new_name(self, op, name, replaceable=None):
        replaceable = self._buffers if replaceable is None else replaceable
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.{op}: call super().__init__() first")
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"{type(self).__name__}.{op}: the name must be a non-empty "
                             f"string without '.', got {name!r}")
        if hasattr(self, name) and name not in replaceable and not (
                op == "register_parameter" and name in self._parameters):
            raise ValueError(f"{type(self).__name__}.{op}: attribute {name!r} already "
                             f"exists; pick another name")

    def register_forward_hook(self, fn):
        """Call `fn(module, inputs, output)` after every forward; a non-None return value
        replaces the output. Returns a handle whose `remove()` takes the hook away."""
        return HookHandle(self._forward_hooks, fn)

    # ---------------------------------------------------------------- registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: cannot assign {name!r} before "
                               f"Module.__init__() has run; call super().__init__() first")
        parameters, modules = self._parameters, self._modules
        if isinstance(value, Parameter):
            modules.pop(name, None)
            parameters[name] = value
        elif isinstance(value, Module):
            parameters.pop(name, None)
            modules[name] = value
        elif name in self._buffers:
            if value is not None and not isinstance(value, ag.Tensor):
                raise TypeError(f"{type(self).__name__}: cannot assign a "
                                f"{type(value).__name__} to buffer {name!r}; assign a Tensor "
                                f"or None")
            self._buffers[name] = value
        elif name in parameters:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign a "
                                f"{type(value).__name__} to parameter {name!r}; wrap it as "
                                f"nn.Parameter(...) or assign None")
            parameters[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign a "
                                f"{type(value).__name__} to sub-module {name!r}; assign a "
                                f"Module or None")
            modules[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        self._non_persistent_buffers.discard(name)
        object.__delattr__(self, name)

    # ---------------------------------------------------------------- traversal
    def named_children(self):
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """This module and every module under it, depth first as PyTorch lists them, with
        their dotted names; a module reached twice is listed once unless
        `remove_duplicate=False`. (`memo`, a set of modules to leave out, is PyTorch's.)"""
        if isinstance(memo, str):  # named_modules("prefix"), as this method was first called
            memo, prefix = None, memo
        seen = {id(module) for module in memo} if memo else set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            if remove_duplicate:
                seen.add(id(module))
            yield name, module
            below = [(f"{name}.{child_name}" if name else child_name, child)
                     for child_name, child in module.named_children()]
            stack.extend(reversed(below))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) pairs, each parameter once even where it is shared."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True):
        """(dotted name, tensor) for every buffer, persistent or not, each once."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, buffer in module._buffers.items():
                if buffer is None or id(buffer) in seen:
                    continue
                seen.add(id(buffer))
                yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call `fn(module)` on every sub-module, then on this one (PyTorch's order: e.g. to
        initialise weights by layer type). Returns this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---------------------------------------------------------------- modes and gradients
    def train(self, mode=True):
        """Switch this module and all below it to training mode (dropout active)."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Switch to evaluation mode: dropout passes its input through."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for param in self.parameters():
            if param.grad is None:
                continue
            param.grad = None if set_to_none else ag.zeros_like(param.grad)

    # ---------------------------------------------------------------- state
    def state_dict(self):
        """{dotted name: tensor} for every parameter and persistent buffer, named and ordered
        as PyTorch does ("0.weight", "0.bias", "bn.running_mean"). The tensors are detached
        and share the module's arrays."""
        return {name: value.detach() for name, value in self._state_by_name().items()}

    def _state_by_name(self, prefix=""):
        """Every parameter and persistent buffer under its dotted name (a shared one under
        each of its names): a module's own parameters, then its buffers, then its children."""
        found = {prefix + name: param for name, param in self._parameters.items()
                 if param is not None}
        found.update((prefix + name, buffer) for name, buffer in self._buffers.items()
                     if buffer is not None and name not in self._non_persistent_buffers)
        for name, module in self.named_children():
            found.update(module._state_by_name(f"{prefix}{name}."))
        return found

    def load_state_dict(self, state, strict=True):
        """Copy the tensors of `state` into this module's parameters (converted to each
        parameter's backend and dtype). Every missing, unexpected and mis-shaped key is
        reported in one ValueError, as is an integer or bool tensor given for a float
        parameter (cast it explicitly if that is meant); with `strict=False` only mis-shaped
        and mis-typed keys are errors, and the returned (missing_keys, unexpected_keys) says
        what was skipped."""
        own = self._state_by_name()
        for key, value in state.items():
            if not isinstance(value, ag.Tensor):
                raise TypeError(f"load_state_dict into {type(self).__name__}: {key!r} holds a "
                                f"{type(value).__name__}, not a Tensor")
        missing = [key for key in own if key not in state]
        unexpected = [key for key in state if key not in own]
        mis_shaped = [f"{key} (given {tuple(state[key].shape)}, model {tuple(param.shape)})"
                      for key, param in own.items()
                      if key in state and tuple(state[key].shape) != tuple(param.shape)]
        # Integers or booleans for a float parameter are almost always the wrong tensor (a
        # label, a mask, a step count), so they need an explicit cast.
        mis_typed = [f"{key} (given {state[key].dtype}, model {param.dtype})"
                     for key, param in own.items()
                     if key in state and param.dtype.is_floating
                     and not state[key].dtype.is_floating]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mis_shaped:
            problems.append("shape mismatches: " + ", ".join(mis_shaped))
        if mis_typed:
            problems.append("integer or bool values for float parameters: "
                            + ", ".join(mis_typed))
        if problems:
            fixes = []
            if mis_shaped or (strict and (missing or unexpected)):
                fix = "build the model with the layer sizes the state was saved from"
                if strict and (missing or unexpected):
                    fix += ", or pass strict=False to skip missing and unexpected keys"
                fixes.append(fix)
            if mis_typed:
                fixes.append("cast an integer or bool tensor that is meant as weights "
                             "explicitly (state[key] = state[key].astype('float32'))")
            fix = "; ".join(fixes)
            raise ValueError(f"load_state_dict into {type(self).__name__}: "
                             f"{'; '.join(problems)}. Fix: {fix}")
        for key, param in own.items():
            if key in state:
                rebind(param, ag.tensor(state[key], dtype=param.dtype, backend=param.backend))
        return IncompatibleKeys(missing, unexpected)

    def to(self, target):
        """Move every parameter (and its gradient) and buffer to a backend, or convert the
        floating ones to a floating dtype, in place: the Parameter objects stay the same, so
        optimisers built on them still hold them. Integer buffers keep their dtype, as in
        PyTorch. Returns the module."""
        params = list(self.parameters())
        moved = [param.detach().to(target) for param in params]
        if moved and not moved[0].dtype.is_floating:
            raise TypeError(f"{type(self).__name__}.to({target!r}): parameters must stay "
                            f"floating point; use 'float32' or 'float64'")
        grads = [None if p.grad is None else p.grad.to(target) for p in params]
        for param, values, grad in zip(params, moved, grads):
            rebind(param, values)
            param.grad = grad
        for buffer in self.buffers():
            values = buffer.detach().to(target)
            if values.dtype != buffer.dtype and not buffer.dtype.is_floating:
                values = values.astype(buffer.dtype)
            rebind(buffer, values)
        return self

    # ---------------------------------------------------------------- printing
    def extra_repr(self):
        """The arguments shown inside this module's parentheses in its repr."""
        return ""

    def __repr__(self):
        children = [f"({name}): " + repr(module).replace("\n", "\n  ")
                    for name, module in self.named_children()]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = ([self.extra_repr()] if self.extra_repr() else []) + children
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"


def rebind(tensor, values):
    """Make `tensor` hold the array (and backend) of the fresh tensor `values`, keeping the
    object itself: modules, optimisers and user code refer to parameters by identity."""
    tensor.data = values.data
    tensor.backend = values.backend
