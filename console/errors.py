"""Errors an officer or operator is shown as one clear line (never a traceback)."""

from __future__ import annotations


class DutyError(Exception):
    """Base: something the user can act on.  ``str()`` is the one-line message."""


class ConfigError(DutyError):
    """A configuration file is wrong: names the file, the key path and the problem."""

    def __init__(self, file: str, path: str, problem: str) -> None:
        self.file, self.path, self.problem = file, path, problem
        where = f"{file}: {path}: " if path else f"{file}: "
        super().__init__(where + problem)


class DomainError(DutyError):
    """An action the rules do not allow (illegal transition, missing reason, …).

    ``field``: the form field the problem is about (a form shows it beside the field),
    or None when it is about the action as a whole.
    """

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        self.field = field


class NotFound(DomainError):
    """No item with that reference."""


class StaleVersion(DomainError):
    """Someone else changed the item first; the message says who, what and when."""


class PermissionDenied(DomainError):
    """The operator's role does not allow this action."""


class StorageUnavailable(DutyError):
    """The database could not be reached or stayed busy; nothing was saved."""


class ImportRejected(DutyError):
    """An import file has a bad record; names the file, line, field and reason."""


class StorageRefused(DutyError):
    """The database cannot take writes as it stands (full disk, read-only): not "try again"."""


class DiskFull(StorageRefused):
    """The disk holding the database is full; the transaction was rolled back whole."""


class ReadOnlyStorage(StorageRefused):
    """The database file or its directory cannot be written by this account."""


class NoTerminal(DutyError):
    """The console was started without a terminal (``ssh`` without ``-t``, a pipe)."""
