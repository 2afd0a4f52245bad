"""Atomic writes: a temporary file, then a rename, so a failed run never leaves a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write via a temporary file and rename, so a failed run never leaves a half-written file."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    except OSError as e:
        raise InputError(f"cannot write here ({e.strerror}); expected a writable directory", file=str(path)) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the mode open() would
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write ({e.strerror})", file=str(path)) from None
