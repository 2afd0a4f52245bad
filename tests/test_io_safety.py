"""Reading and writing files that are not plain regular files: FIFOs, devices, symlinks, huge or
oddly named files. Each is refused in one line with exit 2, or written through, and is the same
kind of file afterwards (os.stat). Anything that could block runs in a subprocess with a timeout."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import DERIVATIONS, ROOT, SEED_CHAIN

from symbackprop.core import atomic
from symbackprop.core.atomic import read_input, write_atomic
from symbackprop.core.derivation_file import load
from symbackprop.core.errors import InputError
from symbackprop.core.limits import LIMITS, Limit

DENSE = DERIVATIONS / "dense_2_2_1.toml"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m symbackprop ARGS``, killed after 60 s: a command that blocks fails the test."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "symbackprop", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or ROOT, timeout=60)


def refused(r: subprocess.CompletedProcess, *fragments: str) -> str:
    """The one stderr line of a refusal (exit 2, nothing on stdout, no traceback), holding ``fragments``."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.endswith("\n") and r.stderr.count("\n") == 1, repr(r.stderr)
    for fragment in fragments:
        assert fragment in r.stderr, (fragment, r.stderr)
    return r.stderr


def kind(path) -> int:
    return stat.S_IFMT(os.lstat(path).st_mode)


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# -- writing (-o) ------------------------------------------------------------------------------

def test_fifo_without_reader_is_refused_and_stays_a_fifo(fifo):
    with pytest.raises(InputError) as e:
        write_atomic(fifo, "text")
    assert e.value.file == str(fifo) and "is a FIFO with no reader; expected" in e.value.what
    assert kind(fifo) == stat.S_IFIFO and leftovers(fifo.parent) == []


def test_fifo_with_reader_is_written_through(fifo):
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    payload = "x" * 200_000  # past a pipe's buffer: the write blocks until the reader takes it
    for _ in range(100):  # the reader's open() may not have happened yet: then the write is refused
        try:
            write_atomic(fifo, payload)
            break
        except InputError:
            threading.Event().wait(0.02)
    reader.join(10)
    assert got == [payload.encode()]
    assert kind(fifo) == stat.S_IFIFO


def test_symlink_survives_and_its_target_gets_the_text(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.py"
    target.write_text("old\n")
    link = tmp_path / "link.py"
    link.symlink_to(Path("real") / "out.py")  # relative, so it must be resolved from the link's directory
    write_atomic(link, "new\n")
    assert kind(link) == stat.S_IFLNK and os.readlink(link) == os.path.join("real", "out.py")
    assert target.read_text() == "new\n"
    assert leftovers(tmp_path) == [] and leftovers(target.parent) == []


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link"
    link.symlink_to("made.txt")
    write_atomic(link, "made\n")
    assert kind(link) == stat.S_IFLNK and (tmp_path / "made.txt").read_text() == "made\n"


def test_symlink_loop_is_refused(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    with pytest.raises(InputError, match="cannot write"):
        write_atomic(loop, "x")
    assert kind(loop) == stat.S_IFLNK


def test_dev_null_is_written_through_and_stays_a_character_device():
    before = os.stat("/dev/null")
    assert stat.S_ISCHR(before.st_mode)
    write_atomic("/dev/null", "discarded\n")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_device_that_fails_the_write_is_one_error():
    with pytest.raises(InputError) as e:
        write_atomic("/dev/full", "x")
    assert e.value.line() == "/dev/full: cannot write (No space left on device)"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_directory_and_socket_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short relative socket path: AF_UNIX takes at most 108 bytes
    with socket.socket(socket.AF_UNIX) as s:
        s.bind("sock")
        for path, what in ((tmp_path, "a directory"), (Path("sock"), "a socket")):
            with pytest.raises(InputError) as e:
                write_atomic(path, "x")
            assert e.value.file == str(path) and e.value.what.startswith(f"is {what}; expected a regular file")
        assert kind("sock") == stat.S_IFSOCK and sorted(os.listdir(tmp_path)) == ["sock"]


def test_block_device_is_refused_before_anything_is_opened(tmp_path, monkeypatch):
    path = tmp_path / "disk"
    path.write_text("untouched\n")
    monkeypatch.setattr(atomic, "_mode", lambda p, name: stat.S_IFBLK | 0o660)  # no real disk is put at risk
    with pytest.raises(InputError, match="is a block device; expected a regular file"):
        write_atomic(path, "x")
    assert path.read_text() == "untouched\n" and leftovers(tmp_path) == []


def test_regular_file_is_replaced_atomically_with_open_modes(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old\n")
    old = os.umask(0o027)
    try:
        write_atomic(path, "new\n")
    finally:
        os.umask(old)
    assert path.read_text() == "new\n" and stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert leftovers(tmp_path) == []


# -- reading -----------------------------------------------------------------------------------

def test_symlinked_input_is_read(tmp_path):
    link = tmp_path / "link.toml"
    link.symlink_to(DENSE)
    assert load(link).to_toml() == load(DENSE).to_toml()


@pytest.mark.parametrize("size", [1000, 1001])
def test_size_bound(tmp_path, monkeypatch, size):
    monkeypatch.setitem(LIMITS, "file_bytes", Limit(1000, "bytes in an input file", "a test's bound"))
    path = tmp_path / "f.toml"
    path.write_bytes(b"#" * size)
    if size == 1000:
        assert read_input(path) == b"#" * 1000
        return
    with pytest.raises(InputError) as e:
        read_input(path)
    assert e.value.line() == f"{path}: 1,001 bytes; symbackprop reads at most 1,000 bytes in an input file (a test's bound)"


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="no /proc")
def test_a_file_that_grows_past_its_size_is_still_bounded(monkeypatch):
    monkeypatch.setitem(LIMITS, "file_bytes", Limit(10, "bytes", "a test's bound"))
    with pytest.raises(InputError, match="11 bytes; symbackprop reads at most 10"):
        read_input("/proc/self/status")  # a regular file whose st_size is 0


def test_directory_input_is_refused(tmp_path):
    with pytest.raises(InputError) as e:
        load(tmp_path)
    assert e.value.line() == f"{tmp_path}: is a directory; expected a derivation file (TOML)"


def test_cli_fifo_input_is_refused_without_blocking(fifo):
    refused(cli("derive", str(fifo)), f"{fifo}: not a regular file; expected a derivation file (TOML)")
    assert kind(fifo) == stat.S_IFIFO


def test_cli_dev_zero_is_refused():
    refused(cli("derive", "/dev/zero"), "/dev/zero: not a regular file; expected a derivation file (TOML)")


def test_cli_verify_refuses_a_fifo_among_its_files(fifo):
    refused(cli("verify", str(SEED_CHAIN), str(fifo)), f"{fifo}: not a regular file")
    assert kind(fifo) == stat.S_IFIFO


def test_cli_huge_input_is_refused_by_its_size(tmp_path):
    path = tmp_path / "huge.toml"
    with open(path, "wb") as f:
        f.truncate(LIMITS["file_bytes"].value + 1)  # sparse: nothing is written, nothing need be read
    refused(cli("derive", str(path)), f"{path}: 16,777,217 bytes; symbackprop reads at most 16,777,216 bytes")


# -- the command line, writing -----------------------------------------------------------------

def test_cli_output_to_dev_null_leaves_it_a_character_device():
    before = os.stat("/dev/null")
    r = cli("compile", str(DENSE), "-o", "/dev/null")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_cli_output_to_fifo_without_reader(fifo):
    refused(cli("compile", str(DENSE), "-o", str(fifo)), f"{fifo}: is a FIFO with no reader; expected")
    assert kind(fifo) == stat.S_IFIFO and leftovers(fifo.parent) == []


def test_cli_output_through_symlink(tmp_path):
    target = tmp_path / "module.py"
    target.write_text("old\n")
    link = tmp_path / "link.py"
    link.symlink_to(target)
    r = cli("compile", str(DENSE), "-o", str(link))
    assert r.returncode == 0, r.stderr
    assert kind(link) == stat.S_IFLNK and os.readlink(link) == str(target)
    assert target.read_text() == cli("compile", str(DENSE)).stdout != "old\n"


def test_cli_output_to_directory(tmp_path):
    refused(cli("dense", "2,1", "-o", str(tmp_path)), f"{tmp_path}: is a directory; expected a regular file")
    assert kind(tmp_path) == stat.S_IFDIR and list(tmp_path.iterdir()) == []


# -- one line, whatever the names hold ---------------------------------------------------------

def test_line_escapes_control_characters_in_file_key_and_message():
    e = InputError("got\ttab\nand more", file="a\nb\x1b[31m.toml", key="k\x00")
    assert e.line() == r"a\nb\x1b[31m.toml: k\x00: got\ttab\nand more"
    assert InputError("fine", file="my file é ü.toml", key="network.neurons[0]").line() \
        == "my file é ü.toml: network.neurons[0]: fine"


def test_cli_file_name_with_newline_and_escape(tmp_path):
    name = "bad\nname\x1b[31m.toml"
    (tmp_path / name).write_text(SEED_CHAIN.read_text().replace("w_a1 = 0.1", 'w_a1 = "abc"'))
    line = refused(cli("derive", name, cwd=tmp_path), r"bad\nname\x1b[31m.toml: parameters.w_a1: expected a number")
    assert "\x1b" not in line


def test_cli_output_name_with_newline(tmp_path):
    out = tmp_path / "no such dir\n" / "out\x1b.py"
    line = refused(cli("compile", str(DENSE), "-o", str(out)), "cannot write here")
    assert r"no such dir\n/out\x1b.py" in line and "\x1b" not in line
