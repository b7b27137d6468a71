"""`autograd.__version__`: the version of the pluggrad distribution.

There is no `pluggrad` module (the distribution installs `backends`, `autograd` and `nn`), so
the version comes from the installed package's metadata, the same value as
`importlib.metadata.version("pluggrad")`. Run from a source checkout that was never
installed, it is read from the checkout's pyproject.toml.
"""

import re
from importlib import metadata
from pathlib import Path


def _pluggrad_version():
    try:
        return metadata.version("pluggrad")
    except metadata.PackageNotFoundError:  # a checkout on sys.path, not installed
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        found = None
        if pyproject.is_file():
            found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), re.MULTILINE)
        return found.group(1) if found else "0+unknown"


__version__ = _pluggrad_version()
