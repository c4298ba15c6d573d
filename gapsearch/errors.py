"""The error taxonomy: every error a user can cause or meet is one of these.

Library code raises these and never calls ``sys.exit``; the CLI (the one error
boundary) turns them into one line and an exit code. All of them are picklable,
because they cross process boundaries (worker processes).
"""

from __future__ import annotations


class GapsearchError(Exception):
    """Base of every gapsearch error. ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self):  # keep subclasses picklable whatever their __init__ takes
        return (_rebuild, (type(self), self.message))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[GapsearchError], message: str) -> GapsearchError:
    error = cls.__new__(cls)
    GapsearchError.__init__(error, message)
    return error


class UserError(GapsearchError):
    """Something the user can fix: a bad study file, data, storage URL or option (exit 2)."""

    exit_code = 2


class StudyFileError(UserError):
    """The study file breaks a rule. The message names file, key path, value and what is allowed."""

    def __init__(self, message: str, errors: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.errors = errors or (message,)

    def __reduce__(self):
        return (StudyFileError, (self.message, self.errors))


class DataError(UserError):
    """The data cannot be read or does not fit the study (missing file, column, label...)."""


class StorageError(UserError):
    """The study database cannot be reached or holds no such study."""


class DatabaseUnreachable(StorageError):
    """The study database's server did not answer (waiting may help; a missing database or table will not)."""


class DatabaseAccessDenied(StorageError):
    """The study database's server refused the user (a wrong password, an unknown user): never waited for."""


class TrialFailed(GapsearchError):
    """A single trial failed (NaN loss, out of memory, a bad batch); the study goes on."""


class TrackingError(GapsearchError):
    """The experiment tracker cannot be reached and ``tracking.mlflow.on_error`` is ``stop`` (exit 1)."""
