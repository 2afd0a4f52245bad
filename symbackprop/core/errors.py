"""The one error type for bad input: it becomes a one-line message and exit code 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad input, located: which file, which key or line, and what was expected."""

    def __init__(self, what: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        self.what = what
        super().__init__(self.line())

    def line(self) -> str:
        where = ": ".join(part for part in (self.file, self.key) if part)
        return f"{where}: {self.what}" if where else self.what

    def located(self, file: str) -> InputError:
        """The same error, naming the file it came from (when it did not already)."""
        return self if self.file else InputError(self.what, file=file, key=self.key)

    def flagged(self, flags: dict[str, str]) -> InputError:
        """The same error with a library parameter's name replaced by the command-line flag that sets it."""
        if self.file is None and self.key in flags:
            return InputError(self.what, key=flags[self.key])
        return self
