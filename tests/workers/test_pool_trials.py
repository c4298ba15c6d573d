"""A machine's pool hands on only the trials its own workers finished: other machines hand on theirs."""

from __future__ import annotations

import os
import socket

import optuna
from optuna.trial import TrialState, create_trial

from gapsearch.workers.pool import FinishedTrials


def _finished(study: optuna.Study, value: float, state: TrialState, **placement) -> None:
    study.add_trial(
        create_trial(state=state, value=value if state == TrialState.COMPLETE else None, user_attrs=placement)
    )


def test_only_this_pools_trials_reach_the_callbacks_each_once(tmp_path):
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    here, ours = socket.gethostname(), os.getpid()
    _finished(study, 0.1, TrialState.COMPLETE, hostname=here, pid=ours)  # finished before the pool started
    seen: list[int] = []
    finished = FinishedTrials(study, [lambda _, trial: seen.append(trial.number)], pids={ours})
    _finished(study, 0.2, TrialState.COMPLETE, hostname=here, pid=ours)
    _finished(study, 0.3, TrialState.COMPLETE, hostname="other-machine", pid=ours)  # same pid, other host
    _finished(study, 0.4, TrialState.COMPLETE, hostname=here, pid=ours + 1)  # another pool on this host
    _finished(study, 0.5, TrialState.FAIL, hostname=here, pid=ours)  # a dead worker's trial is ours too
    finished.poll()
    finished.poll()
    assert seen == [1, 4]
