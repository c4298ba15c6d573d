"""What gapsearch takes from Optuna's and optuna-dashboard's internals is still there and still does its job."""

from __future__ import annotations

import time

import optuna
import pytest
from optuna.trial import TrialState

from gapsearch import optuna_compat
from gapsearch.optuna_compat import RELIED_ON, resolve


@pytest.mark.parametrize(("module", "name"), RELIED_ON, ids=[f"{m}:{n}" for m, n in RELIED_ON])
def test_every_private_name_gapsearch_relies_on_exists_in_the_installed_packages(module, name):
    assert resolve(module, name) is not None


def test_a_name_that_is_gone_is_reported():
    with pytest.raises(AttributeError, match=r"^optuna\.study: 'Study\._no_such_thing'|'_no_such_thing' is gone"):
        resolve("optuna.study", "Study._no_such_thing")


def test_the_constraints_key_is_optunas():
    from optuna.study._constrained_optimization import _CONSTRAINTS_KEY

    assert optuna_compat.CONSTRAINTS_KEY == _CONSTRAINTS_KEY


def test_constraints_set_while_running_decide_feasibility_for_best_trials(tmp_path):
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", directions=["maximize", "minimize"])
    for accuracy, size, over in [(0.9, 10.0, 5.0), (0.8, 20.0, -1.0)]:
        trial = study.ask()
        optuna_compat.set_trial_constraints(trial, [over])
        study.tell(trial, [accuracy, size])
    assert [t.values for t in study.best_trials] == [[0.8, 20.0]]  # the first breaks its bound


def test_the_storage_a_study_wraps_is_the_one_gapsearch_opened_with_its_outage_window(tmp_path):
    from gapsearch.storage.database import open_storage
    from gapsearch.storage.retry import outage_window_of

    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", outage_window=7.0)
    study = optuna.create_study(study_name="s", storage=storage)
    assert optuna_compat.storage_of(study) is not storage  # Optuna's in-process cache wraps it
    assert optuna_compat.unwrapped_storage(optuna_compat.storage_of(study)) is storage
    assert optuna_compat.unwrapped_storage(storage) is storage
    window = outage_window_of(optuna_compat.storage_of(study))
    assert window is not None and window.seconds == 7.0


def test_a_retry_names_its_first_attempt_through_optunas_readers_without_a_warning():
    import warnings

    plain = optuna.trial.create_trial(value=1.0)
    retry = optuna.trial.create_trial(value=1.0, system_attrs={"failed_trial": 3, "retry_history": [3, 5]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert optuna_compat.retried_trial_number(plain) is None and optuna_compat.retry_history(plain) == []
        assert optuna_compat.retried_trial_number(retry) == 3 and optuna_compat.retry_history(retry) == [3, 5]


def test_a_retry_made_by_optunas_callback_names_its_first_attempt(tmp_path):
    from gapsearch.storage.requeue import RetryWithParameters

    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    first = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    first.set_user_attr("hostname", "vm")
    study.tell(first, state=TrialState.FAIL)
    RetryWithParameters(max_retries=2)(study, study.trials[0])
    (retry,) = study.get_trials(states=(TrialState.WAITING,))
    assert optuna_compat.retried_trial_number(retry) == 0 and optuna_compat.retry_history(retry) == [0]
    assert retry.user_attrs == {} and retry.params == study.trials[0].params  # the dead run's records stay behind


def test_ids_address_the_storage_and_a_dashboard_note_is_replaced(tmp_path):
    from optuna_dashboard import save_note

    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", study_name="notes")
    trial = study.ask()
    save_note(trial, "first")
    study.tell(trial, 1.0)
    frozen = study.trials[0]
    storage = optuna_compat.storage_of(study)
    assert storage.get_study_id_from_name("notes") == optuna_compat.study_id(study)
    assert storage.get_trial(optuna_compat.trial_id(frozen)).number == 0
    optuna_compat.replace_dashboard_note(study, frozen, "second")
    assert optuna_compat.dashboard_note(study, frozen) == {"version": 2, "body": "second"}


def test_stale_trials_are_read_without_being_failed(tmp_path):
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=1, grace_period=1)
    study = optuna.create_study(storage=storage)
    assert optuna_compat.heartbeat_storage(study) is optuna_compat.storage_of(study)  # Optuna's cache around it
    trial = study.ask()
    storage.record_heartbeat(optuna_compat.trial_id(trial))
    time.sleep(2.5)
    assert optuna_compat.stale_trial_ids(study) == {optuna_compat.trial_id(trial)}
    assert study.trials[0].state == TrialState.RUNNING
    plain = optuna.create_study(storage=f"sqlite:///{tmp_path / 'p.db'}")
    assert optuna_compat.heartbeat_storage(plain) is None


def test_a_sampler_may_stop_the_worker_loop(tmp_path):
    study = optuna.create_study(sampler=optuna.samplers.GridSampler({"x": [1, 2]}))
    optuna_compat.begin_optimize_loop(study)
    try:
        asked = 0
        while not optuna_compat.stop_requested(study):
            trial = study.ask()
            study.tell(trial, float(trial.suggest_categorical("x", [1, 2])))
            asked += 1
    finally:
        optuna_compat.end_optimize_loop(study)
    assert asked == 2  # the grid sampler called study.stop() once its grid was used up
