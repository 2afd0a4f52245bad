"""The one error type for bad input: it becomes a one-line message and exit code 2."""

from __future__ import annotations

import re


class InputError(Exception):
    """Bad input, located: which file, which key or line, and what was expected."""

    def __init__(self, what: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        self.what = what
        super().__init__(self.line())

    def line(self) -> str:
        """One line whatever a file name, key or message holds: a newline or ESC in any is escaped."""
        where = ": ".join(printable(part) for part in (self.file, self.key) if part)
        return f"{where}: {printable(self.what)}" if where else printable(self.what)

    def located(self, file: str) -> InputError:
        """The same error, naming the file it came from (when it did not already)."""
        return self if self.file else InputError(self.what, file=file, key=self.key)

    def flagged(self, flags: dict[str, str]) -> InputError:
        """The same error in a command's words: the key, and each parameter a message names in
        backquotes (```shards```), as the flag that sets it."""
        if self.file is not None:
            return self
        what = re.sub(r"`(\w+)`", lambda m: flags.get(m[1], m[0]), self.what)
        return InputError(what, key=flags.get(self.key, self.key))


def printable(text: str) -> str:
    """``text`` with what str.isprintable() rejects escaped as repr() would (``\\n``, ``\\x1b``), without quotes."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
