"""The one retry layer for the study database: every call, whoever makes it, waits out one outage window.

A PostgreSQL or MySQL server that restarts, fails over or terminates connections, and a
SQLite file locked for longer than its busy timeout, all surface as one failed call. The call
is tried again with backoff; ``pool_pre_ping`` hands the retry a fresh connection.

An outage starts at the first failed call after a successful one and ends at the next
successful call. All calls of a process (the worker loop's, the storage's own, the heartbeat
thread's) share one :class:`OutageWindow`, so however many calls wait, and however they nest,
a worker waits ``seconds`` in total for one outage. After that every call fails at once with
:class:`DatabaseLost`, one line naming the masked URL and the reason.

A server that refuses the user (a password changed, a user dropped) is no outage: waiting would
not let the worker in, so it gets its one line at once.

Most calls are idempotent. Two are not: creating a trial twice leaves an extra RUNNING trial
that no worker took up (the worker loop puts such trials back as WAITING), and finishing a
trial whose first attempt did commit is recognised and taken as done.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import optuna
import sqlalchemy.exc
from optuna.storages import RDBStorage
from optuna.trial import TrialState

from gapsearch.errors import GapsearchError
from gapsearch.masking import one_line
from gapsearch.optuna_compat import PRIVATE_STORAGE_METHODS, unwrapped_storage
from gapsearch.spec.workers import OUTAGE_WINDOW
from gapsearch.storage.failures import driver_reason, is_access_denied

_log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_DELAY, LONGEST_DELAY = 0.2, 5.0  # backoff between tries, doubling

RETRIED_METHODS = (
    "create_new_study",
    "delete_study",
    "set_study_user_attr",
    "set_study_system_attr",
    "get_study_id_from_name",
    "get_study_name_from_id",
    "get_study_directions",
    "get_study_user_attrs",
    "get_study_system_attrs",
    "get_all_studies",
    "create_new_trial",
    "set_trial_param",
    "get_trial_id_from_study_id_trial_number",
    "get_trial_number_from_id",
    "get_trial_param",
    "set_trial_intermediate_value",
    "set_trial_user_attr",
    "set_trial_system_attr",
    "get_trial",
    "get_all_trials",
    "get_n_trials",
    "get_best_trial",
    "record_heartbeat",
    *PRIVATE_STORAGE_METHODS,
)
TRANSIENT = (optuna.exceptions.StorageInternalError, sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)


class DatabaseLost(GapsearchError):
    """The study database stayed unreachable for longer than a worker waits for it.

    A worker exits with ``exit_code`` 75 (``EX_TEMPFAIL``: try again later) after its one line, so that
    the run that started it tells a lost database from a crash: the trial it held stays RUNNING for
    the stale-trial path and its retry, and is not failed as a dead worker's.
    """

    exit_code = 75


def cause_line(error: BaseException) -> str:
    """The cause of a failed database call (under Optuna's and SQLAlchemy's wrappers), whole on one line, masked."""
    cause = error.__cause__ or error.__context__ or error
    return one_line(getattr(cause, "orig", None) or cause)


class OutageWindow:
    """How long this process waits for a lost database, counted once per outage across all its calls.

    Thread-safe: the heartbeat thread and the worker loop share it.
    """

    def __init__(self, seconds: float = OUTAGE_WINDOW, database: str = "the study database") -> None:
        self.seconds = seconds
        self.database = database  # the masked URL, for messages
        self._lock = threading.Lock()
        self._since: float | None = None  # monotonic time of the first failure of the outage in progress
        self.last_recovery = -math.inf  # monotonic time the last outage ended
        self._reached = False  # a call has succeeded: a failure now is an outage, not a database never reached
        self._announced = False  # the outage in progress was said to have started

    def call(
        self,
        action: Callable[[], T],
        what: str,
        transient: tuple[type[BaseException], ...] = TRANSIENT,
        *,
        give_up: Callable[[BaseException], BaseException] | None = None,
    ) -> T:
        """Run ``action``; on a ``transient`` error try again with backoff while the window lasts.

        Raises:
            DatabaseLost: the outage in progress has lasted the whole window, or the server refused the user
                (no outage: a password changed or a user dropped is not waited for); or what ``give_up``
                makes of the last error, when given.
        """
        delay = FIRST_DELAY
        while True:
            try:
                value = action()
            except transient as error:
                if is_access_denied(error):
                    if give_up is not None:
                        raise give_up(error) from None
                    raise DatabaseLost(
                        f"{self.database} refused the login (while {what}): {driver_reason(error)}; "
                        "a refused login is not an outage, so it is not waited for"
                    ) from None
                now = time.monotonic()
                with self._lock:
                    starts = self._since is None
                    since = self._since = now if self._since is None else self._since
                    deadline = since + self.seconds
                if starts and self._reached:  # a database never reached is one line at the end, not two
                    self._announced = True
                    _say(
                        f"warning: lost the connection to {self.database} (while {what}): {cause_line(error)}; "
                        f"waiting up to {self.seconds:g}s for it to come back"
                    )
                if now + delay > deadline:
                    if give_up is not None:
                        raise give_up(error) from None
                    raise DatabaseLost(
                        f"lost the connection to {self.database} (while {what}), and it did not come back "
                        f"within {self.seconds:g}s: {cause_line(error)}"
                    ) from None
                _log.info("database error while %s, retrying in %.1fs: %s", what, delay, cause_line(error))
                time.sleep(delay)
                delay = min(delay * 2, LONGEST_DELAY)
            else:
                self._reached = True
                if self._since is not None:
                    lasted, announced = None, False
                    with self._lock:
                        if self._since is not None:
                            self.last_recovery = time.monotonic()
                            lasted, self._since = self.last_recovery - self._since, None
                            announced, self._announced = self._announced, False
                    if lasted is not None and announced:
                        _say(f"note: {self.database} is back after {lasted:.1f}s; the trials in progress go on")
                return value

    def recovered_within(self, seconds: float) -> bool:
        """Whether an outage ended less than ``seconds`` ago (or is in progress)."""
        return self._since is not None or time.monotonic() - self.last_recovery < seconds


def _say(line: str) -> None:
    """One line on stderr when an outage starts and one when it ends (a worker's reach the pool's output)."""
    print(line, file=sys.stderr, flush=True)


def outage_window_of(storage: Any) -> OutageWindow | None:
    """The window of a storage that :func:`gapsearch.storage.database.open_storage` opened (also as Optuna's
    in-process cache wraps it for a study), else None."""
    backend = unwrapped_storage(storage)
    return backend.outage if isinstance(backend, ReconnectingRDBStorage) else None


class ReconnectingRDBStorage(RDBStorage):
    """:class:`optuna.storages.RDBStorage` whose calls wait out an outage (see the module)."""

    outage: OutageWindow = OutageWindow()  # replaced per instance by open_storage

    def set_trial_state_values(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
        attempts = 0

        def finish() -> bool:
            nonlocal attempts
            attempts += 1
            try:
                return RDBStorage.set_trial_state_values(self, trial_id, state, values)
            except optuna.exceptions.UpdateFinishedTrialError:
                # An earlier attempt committed before its connection dropped: the trial is already finished.
                if attempts > 1 and RDBStorage.get_trial(self, trial_id).state == state:
                    return True
                raise

        return self.outage.call(finish, "calling set_trial_state_values")


def _retried(name: str) -> Callable[..., Any]:
    method = getattr(RDBStorage, name)

    @functools.wraps(method)
    def call(self: ReconnectingRDBStorage, *args: Any, **kwargs: Any) -> Any:
        return self.outage.call(lambda: method(self, *args, **kwargs), f"calling {name.strip('_')}")

    return call


for _name in RETRIED_METHODS:
    setattr(ReconnectingRDBStorage, _name, _retried(_name))
