"""Optuna's RDB storage, with every database call retried while a dropped connection comes back.

A PostgreSQL or MySQL server that restarts, fails over or terminates connections, and a
SQLite file locked for longer than its busy timeout, all surface as one failed call. Each
call is tried again with backoff; ``pool_pre_ping`` hands the retry a fresh connection.
If the database stays unreachable for ``reconnect_seconds`` the call raises
:class:`DatabaseLost`, one line naming the masked URL and the reason.

Most calls are idempotent. Two are not: creating a trial twice leaves an extra RUNNING trial
that no worker took up (the worker loop puts such trials back as WAITING), and finishing a
trial whose first attempt did commit is recognised and taken as done.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import optuna
import sqlalchemy.exc
from optuna.storages import RDBStorage
from optuna.trial import TrialState

from gapsearch.errors import GapsearchError

_log = logging.getLogger(__name__)

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
    "_get_stale_trial_ids",
    # What Optuna's in-process cache (which wraps every RDBStorage) calls instead of the public methods.
    "_create_new_trial",
    "_set_trial_param",
    "_get_best_trial_id",
    "_get_trials",
)
TRANSIENT = (optuna.exceptions.StorageInternalError, sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)


class DatabaseLost(GapsearchError):
    """The study database stayed unreachable for longer than a worker waits for it."""


def _reason(error: BaseException) -> str:
    cause = error.__cause__ or error
    cause = getattr(cause, "orig", None) or cause
    return " ".join(str(cause).split())[:300] or type(cause).__name__


class ReconnectingRDBStorage(RDBStorage):
    """:class:`optuna.storages.RDBStorage` whose calls survive dropped connections (see the module)."""

    reconnect_seconds: float = 60.0
    database: str = "the study database"  # the masked URL, for messages

    def _retry(self, name: str, call: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + self.reconnect_seconds
        delay = 0.2
        while True:
            try:
                return call()
            except TRANSIENT as error:
                if time.monotonic() + delay > deadline:
                    raise DatabaseLost(
                        f"lost the connection to {self.database} (in {name.strip('_')}), and it did not come back "
                        f"within {self.reconnect_seconds:g}s: {_reason(error)}"
                    ) from None
                _log.info("database error in %s, retrying in %.1fs: %s", name, delay, _reason(error))
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

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

        return self._retry("set_trial_state_values", finish)


def _retried(name: str) -> Callable[..., Any]:
    method = getattr(RDBStorage, name)

    @functools.wraps(method)
    def call(self: ReconnectingRDBStorage, *args: Any, **kwargs: Any) -> Any:
        return self._retry(name, lambda: method(self, *args, **kwargs))

    return call


for _name in RETRIED_METHODS:
    setattr(ReconnectingRDBStorage, _name, _retried(_name))
