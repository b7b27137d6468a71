"""Where the Numba backend's compiled kernels are cached on disk.

Numba caches next to the source, in `__pycache__`. An installation may be read-only, so when
that folder is not writable the kernels go to the user's cache folder instead
(`$XDG_CACHE_HOME/pluggrad/numba`, by default `~/.cache/pluggrad/numba`), and to the temporary
folder if even that is not writable. `NUMBA_CACHE_DIR`, when set, always wins.
"""

import os
import tempfile


def cache_folder(source_folder, environ=os.environ):
    """The folder to give Numba as its cache for kernels defined in `source_folder`, or None
    when Numba's own choice (NUMBA_CACHE_DIR, else `__pycache__` there) is writable."""
    if environ.get("NUMBA_CACHE_DIR"):
        return None
    if _writable(os.path.join(source_folder, "__pycache__")):
        return None
    user_cache = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                               ".cache")
    for folder in (os.path.join(user_cache, "pluggrad", "numba"),
                   os.path.join(tempfile.gettempdir(), f"pluggrad-numba-{_user_id()}")):
        if _writable(folder):
            return folder
    return None


def configure(source_folder):
    """Point Numba's cache at `cache_folder(source_folder)` where needed. Numba picks the
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
