"""pluggrad is three import packages, `backends`, `autograd` and `nn`, whose names other
distributions use too (HIPS `autograd` above all). A package of ours that imports a sibling
checks that the sibling is pluggrad's, so a shadowing package fails at import with a message
that names it, instead of later with "module 'autograd' has no attribute 'Tensor'".

Each of the three packages sets `__distribution__ = "pluggrad"` in its `__init__`.
"""

import importlib
from importlib import metadata

DISTRIBUTION = "pluggrad"


def require_pluggrad(name, importer):
    """Import the package `name` and raise ImportError unless it is pluggrad's."""
    module = importlib.import_module(name)
    if getattr(module, "__distribution__", None) != DISTRIBUTION:
        raise ImportError(foreign_package_message(name, importer, module))
    return module


def foreign_package_message(name, importer, module):
    """Why `importer` cannot use the `name` it found, where that came from, and the fix."""
    location = getattr(module, "__file__", None) or ", ".join(getattr(module, "__path__", []))
    owner = _distribution_of(name)
    found = f"the `{name}` of {owner}" if owner else f"another package named `{name}`"
    return (f"{importer} needs pluggrad's `{name}` package, but `import {name}` found {found} "
            f"at {location or 'an unknown location'}. Fix: uninstall the other package "
            f"({_uninstall_hint(name, owner)}) or give pluggrad its own virtual environment, "
            f"then reinstall pluggrad (pip install --force-reinstall pluggrad); when running "
            f"from a checkout, put the checkout first on sys.path.")


def _distribution_of(name):
    """'autograd 1.7.0' for a top-level package that an installed distribution other than
    pluggrad provides, else None."""
    owners = metadata.packages_distributions().get(name, [])
    others = [owner for owner in owners if owner.lower() != DISTRIBUTION]
    if not others:
        return None
    try:
        return f"{others[0]} {metadata.version(others[0])}"
    except metadata.PackageNotFoundError:
        return others[0]


def _uninstall_hint(name, owner):
    return f"pip uninstall {owner.split()[0]}" if owner else f"remove or rename that `{name}`"
