"""Fail at import, naming the culprit, when the `backends` package found is not pluggrad's
(a different project's `backends` first on sys.path). See backends/family.py."""

import sys

try:
    import backends.family  # noqa: F401
    # An editable install's finder can supply pluggrad's `backends.family` under a foreign
    # `backends`: the package itself must be pluggrad's.
    foreign = getattr(sys.modules["backends"], "__distribution__", None) != "pluggrad"
except ModuleNotFoundError as error:
    if error.name != "backends.family":
        raise
    foreign = True
if foreign:
    raise ImportError(
        f"autograd needs pluggrad's `backends` package, but `import backends` found another "
        f"package of that name at {getattr(sys.modules.get('backends'), '__file__', None)}. "
        f"Fix: uninstall or rename it, or give pluggrad its own virtual environment; when "
        f"running from a checkout, put the checkout first on sys.path.") from None
