"""Where the Numba backend's compiled kernels are cached on disk.

Numba checks a cached kernel against its own source file only, not against the functions it
inlines: a kernel whose formula (`backends.formulas`) changed would load the old machine code.
So the kernels are cached in a folder named after the formulas' source (a hash of
formulas.py): a change there starts a fresh folder. That folder is in `__pycache__` next to
the code; an installation may be read-only, and then it goes under the user's cache folder
(`$XDG_CACHE_HOME/pluggrad/numba`, by default `~/.cache/pluggrad/numba`), or the temporary
folder if even that is not writable. `NUMBA_CACHE_DIR`, when set, always wins.
"""

import hashlib
import os
import tempfile


def cache_folder(source_folder, environ=os.environ):
    """The folder to give Numba as its cache for kernels defined in `source_folder` (None
    when NUMBA_CACHE_DIR chooses it)."""
    if environ.get("NUMBA_CACHE_DIR"):
        return None
    user_cache = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                               ".cache")
    for base in (os.path.join(source_folder, "__pycache__"),
                 os.path.join(user_cache, "pluggrad", "numba"),
                 os.path.join(tempfile.gettempdir(), f"pluggrad-numba-{_user_id()}")):
        folder = os.path.join(base, f"numba-formulas-{formulas_version()}")
        if _writable(folder):
            return folder
    return None


def formulas_version():
    """A short hash of `backends/formulas.py`, which every compiled kernel's arithmetic
    comes from."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "formulas.py")
    with open(path, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()[:12]


def configure(source_folder):
    """Point Numba's cache at `cache_folder(source_folder)`. Numba picks the
    folder when a cached function is defined, so this runs before the kernels are."""
    folder = cache_folder(source_folder)
    if folder is not None:
        import numba  # here, not at the top: the NumPy backend imports this module too

        numba.config.CACHE_DIR = folder


def _writable(folder):
    """Whether files can be created in `folder` (made if missing), tested by making one, as
    Numba itself does: permission bits say nothing for root or on read-only mounts."""
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def _user_id():
    return os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
