"""Optional dependencies (matplotlib for pictures): a program that can do its main work
without one does it, and says how to get the rest, whether the dependency is missing or
installed but broken (an import that raises anything at all)."""

import importlib


def optional_import(name, package, extra):
    """`(module, None)` for the module `name`, which needs the optional `package` (installed
    with pluggrad's `extra`), or `(None, reason)` when `package` cannot be imported, the
    reason saying what went wrong and how to fix it. An error that does not come from
    `package` is raised as usual."""
    try:
        return importlib.import_module(name), None
    except Exception as error:
        if not _comes_from(error, package):
            raise
        if isinstance(error, ModuleNotFoundError) and _top(error.name) == package:
            return None, f'{package} is not installed; pip install "pluggrad[{extra}]"'
        return None, (f"{package} is installed but fails to import ({type(error).__name__}: "
                      f"{error}); reinstall it: pip install --force-reinstall {package}")


def _top(module_name):
    return str(module_name).split(".")[0]


def _comes_from(error, package):
    """Whether `error` was raised by importing `package` (it names the package, or a frame
    of the package's own code raised it)."""
    if isinstance(error, ImportError) and _top(error.name) == package:
        return True
    traceback = error.__traceback__
    while traceback is not None:
        if _top(traceback.tb_frame.f_globals.get("__name__")) == package:
            return True
        traceback = traceback.tb_next
    return False
