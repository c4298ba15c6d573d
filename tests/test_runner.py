"""Running a study in-process on a real SQLite file: budget, failures, pruning, fatal mistakes."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from gapsearch.errors import GapsearchError, UserError
from gapsearch.spec import load_study
from gapsearch.workers.launch import run_study
from tests.conftest import TINY_STUDY


@pytest.fixture(autouse=True)
def _work_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the artifact store is relative to the working directory


def spec_from(tmp_path: Path, text: str):
    path = tmp_path / "study.yaml"
    path.write_text(text)
    return load_study(path)


def trials_of(url: str, name: str = "tiny"):
    return optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)


OOM_SPACE = "search_space:\n  embedding_dim: [4, 1000000000]\n"


def test_a_failed_trial_is_recorded_with_its_reason_and_the_study_goes_on(tmp_path):
    text = TINY_STUDY.split("search_space:")[0].replace("type: random", "type: grid") + OOM_SPACE
    url = f"sqlite:///{tmp_path / 'g.db'}"
    outcome = run_study(spec_from(tmp_path, text), storage_url=url)
    by_dim = {t.params["embedding_dim"]: t for t in trials_of(url)}
    assert by_dim[4].state.name == "COMPLETE"
    failed = by_dim[1000000000]
    assert failed.state.name == "FAIL"
    assert failed.user_attrs["fail_reason"].startswith("out of memory: ")
    assert (
        outcome.finished_after == 1 and outcome.best_trial is not None and outcome.best_trial.number == by_dim[4].number
    )


def test_failures_in_a_row_stop_the_run(tmp_path):
    text = TINY_STUDY.split("search_space:")[0] + "max_failures: 1\nsearch_space:\n  embedding_dim: [1000000000]\n"
    url = f"sqlite:///{tmp_path / 'g.db'}"
    with pytest.raises(GapsearchError) as caught:
        run_study(spec_from(tmp_path, text), storage_url=url)
    assert str(caught.value).startswith(
        "stopped after 1 failed trial in a row; the last failed because: out of memory: "
    )
    assert [t.state.name for t in trials_of(url)] == ["FAIL"]


def test_pruned_trials_count_towards_the_budget(tmp_path):
    text = (
        TINY_STUDY.replace(
            "pruner: {type: none}", "pruner: {type: percentile, percentile: 10, n_startup_trials: 1, n_warmup_steps: 0}"
        )
        .replace("n_trials: 3", "n_trials: 5")
        .replace("epochs: 2", "epochs: 3")
    )
    url = f"sqlite:///{tmp_path / 'g.db'}"
    outcome = run_study(spec_from(tmp_path, text), storage_url=url)
    trials = trials_of(url)
    assert outcome.finished_after == 5 and len(trials) == 5
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    assert pruned, "keeping only the top 10% after one startup trial prunes something"
    for trial in pruned:
        assert trial.user_attrs["epochs_run"] == max(trial.intermediate_values) < 3


def test_the_budget_is_counted_in_the_database_and_can_grow(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    spec = spec_from(tmp_path, TINY_STUDY.replace("n_trials: 3", "n_trials: 2"))
    assert run_study(spec, storage_url=url).finished_after == 2
    again = run_study(spec, storage_url=url)
    assert (again.finished_before, again.finished_after) == (2, 2)
    more = run_study(spec, storage_url=url, n_trials=3)
    assert (more.finished_before, more.finished_after) == (2, 3)
    assert [t.number for t in trials_of(url)] == [0, 1, 2]


def test_a_metric_that_does_not_fit_the_data_stops_before_the_database(tmp_path):
    text = TINY_STUDY.replace("metric: val_accuracy", "metric: val_mae").replace(
        "direction: maximize", "direction: minimize"
    )
    url = f"sqlite:///{tmp_path / 'g.db'}"
    with pytest.raises(UserError) as caught:
        run_study(spec_from(tmp_path, text), storage_url=url)
    assert str(caught.value) == (
        f"{tmp_path / 'study.yaml'}: metric: 'val_mae' is not measured for a binary task; "
        "use 'val_accuracy', 'val_auc', 'val_macro_f1', 'val_loss'"
    )
    assert not (tmp_path / "g.db").exists()


def test_a_study_cannot_change_direction(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    optuna.create_study(study_name="tiny", storage=url, direction="minimize")
    with pytest.raises(UserError) as caught:
        run_study(spec_from(tmp_path, TINY_STUDY), storage_url=url)
    assert str(caught.value).endswith(
        f"direction: 'maximize', but study 'tiny' in {url} was created with 'minimize'; "
        "use another name or the same direction"
    )


def test_same_seed_same_results(tmp_path):
    spec = spec_from(tmp_path, TINY_STUDY.replace("n_trials: 3", "n_trials: 2"))
    values = []
    for name in ("a.db", "b.db"):
        url = f"sqlite:///{tmp_path / name}"
        run_study(spec, storage_url=url)
        values.append([(t.params, t.value) for t in trials_of(url)])
    assert values[0] == values[1]


def test_folds_each_record_their_value_and_report_steps_per_fold(tmp_path):
    text = (
        TINY_STUDY.replace("n_trials: 3", "n_trials: 2")
        .replace("max_length: 30}", "max_length: 30, folds: 3}")
        .replace("sequence_length: 30", "sequence_length: auto")
    )
    url = f"sqlite:///{tmp_path / 'g.db'}"
    loaded = []
    run_study(spec_from(tmp_path, text), storage_url=url, on_data=loaded.append)
    (data,) = loaded
    assert data.info.run_names == ("fold_1", "fold_2", "fold_3")
    for trial in trials_of(url):
        values = trial.user_attrs["run_values"]
        assert list(values) == ["fold_1", "fold_2", "fold_3"]
        assert trial.value == pytest.approx(sum(values.values()) / 3)
        steps = trial.intermediate_values
        assert sorted(steps) == [1, 2, 3, 4, 5, 6]  # fold i's epoch e is step (i - 1) * epochs + e
        for index, name in enumerate(values):
            assert max(steps[2 * index + 1], steps[2 * index + 2]) == pytest.approx(values[name])
        assert trial.user_attrs["sequence_length"] == data.info.sequence_length(95)
        assert 4 < trial.user_attrs["sequence_length"] <= 30


def test_a_stopped_run_counts_only_its_own_interrupted_trials(tmp_path):
    import datetime
    import socket

    from optuna.trial import TrialState

    from gapsearch.search.runner import RunOutcome
    from gapsearch.trial_attrs import STOPPED_BY, Failure, Placement
    from gapsearch.workers.loop import requeue

    spec = spec_from(tmp_path, TINY_STUDY)
    url = f"sqlite:///{tmp_path / 'g.db'}"
    study = optuna.create_study(study_name="tiny", storage=url, direction="maximize")

    def stopped_trial(hostname: str = socket.gethostname(), max_retries: int = 3) -> None:
        """A trial stopped by a signal, then queued again as the worker loop does (up to ``max_retries``)."""
        trial = study.ask()
        Placement(hostname).write(trial)  # as the worker loop records the worker, then the stop
        Failure(f"{STOPPED_BY} SIGTERM").write(trial)
        requeue(study, study.tell(trial, state=TrialState.FAIL), max_retries)

    stopped_trial()  # an earlier run's
    since = datetime.datetime.now()
    study.tell(study.ask(), 0.5)
    stopped_trial("another-machine")  # a worker elsewhere, stopped on its own
    outcome = RunOutcome.of(spec, url, study, budget=3, before=0, stopped_by="SIGTERM", since=since)
    assert (outcome.finished_after, outcome.interrupted) == (1, 0)
    assert outcome.stop_report() == (
        "stopped by SIGTERM at 1/3 finished trials; no trial was running, and a rerun continues the study"
    )
    stopped_trial()
    stopped_trial()
    outcome = RunOutcome.of(spec, url, study, budget=3, before=0, stopped_by="SIGINT", since=since)
    assert (outcome.interrupted, outcome.requeued) == (2, 2)
    assert outcome.stop_report() == (
        "stopped by SIGINT at 1/3 finished trials; 2 running trials were recorded as FAIL and queued again, "
        "and a rerun continues the study"
    )
    stopped_trial(max_retries=0)  # its retries used up: Optuna's callback does not queue it again
    outcome = RunOutcome.of(spec, url, study, budget=3, before=0, stopped_by="SIGINT", since=since)
    assert (outcome.interrupted, outcome.requeued) == (3, 2)
    assert outcome.stop_report() == (
        "stopped by SIGINT at 1/3 finished trials; 3 running trials were recorded as FAIL, 2 of them queued again "
        "(the others had used up max_retries), and a rerun continues the study"
    )


def test_the_stop_line_says_when_the_stopped_trial_was_not_queued_again(tmp_path):
    import datetime
    import socket

    from optuna.trial import TrialState

    from gapsearch.search.runner import RunOutcome
    from gapsearch.trial_attrs import STOPPED_BY, Failure, Placement
    from gapsearch.workers.loop import requeue

    spec = spec_from(tmp_path, TINY_STUDY)
    url = f"sqlite:///{tmp_path / 'g.db'}"
    study = optuna.create_study(study_name="tiny", storage=url, direction="maximize")
    since = datetime.datetime.now()
    trial = study.ask()
    Placement(socket.gethostname()).write(trial)
    Failure(f"{STOPPED_BY} SIGINT").write(trial)
    assert not requeue(study, study.tell(trial, state=TrialState.FAIL), 0)
    outcome = RunOutcome.of(spec, url, study, budget=3, before=0, stopped_by="SIGINT", since=since)
    assert outcome.stop_report() == (
        "stopped by SIGINT at 0/3 finished trials; the running trial was recorded as FAIL and not queued again "
        "(max_retries used up), and a rerun continues the study"
    )


def test_a_worker_joins_its_study_once(tmp_path):
    """`gapsearch worker`, and each worker process of `run`'s pool, opens the study database once, after one
    connection that writes nothing and checks the database holds no other application's tables.

    Counted as SQLAlchemy pools that made their first connection: one per opening of the database.
    """
    import sqlalchemy
    from sqlalchemy.pool import Pool

    from gapsearch.workers.launch import create_study

    spec = spec_from(tmp_path, TINY_STUDY)
    url = f"sqlite:///{tmp_path / 'g.db'}"
    create_study(spec, url)
    opened: list[str] = []

    def first_connect(connection, record) -> None:  # noqa: ANN001 - SQLAlchemy's pool event
        opened.append(connection.execute("PRAGMA database_list").fetchone()[2])

    sqlalchemy.event.listen(Pool, "first_connect", first_connect)
    try:
        outcome = run_study(spec, storage_url=url, create=False, n_trials=1)
    finally:
        sqlalchemy.event.remove(Pool, "first_connect", first_connect)
    assert outcome.finished_after == 1
    assert opened == [str(tmp_path / "g.db")] * 2  # the check's connection, then the storage's
