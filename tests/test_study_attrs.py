"""The study records (gapsearch.study_attrs): what a run, a warm start, evaluate, compare and the workers store on
a study is written under the names earlier releases used, and a study those releases wrote reads back."""

from __future__ import annotations

import optuna

from gapsearch.optuna_compat import storage_of, study_id
from gapsearch.study_attrs import (
    PORTFOLIO_DONE,
    WARM_START_DONE,
    HeldOutMetrics,
    StudyDescription,
    WarmStartDone,
    WorkerNote,
    read_budget,
    read_comparisons,
    write_budget,
    write_comparison,
)
from gapsearch.trial_attrs import Placement

#: A study's user and system attributes as releases before the study records wrote them (issue 39).
OLD_USER_ATTRS = {
    "metric": "val_accuracy",
    "objectives": [{"metric": "val_accuracy", "direction": "maximize"}],
    "class_names": ["neg", "pos"],
    "task": "binary",
    "study_file": "name: tiny\nstorage: postgresql://user:***@db/x\n",
    "warm_start": {"study": "source", "storage": "sqlite:///source.db", "queued": 3},
    "portfolio": {"study": "gapsearch portfolio", "storage": "", "queued": 2},
    "test_metrics": {
        "1": {"metrics": {"test_accuracy": 0.8}, "epochs": 2, "include_validation": False, "n_train": 9, "n_test": 3}
    },
    "compare:pooling": {"param": "pooling", "metric": "val_accuracy"},
}
OLD_WORKER = {
    "hostname": "vm",
    "pid": 42,
    "worker_id": "1",
    "cuda_visible_devices": "0",
    "started": 100.0,
    "last_seen": 130.0,
    "activity": "running trial 6",
    "died": "killed by SIGKILL",
    "died_at": 131.0,
}


def _old_study() -> optuna.Study:
    study = optuna.create_study(study_name="old")
    for key, value in OLD_USER_ATTRS.items():
        study.set_user_attr(key, value)
    storage = storage_of(study)
    storage.set_study_system_attr(study_id(study), "gapsearch:worker:vm:42", OLD_WORKER)
    storage.set_study_system_attr(study_id(study), "gapsearch:budget", 7)
    return study


def test_a_study_written_before_the_records_reads_into_them():
    study = _old_study()
    description = StudyDescription.read(study)
    assert description == StudyDescription(
        metric="val_accuracy",
        objectives=({"metric": "val_accuracy", "direction": "maximize"},),
        class_names=("neg", "pos"),
        task="binary",
        study_file=OLD_USER_ATTRS["study_file"],
    )
    assert WarmStartDone.read(study, WARM_START_DONE) == WarmStartDone("source", "sqlite:///source.db", 3)
    assert WarmStartDone.read(study, PORTFOLIO_DONE) == WarmStartDone("gapsearch portfolio", "", 2)
    assert HeldOutMetrics.read_all(study) == {1: HeldOutMetrics({"test_accuracy": 0.8}, 2, False, 9, 3)}
    assert read_comparisons(study) == {"pooling": OLD_USER_ATTRS["compare:pooling"]}
    storage = storage_of(study)
    (note,) = WorkerNote.read_all(storage, study_id(study))
    assert note == WorkerNote(
        Placement("vm", 42, "1", "0"), 100.0, 130.0, "running trial 6", "killed by SIGKILL", 131.0
    )
    assert WorkerNote.read(storage, study_id(study), "vm", 42) == note
    assert read_budget(storage, study_id(study)) == 7


def test_the_records_write_what_earlier_releases_wrote():
    old = _old_study()
    study = optuna.create_study(study_name="new")
    StudyDescription.read(old).write(study)
    WarmStartDone.read(old, WARM_START_DONE).write(study, WARM_START_DONE)
    WarmStartDone.read(old, PORTFOLIO_DONE).write(study, PORTFOLIO_DONE)
    HeldOutMetrics.read_all(old)[1].write(study, 1)
    write_comparison(study, "pooling", read_comparisons(old)["pooling"])
    assert study.user_attrs == OLD_USER_ATTRS
    storage = storage_of(study)
    WorkerNote.read_all(storage_of(old), study_id(old))[0].write(storage, study_id(study))
    write_budget(storage, study_id(study), 7)
    assert storage.get_study_system_attrs(study_id(study)) == storage_of(old).get_study_system_attrs(study_id(old))


def test_a_study_without_records_reads_as_none():
    study = optuna.create_study()
    assert StudyDescription.read(study) is None and WarmStartDone.read(study, WARM_START_DONE) is None
    assert HeldOutMetrics.read_all(study) == {} and read_comparisons(study) == {}
    assert WorkerNote.read_all(storage_of(study), study_id(study)) == []
    assert read_budget(storage_of(study), study_id(study)) is None


def test_a_second_evaluation_keeps_the_first_trials_metrics():
    study = optuna.create_study()
    HeldOutMetrics({"test_loss": 0.5}, 1, True, 4, 2).write(study, 0)
    HeldOutMetrics({"test_loss": 0.4}, 3, False, 4, 2).write(study, 2)
    assert sorted(HeldOutMetrics.read_all(study)) == [0, 2]
