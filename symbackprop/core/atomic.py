"""Files at paths a user names: inputs read safely, outputs written atomically.

An input is read only if it is a regular file, and only up to limits' ``file_bytes``: a FIFO
would block the read for ever and /dev/zero would fill the memory. It is opened without blocking
and checked by its descriptor (fstat), so nothing can be swapped in between.

An output goes to a temporary file, then a rename, so a failed run never leaves a half-written
file. Only a regular file (or none yet) is replaced, at the path its symlinks lead to, so a link
survives. A character device (/dev/null, a terminal) or a FIFO with a reader is written through,
as a shell's ``>`` would: renaming over it would replace the device itself. Anything else is refused.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from .errors import InputError
from .limits import LIMITS

_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_THROUGH = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_REFUSED = ((stat.S_ISDIR, "a directory"), (stat.S_ISSOCK, "a socket"), (stat.S_ISBLK, "a block device"))


def read_input(path: str | os.PathLike, expected: str = "a derivation file (TOML)") -> bytes:
    """The bytes of the regular file at ``path`` (symlinks followed), or an InputError naming it."""
    name, bound = str(path), LIMITS["file_bytes"]
    fd = _open(path, name, expected)
    try:
        size = _regular_size(os.fstat(fd), name, expected)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = b"" if size > bound.value else f.read(bound.value + 1)  # a file may hold more than st_size says
    except OSError as e:
        raise InputError(f"cannot read ({e.strerror})", file=name) from None
    finally:
        os.close(fd)
    size = max(size, len(data))
    if size > bound.value:
        raise InputError(f"{size:,} bytes; symbackprop reads at most {bound.value:,} {bound.unit} ({bound.why})",
                         file=name)
    return data


def _open(path: str | os.PathLike, name: str, expected: str) -> int:
    """Without blocking: a FIFO opens at once, to be refused by its kind rather than waited on."""
    try:
        return os.open(path, _READ)
    except FileNotFoundError:
        raise InputError(f"no such file; expected {expected}", file=name) from None
    except IsADirectoryError:
        raise InputError(f"is a directory; expected {expected}", file=name) from None
    except OSError as e:
        raise InputError(f"cannot read ({e.strerror})", file=name) from None


def _regular_size(st: os.stat_result, name: str, expected: str) -> int:
    """The size of what was opened, refused unless it is a regular file (checked before any read)."""
    if not stat.S_ISREG(st.st_mode):
        what = "is a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise InputError(f"{what}; expected {expected}", file=name)
    return st.st_size


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` to ``path``: atomically to a regular file, through a character device or FIFO."""
    name = str(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    mode = _mode(path, name)
    if mode is None or stat.S_ISREG(mode):
        _replace(Path(os.path.realpath(path)), payload, name)
    elif stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        _write_through(path, payload, name, fifo=stat.S_ISFIFO(mode))
    else:
        kind = next((kind for test, kind in _REFUSED if test(mode)), "not a regular file")
        raise InputError(f"is {kind}; expected a regular file (or a character device or FIFO) to write", file=name)


def _mode(path: str | os.PathLike, name: str) -> int | None:
    """The mode of what ``path`` leads to (symlinks followed), None where nothing is there yet."""
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as e:
        raise InputError(f"cannot write ({e.strerror})", file=name) from None


def _replace(path: Path, payload: bytes, name: str) -> None:
    """The temporary file beside the real target, renamed over it."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    except OSError as e:
        raise InputError(f"cannot write here ({e.strerror}); expected a writable directory", file=name) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the mode open() would
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write ({e.strerror})", file=name) from None


def _write_through(path: str | os.PathLike, payload: bytes, name: str, fifo: bool) -> None:
    """Open without creating or truncating; a FIFO without blocking, so that one with no reader is refused."""
    try:
        fd = os.open(path, _THROUGH | (getattr(os, "O_NONBLOCK", 0) if fifo else 0))
    except OSError as e:
        if fifo and e.errno == errno.ENXIO:
            raise InputError("is a FIFO with no reader; expected a reader on it, or a regular file", file=name) from None
        raise InputError(f"cannot write ({e.strerror})", file=name) from None
    try:
        _check_still_through(fd, name)
        os.set_blocking(fd, True)
        rest = memoryview(payload)
        while rest:
            rest = rest[os.write(fd, rest):]
    except OSError as e:
        raise InputError(f"cannot write ({e.strerror})", file=name) from None
    finally:
        os.close(fd)


def _check_still_through(fd: int, name: str) -> None:
    """What was opened is what was examined: a regular file swapped in would be written untruncated."""
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise InputError("changed while being opened; expected a character device or FIFO", file=name)
