"""Queueing a failed trial again with its parameters: Optuna's retry callback, minus the dead run's records.

Optuna's ``RetryHeartbeatStaleTrialCallback`` copies the failed trial's user attributes into
the retry. In gapsearch every user attribute is a record of a run (where it ran, what it
cost, why it failed), so the retry starts without them; the worker that takes it up
records its own. That also keeps "no worker recorded yet" meaning "not taken up yet".
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from gapsearch.trial_attrs import without_records

if TYPE_CHECKING:
    import optuna


class RetryWithParameters:
    """A heartbeat-stale (or stopped) trial is queued again as WAITING with its parameters, ``max_retries`` times."""

    def __init__(self, max_retries: int | None) -> None:
        import optuna

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self._retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retries)

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._retry(study, without_records(trial))
