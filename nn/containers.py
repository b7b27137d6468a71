"""`ModuleList` and `ModuleDict`: sub-modules held in a list or a dict, registered so that
`parameters()`, `state_dict()` and `to()` find them, under PyTorch's names ("layers.0.weight",
"heads.policy.bias"). Neither has a `forward`: the module that holds them decides how they
are called."""

from .module import Module


class ModuleList(Module):
    """A list of modules, named "0", "1", ... in order (renumbered after a deletion or an
    insertion, as in PyTorch)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _items(self):
        return list(self._modules.values())

    def _reset(self, modules):
        for name in list(self._modules):
            delattr(self, name)
        for i, module in enumerate(modules):
            self.add_module(str(i), _checked("ModuleList", i, module))

    def _position(self, index):
        n = len(self._modules)
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"ModuleList indices must be ints or slices, got "
                            f"{type(index).__name__}")
        if not -n <= index < n:
            raise IndexError(f"ModuleList index {index} is out of range for {n} modules")
        return index % n

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(self._items()[index])
        return self._modules[str(self._position(index))]

    def __setitem__(self, index, module):
        self.add_module(str(self._position(index)), _checked("ModuleList", index, module))

    def __delitem__(self, index):
        items = self._items()
        if isinstance(index, slice):
            del items[index]
        else:
            del items[self._position(index)]
        self._reset(items)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._items())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(self._items() + list(other))

    def append(self, module):
        self.add_module(str(len(self)), _checked("ModuleList", len(self), module))
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        items = self._items()
        items.insert(index, _checked("ModuleList", index, module))
        self._reset(items)

    def pop(self, index=-1):
        module = self[index]
        del self[index]
        return module


class ModuleDict(Module):
    """A dict of modules under string keys, in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r}; it has {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys must be strings, got {type(key).__name__}")
        self.add_module(key, _checked("ModuleDict", key, module))

    def __delitem__(self, key):
        self.pop(key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key):
        module = self[key]
        delattr(self, key)
        return module

    def clear(self):
        for key in list(self._modules):
            del self[key]


def _checked(container, position, module):
    if not isinstance(module, Module):
        raise TypeError(f"{container}: entry {position!r} is a {type(module).__name__}, not "
                        f"a Module")
    return module
