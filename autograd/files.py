"""Files that are never seen half-written, and checksums that notice a changed byte.

Both `nn.save` (checkpoints) and `autograd.jit`'s `save` (programs) write through
`write_atomically`, and both seal their safetensors files with `seal`. A file is written
under a unique temporary name in the target's own folder, flushed to disk and renamed over
the target in one step, so a reader (or a crash, or another thread saving to the same path)
only ever finds the old file or the complete new one, never a mixture or a stub.

The checksum is a SHA-256 of the whole file, stored in the safetensors header's metadata
(computed with its own place filled with zeros), so the file stays a plain safetensors file
that PyTorch and the safetensors library read. It detects corruption (a truncated copy, a
flipped bit), not forgery: whoever can change the file can recompute it.
"""

import contextlib
import hashlib
import json
import os
import secrets

CHECKSUM_KEY = "pluggrad.sha256"
CHECKSUM_PLACEHOLDER = "0" * 64
"""What `seal` replaces: put it under CHECKSUM_KEY in the metadata of the file to seal."""
MAX_HEADER = 100 * 1024 * 1024
"""The largest safetensors header read (the safetensors library's own limit)."""


def write_atomically(path, data):
    """Write the bytes `data` to `path` so that `path` is always either its old content or
    all of `data`; on any failure the temporary file is removed and the error raised."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = _create_unique(folder, os.path.basename(path))
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    _sync_folder(folder)


def _create_unique(folder, name):
    """A new file beside the target, with a name no other writer uses (created with the
    usual permissions, as `open` would)."""
    while True:
        temporary = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.partial")
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temporary
        except FileExistsError:
            continue


def _sync_folder(folder):
    """Make the rename itself durable (POSIX keeps it in the folder's entry)."""
    if not hasattr(os, "O_DIRECTORY"):  # Windows: a folder cannot be opened for fsync
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def seal(data):
    """safetensors bytes whose metadata holds CHECKSUM_PLACEHOLDER under CHECKSUM_KEY, with
    the placeholder replaced by the file's SHA-256."""
    header_end = 8 + int.from_bytes(data[:8], "little")
    start = data.index(f'"{CHECKSUM_PLACEHOLDER}"'.encode(), 8, header_end) + 1
    digest = hashlib.sha256(data).hexdigest().encode()
    return data[:start] + digest + data[start + len(digest):]


def read_metadata(data):
    """The metadata dict of a safetensors file's bytes (empty when it has none). Raises
    ValueError saying what is wrong: truncated, or a header that is not safetensors'."""
    if len(data) < 8:
        raise ValueError(f"is truncated ({len(data)} bytes)")
    header_end = 8 + int.from_bytes(data[:8], "little")
    if header_end > len(data) or header_end > 8 + MAX_HEADER:
        raise ValueError(f"is truncated or not a safetensors file (its header claims "
                         f"{header_end - 8} bytes, the file has {len(data)})")
    try:
        header = json.loads(data[8:header_end])
    except (ValueError, RecursionError) as error:
        raise ValueError(f"is not a safetensors file (its header is not valid JSON: "
                         f"{type(error).__name__})") from None
    metadata = header.get("__metadata__", {}) if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or not all(
            isinstance(value, str) for value in metadata.values()):
        raise ValueError("is not a safetensors file (its header's metadata is not a "
                         "dict of strings)")
    return metadata


def verify(data, metadata):
    """Check the checksum that `metadata` (read from `data`) holds; ValueError says why the
    file is refused."""
    digest = metadata.get(CHECKSUM_KEY, "")
    header_end = 8 + int.from_bytes(data[:8], "little")
    start = data.find(f'"{digest}"'.encode(), 8, header_end) + 1
    if len(digest) != 64 or start == 0:
        raise ValueError("has a malformed checksum")
    blanked = data[:start] + CHECKSUM_PLACEHOLDER.encode() + data[start + 64:]
    if hashlib.sha256(blanked).hexdigest() != digest:
        raise ValueError("was changed after it was saved (its SHA-256 checksum does not "
                         "match its contents); refusing to load it")
