"""The trial record (gapsearch.trial_attrs): each quantity stored once, and databases written before the
records (which stored the costs twice) read back into the same records, by ``trials``, ``best`` and ``report``."""

from __future__ import annotations

import json
from wsgiref.util import setup_testing_defaults

import optuna
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from gapsearch.trial_attrs import (
    Failure,
    ModelCosts,
    Placement,
    Platform,
    Pruned,
    RunResult,
    TrainingOutcome,
    TrialResult,
    TrialSetup,
)
from tests.conftest import TINY_STUDY, cli

#: The study the old trials below come from: the tiny study with two repeats and ``sequence_length: auto``.
OLD_STUDY = (
    TINY_STUDY.replace("n_trials: 3", "n_trials: 2").replace("sequence_length: 30", "sequence_length: auto")
    + "repeats: 2\n"
)
OLD_DISTRIBUTIONS = {
    "embedding_dim": CategoricalDistribution((4, 8)),
    "pooling": CategoricalDistribution(("average", "max", "attention")),
    "attention_units": IntDistribution(4, 8),
}
_PLACED = {"hostname": "vm", "pid": 4815, "worker_id": "0", "cuda_visible_devices": ""}
_PLATFORM = {
    "backend": "tensorflow",
    "backend_version": "2.21.0",
    "device": "cpu",
    "gapsearch_version": "0.1.0",
    "keras_version": "3.15.1",
    "python_version": "3.11.7",
}
#: Trial 0 of OLD_STUDY, its user attributes exactly as gapsearch wrote them before the records (commit
#: 8bd27d0, read back with Optuna's API): the costs under two names each (params_total and params,
#: params_embedding and embedding_params). Its value was 0.5416666567325592.
OLD_TRIAL_0 = {
    **_PLATFORM,
    "best_epoch": 1,
    "cuda_visible_devices": "",
    "embedding_params": 2400,
    "epochs_run": 2,
    "flops": 15879,
    "history": {
        "accuracy": [0.4652777910232544, 0.5208333134651184],
        "loss": [0.6939609050750732, 0.6920251846313477],
        "val_accuracy": [0.5, 0.5],
        "val_loss": [0.6931467056274414, 0.6922885775566101],
    },
    "hostname": "vm",
    "params": 2689,
    "params_embedding": 2400,
    "params_total": 2689,
    "pid": 4815,
    "run_best_epochs": [1, 1],
    "run_values": {"validation/repeat1": 0.5, "validation/repeat2": 0.5833333134651184},
    "runs": [
        {"name": "validation/repeat1", "seed": 300009, "values": {"val_accuracy": 0.5}, "best_epoch": 1,
         "epochs_run": 2, "train_seconds": 2.301},
        {"name": "validation/repeat2", "seed": 1300012, "values": {"val_accuracy": 0.5833333134651184},
         "best_epoch": 1, "epochs_run": 2, "train_seconds": 1.861},
    ],
    "seconds_per_epoch": 1.04,
    "seed": 300009,
    "sequence_length": 29,
    "train_seconds": 2.081,
    "train_val_gap": -0.034722,
    "value_ci95": [0.012241585616750261, 1.0710917278483683],
    "value_std": 0.058925551049929456,
    "worker_id": "0",
}  # fmt: skip
#: Trial 1 of the same run (value 0.5208333432674408), as it was written.
OLD_TRIAL_1 = {
    **OLD_TRIAL_0,
    "flops": 11384,
    "history": {
        "accuracy": [0.4861111044883728, 0.5555555820465088],
        "loss": [0.6942427158355713, 0.6900045871734619],
        "val_accuracy": [0.5416666865348816, 0.5416666865348816],
        "val_loss": [0.6936931610107422, 0.6927412152290344],
    },
    "params": 2609,
    "params_total": 2609,
    "run_values": {"validation/repeat1": 0.5416666865348816, "validation/repeat2": 0.5},
    "runs": [
        {"name": "validation/repeat1", "seed": 300010, "values": {"val_accuracy": 0.5416666865348816},
         "best_epoch": 1, "epochs_run": 2, "train_seconds": 1.292},
        {"name": "validation/repeat2", "seed": 1300013, "values": {"val_accuracy": 0.5}, "best_epoch": 1,
         "epochs_run": 2, "train_seconds": 0.857},
    ],
    "seconds_per_epoch": 0.537,
    "seed": 300010,
    "train_seconds": 1.075,
    "train_val_gap": -0.055556,
    "value_ci95": [0.2561206183723314, 0.7855460681625501],
    "value_std": 0.029462796598388984,
}  # fmt: skip
#: What the old code wrote on a trial the pruner stopped after epoch 1, and on one whose training failed.
_OLD_START = {**_PLACED, **_PLATFORM, "seed": 300011, "sequence_length": 29}
_OLD_COSTS = {"params": 2609, "embedding_params": 2400, "flops": 11384, "params_total": 2609, "params_embedding": 2400}
OLD_PRUNED = {**_OLD_START, **_OLD_COSTS, "epochs_run": 1}
OLD_FAILED = {**_OLD_START, **_OLD_COSTS, "fail_reason": "the training loss became nan at epoch 2"}


def _old_study(url: str) -> optuna.Study:
    """OLD_STUDY's database as the old code left it, rebuilt through Optuna's API."""
    study = optuna.create_study(study_name="tiny", storage=url, direction="maximize")
    study.set_user_attr("metric", "val_accuracy")
    study.set_user_attr("objectives", [{"metric": "val_accuracy", "direction": "maximize"}])
    study.set_user_attr("class_names", ["class_0", "class_1"])
    study.set_user_attr("task", "binary")
    study.set_user_attr("study_file", OLD_STUDY)
    for params, value, attrs in (
        ({"embedding_dim": 8, "pooling": "attention", "attention_units": 8}, 0.5416666567325592, OLD_TRIAL_0),
        ({"embedding_dim": 8, "pooling": "max"}, 0.5208333432674408, OLD_TRIAL_1),
    ):
        distributions = {name: OLD_DISTRIBUTIONS[name] for name in params}
        study.add_trial(create_trial(params=params, distributions=distributions, value=value, user_attrs=attrs))
    small = {"embedding_dim": 4, "pooling": "max"}
    distributions = {name: OLD_DISTRIBUTIONS[name] for name in small}
    for state, attrs in ((TrialState.PRUNED, OLD_PRUNED), (TrialState.FAIL, OLD_FAILED)):
        study.add_trial(create_trial(state=state, params=small, distributions=distributions, user_attrs=attrs))
    return study


def test_an_old_trial_reads_into_the_records_and_they_store_it_without_the_duplicates():
    result = TrialResult.read(OLD_TRIAL_0)
    assert result.placement == Placement("vm", 4815, "0", "")
    assert result.platform == Platform("cpu", "3.11.7", "0.1.0", "3.15.1", "tensorflow", "2.21.0")
    assert result.setup == TrialSetup(seed=300009, sequence_length=29)
    assert result.costs == ModelCosts(params=2689, embedding_params=2400, flops=15879)
    assert result.training == TrainingOutcome(
        epochs_run=2,
        best_epoch=1,
        train_seconds=2.081,
        seconds_per_epoch=1.04,
        train_val_gap=-0.034722,
        history=OLD_TRIAL_0["history"],
        runs=(
            RunResult("validation/repeat1", 300009, 0.5, {"val_accuracy": 0.5}, 1, 2, 2.301),
            RunResult("validation/repeat2", 1300012, 0.5833333134651184, {"val_accuracy": 0.5833333134651184}, 1, 2,
                      1.861),
        ),
        value_std=0.058925551049929456,
        value_ci95=(0.012241585616750261, 1.0710917278483683),
    )  # fmt: skip
    assert (result.pruned, result.failure, result.resumed, result.queued_from) == (None, None, None, None)
    assert result.training.epochs_to_retrain() == 1
    # Written again, the records give the old layout less the second names of the costs: nothing else moved.
    written: dict = {}
    for record in (result.placement, result.platform, result.setup, result.costs, result.training):
        record.write(written.__setitem__)
    assert written == {key: value for key, value in OLD_TRIAL_0.items() if key not in ("params", "embedding_params")}
    # The old second names alone (as a hand-made or partly copied trial may hold) read the same.
    assert ModelCosts.read({"params": 2689, "embedding_params": 2400, "flops": 15879}) == result.costs


def test_old_pruned_and_failed_trials_read_through_optunas_frozen_trials():
    pruned = create_trial(state=TrialState.PRUNED, user_attrs=OLD_PRUNED)
    failed = create_trial(state=TrialState.FAIL, user_attrs=OLD_FAILED)
    assert TrialResult.read(pruned).pruned == Pruned(epochs_run=1) and TrialResult.read(pruned).epochs_run == 1
    assert TrialResult.read(pruned).training is None and TrialResult.read(pruned).costs == ModelCosts(2609, 2400, 11384)
    assert TrialResult.read(failed).failure == Failure("the training loss became nan at epoch 2")
    assert not TrialResult.read(failed).failure.stopped and TrialResult.read(failed).epochs_run is None
    complete = create_trial(value=0.5, user_attrs=OLD_TRIAL_0)
    assert TrialResult.read(complete).pruned is None and TrialResult.read(complete).epochs_run == 2


def test_trials_best_and_report_read_a_database_written_before_the_records(tmp_path):
    (tmp_path / "tiny.yaml").write_text(OLD_STUDY)
    url = f"sqlite:///{tmp_path / 'gapsearch.db'}"
    study = _old_study(url)
    rows = json.loads(cli("trials", "tiny.yaml", "--format", "json", cwd=tmp_path, check=True).stdout)
    # What the old code's `gapsearch trials --format json` printed for this database (less the seconds,
    # which create_trial does not keep). Its `best` and `report` printed what follows: the same database
    # read by commit 8bd27d0 and by this code gave the same lines and the same report.html (but its date).
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in rows] == [
        {"number": 0, "state": "COMPLETE", "value": 0.5416666567325592, "embedding_dim": 8, "pooling": "attention",
         "attention_units": 8, "params_total": 2689, "epochs_run": 2, "best_epoch": 1, "seconds_per_epoch": 1.04},
        {"number": 1, "state": "COMPLETE", "value": 0.5208333432674408, "embedding_dim": 8, "pooling": "max",
         "attention_units": None, "params_total": 2609, "epochs_run": 2, "best_epoch": 1, "seconds_per_epoch": 0.537},
        {"number": 2, "state": "PRUNED", "value": None, "embedding_dim": 4, "pooling": "max", "attention_units": None,
         "params_total": 2609, "epochs_run": 1, "best_epoch": None, "seconds_per_epoch": None},
        {"number": 3, "state": "FAIL", "value": None, "embedding_dim": 4, "pooling": "max", "attention_units": None,
         "params_total": 2609, "epochs_run": None, "best_epoch": None, "seconds_per_epoch": None},
    ]  # fmt: skip
    assert cli("best", "tiny.yaml", cwd=tmp_path, check=True).stdout.splitlines() == [
        "best trial: 0  val_accuracy=0.5417",
        "  parameters: embedding_dim=8 pooling=attention attention_units=8",
        "  2 runs: std 0.0589 95% CI [0.0122, 1.0711]",
        "  params_total=2689 params_embedding=2400 flops=15879 epochs_run=2 best_epoch=1 seconds_per_epoch=1.04 "
        "train_val_gap=-0.0347",
        "4 trials: 2 completed, 1 pruned at epoch 1, 1 failed",
    ]
    report = cli("report", "tiny.yaml", "-o", "report", cwd=tmp_path, check=True)
    assert report.stdout.splitlines()[0] == (
        "Attention pooling with embedding dimension 8 did best: mean validation accuracy 0.5417 over 1 trial."
    )
    page = (tmp_path / "report" / "report.html").read_text()
    assert (
        "The winner costs 2,689 parameters and 1.04 s per epoch; the runner-up 2,609 parameters and 0.54 s per "
        "epoch (the winner has 1.0× the parameters, 1.9× the time per epoch)."
    ) in page
    # optuna-dashboard shows the attributes as they were stored, the old second names included.
    shown = _dashboard_attrs(url, study)
    assert shown == {trial.number: set(trial.user_attrs) for trial in study.trials} and "params" in shown[0]


def _dashboard_attrs(url: str, study: optuna.Study) -> dict[int, set[str]]:
    """The user attribute names optuna-dashboard's API serves for each trial of ``study``."""
    from optuna_dashboard import wsgi

    environ = {"PATH_INFO": f"/api/studies/{study._study_id}", "QUERY_STRING": "after=0"}
    setup_testing_defaults(environ)
    answer: list[str] = []
    body = wsgi(url)(environ, lambda status, headers, exc_info=None: answer.append(status))
    assert answer == ["200 OK"]
    return {t["number"]: {a["key"] for a in t["user_attrs"]} for t in json.loads(b"".join(body))["trials"]}


def test_a_new_trial_stores_each_quantity_once_under_the_names_the_dashboard_shows(finished_study):
    url = f"sqlite:///{finished_study.folder / 'gapsearch.db'}"
    study = optuna.load_study(study_name="tiny", storage=url)
    shown = _dashboard_attrs(url, study)
    expected = set(_PLACED) | set(_PLATFORM) | {"seed", "params_total", "params_embedding", "flops"}
    expected |= {"epochs_run", "best_epoch", "train_seconds", "seconds_per_epoch", "train_val_gap", "history"}
    assert shown == {trial.number: expected for trial in study.trials}
    for trial in study.trials:  # and each reads back into the records it was written from
        result = TrialResult.read(trial)
        assert result.costs.params == trial.user_attrs["params_total"] > result.costs.embedding_params > 0
        assert result.training.best_epoch == trial.user_attrs["best_epoch"] and result.placement.worker_id == "0"


def test_a_failure_that_quotes_a_password_is_stored_masked(tmp_path):
    """What the objective stores when an error quotes a URL with its password: masked in the database."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=url)
    trial = study.ask()
    error = "OperationalError: could not connect to postgresql://alice:Hunter-2024@db:5432/x (timeout)"
    Failure(error, f"Traceback ...\n  {error}\n").write(trial)
    stored = optuna.load_study(study_name="s", storage=url).trials[0].user_attrs
    masked = error.replace("Hunter-2024", "***")
    assert (stored["fail_reason"], stored["fail_traceback"]) == (masked, f"Traceback ...\n  {masked}\n")
