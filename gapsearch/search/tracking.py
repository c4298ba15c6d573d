"""MLflow tracking: each finished trial becomes an MLflow run, nested under one parent run per study.

A trial's run holds its parameters, its per-epoch history as metrics (step = epoch), its values
and costs as metrics, and its Optuna artifacts (learning curves, history, confusion matrix, and the
model when it was kept). The parent run (found again by its tags on a rerun) holds the study
file, credentials masked, and the best trial. It runs as a trial callback in the process that
watches the trials, so local workers are tracked once. A tracker that cannot be reached prints one
line and the study runs on untracked, or stops with that line (``on_error: stop``). A tracking URI
that cannot work whatever the server does is the study file's mistake (exit 2), said before anything
is written: the study database itself (MLflow and Optuna need a database each), or a file store that
the installed MLflow refuses (MLflow 3 keeps its runs in a database, by default ``sqlite:///mlflow.db``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gapsearch.errors import TrackingError, UserError
from gapsearch.masking import one_line
from gapsearch.optuna_compat import storage_of
from gapsearch.trial_attrs import Failure, QueuedFrom, TrialResult

if TYPE_CHECKING:
    import optuna

    from gapsearch.search.runner import RunOutcome
    from gapsearch.spec.study import StudySpec
    from gapsearch.spec.tracking import MlflowSpec

STUDY_TAG = "gapsearch.study"
PARENT_TAG = "gapsearch.parent"


def cost_metrics(result: TrialResult) -> dict[str, float]:
    """A trial's costs and training times, logged as metrics under the names the trial stores them as."""
    metrics: dict[str, float] = {}
    if result.costs is not None:
        attrs = result.costs.as_attrs()
        attrs.pop(result.costs.key("latency_batch_size"), None)  # a setting of the timing, not a cost
        metrics.update({key: float(value) for key, value in attrs.items()})
    if result.training is not None:
        training = result.training
        times = ("train_seconds", "seconds_per_epoch")
        metrics.update({training.key(name): float(getattr(training, name)) for name in times})
    return metrics


def mask_credentials(text: str) -> str:
    """``text`` with its passwords masked: the one masking every writer uses (:mod:`gapsearch.masking`)."""
    from gapsearch.masking import mask_secrets

    return mask_secrets(text)


class MlflowTracker:
    """A trial callback that records each finished trial in MLflow; :meth:`start` first, :meth:`finish` last."""

    def __init__(self, spec: StudySpec, settings: MlflowSpec, write: Callable[[str], None]) -> None:
        self.spec = spec
        self.settings = settings
        self.write = write
        self.client: Any = None
        self.experiment_id: str | None = None
        self.parent_id: str | None = None

    @property
    def uri(self) -> str:
        return mask_credentials(self.settings.tracking_uri or "MLflow's default tracking URI")

    def start(self, storage_url: str | None = None) -> None:
        """Reach the server, open the experiment and the study's parent run (made on the first run).

        Raises:
            UserError: the tracking URI is the study database (``storage_url``), or a file store that the
                installed MLflow refuses; nothing has been written then.
        """
        try:
            import mlflow
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise UserError("tracking.mlflow needs MLflow; pip install 'gapsearch[mlflow]'") from None
        uri = self.settings.tracking_uri or mlflow.get_tracking_uri()
        key = "tracking.mlflow.tracking_uri" if self.settings.tracking_uri else "MLflow's tracking URI"
        if storage_url is not None and same_database(uri, storage_url):
            raise UserError(
                f"{key} {mask_credentials(uri)} is the study database: MLflow and Optuna need a database each (both "
                "keep an alembic_version table); give MLflow its own, for example tracking_uri: sqlite:///mlflow.db "
                "beside the study's sqlite:///gapsearch.db; nothing was written"
            )
        # MLflow retries an unreachable server for minutes by default; a study should not wait that long.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
        try:
            self._open(MlflowClient(tracking_uri=self.settings.tracking_uri))
        except Exception as error:  # noqa: BLE001 - any MLflow or network error: decided below
            if is_file_store(uri):
                raise UserError(
                    f"{key} {mask_credentials(uri)}: MLflow {mlflow.__version__} cannot use this file store "
                    f"({one_line(error)}); use a database store, for example tracking_uri: sqlite:///mlflow.db "
                    "(a file of its own, not the study database)"
                ) from None
            self._failed("reaching", error)

    def _open(self, client: Any) -> None:
        name = self.settings.experiment or self.spec.name
        experiment = client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment is not None else client.create_experiment(name)
        query = f"tags.`{STUDY_TAG}` = '{self.spec.name}' and tags.`{PARENT_TAG}` = 'true'"
        found = client.search_runs([experiment_id], filter_string=query, max_results=1)
        if found:
            parent_id = found[0].info.run_id
        else:
            parent = client.create_run(
                experiment_id, run_name=self.spec.name, tags={STUDY_TAG: self.spec.name, PARENT_TAG: "true"}
            )
            parent_id = parent.info.run_id
            client.log_param(parent_id, "n_trials", self.spec.n_trials)
            client.log_param(parent_id, "objectives", ", ".join(self.spec.objective_names))
            if self.spec.text is not None:
                client.log_text(parent_id, mask_credentials(self.spec.text), "study.yaml")
        self.client, self.experiment_id, self.parent_id = client, experiment_id, parent_id

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if self.client is not None:
            self._guard(f"recording trial {trial.number}", lambda: self._log_trial(study, trial))

    def _log_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        from mlflow.entities import Metric, Param

        client = self.client
        run = client.create_run(
            self.experiment_id,
            run_name=f"trial {trial.number}",
            tags={"mlflow.parentRunId": self.parent_id, STUDY_TAG: self.spec.name, "optuna.state": trial.state.name},
        )
        run_id = run.info.run_id
        stamp = int((trial.datetime_complete or trial.datetime_start).timestamp() * 1000) if trial.datetime_start else 0
        result = TrialResult.read(trial)
        history = {} if result.training is None else result.training.history
        metrics = [
            Metric(name, float(value), stamp, epoch + 1)
            for name, values in history.items()
            for epoch, value in enumerate(values)
        ]
        for name, value in zip(self.spec.objective_names, trial.values or (), strict=False):
            metrics.append(Metric(f"objective.{name}", float(value), stamp, 0))
        metrics += [Metric(key, value, stamp, 0) for key, value in cost_metrics(result).items()]
        params = [Param(name, str(value)) for name, value in trial.params.items()]
        params.append(Param("trial_number", str(trial.number)))
        client.log_batch(run_id, metrics=metrics, params=params)
        tags = {
            Failure.key("reason"): None if result.failure is None else result.failure.reason,
            QueuedFrom.key("source"): None if result.queued_from is None else result.queued_from.source,
        }
        for key, text in tags.items():
            if text is not None:
                client.set_tag(run_id, f"gapsearch.{key}", str(text)[:5000])
        self._log_artifacts(study, trial, run_id)
        client.set_terminated(run_id, "FAILED" if trial.state.name == "FAIL" else "FINISHED")

    def _log_artifacts(self, study: optuna.Study, trial: optuna.trial.FrozenTrial, run_id: str) -> None:
        from optuna.artifacts import download_artifact, get_all_artifact_meta
        from optuna.artifacts.exceptions import ArtifactNotFound

        from gapsearch.search.artifacts import open_artifact_store

        metas = get_all_artifact_meta(trial, storage=storage_of(study))
        if not metas:
            return
        store = open_artifact_store(self.spec.artifacts, create=False)
        with tempfile.TemporaryDirectory(prefix="gapsearch-mlflow-") as folder:
            for meta in metas:
                path = Path(folder, meta.filename)
                try:
                    download_artifact(artifact_store=store, file_path=str(path), artifact_id=meta.artifact_id)
                except ArtifactNotFound:
                    continue  # a model removed when a better trial finished (save_models: best)
                self.client.log_artifact(run_id, str(path))

    def finish(self, outcome: RunOutcome) -> None:
        """Record the best trial (or the Pareto front) on the parent run."""
        if self.client is None:
            return
        self._guard("recording the best trial", lambda: self._log_best(outcome))

    def _log_best(self, outcome: RunOutcome) -> None:
        client, parent = self.client, self.parent_id
        client.set_tag(parent, "gapsearch.finished_trials", f"{outcome.finished_after}/{outcome.budget}")
        best = outcome.best_trial
        if best is not None:
            client.set_tag(parent, "gapsearch.best_trial", str(best.number))
            client.log_metric(parent, f"best.{self.spec.objective_names[0]}", float(best.values[0]))
            client.log_dict(parent, {"number": best.number, "value": best.value, "params": best.params}, "best.json")
        elif outcome.best_trials:
            front = [{"number": t.number, "values": t.values, "params": t.params} for t in outcome.best_trials]
            client.set_tag(parent, "gapsearch.pareto_trials", ", ".join(str(t["number"]) for t in front))
            client.log_dict(parent, {"objectives": self.spec.objective_names, "pareto_front": front}, "best.json")

    def _guard(self, what: str, action: Callable[[], None]) -> None:
        """Run ``action``; a tracker error becomes one line and no more tracking, or stops the run."""
        try:
            action()
        except Exception as error:  # noqa: BLE001 - any MLflow or network error: the study's own work goes on
            self._failed(what, error)

    def _failed(self, what: str, error: Exception) -> None:
        """One line for a tracker error, its reason whole: a warning and no more tracking, or the run stops."""
        line = f"MLflow at {self.uri}: failed while {what}: {one_line(error)}"
        if self.settings.on_error == "stop":
            raise TrackingError(line + " (tracking.mlflow.on_error: stop)") from None
        self.write(f"warning: {line}; the study goes on without tracking (tracking.mlflow.on_error: warn)")
        self.client = None


def is_file_store(uri: str) -> bool:
    """Whether MLflow tracking URI ``uri`` names a folder (MLflow's file store): a path, or ``file:``."""
    from urllib.parse import urlparse

    scheme = urlparse(uri).scheme
    return scheme in ("", "file") or len(scheme) == 1  # one letter: a Windows drive


def same_database(tracking_uri: str, storage_url: str) -> bool:
    """Whether MLflow tracking URI ``tracking_uri`` names the database of storage URL ``storage_url``."""
    from sqlalchemy.engine import make_url

    from gapsearch.storage.database import SCHEME_ALIASES, sqlite_path

    if "://" not in tracking_uri:
        return False
    try:
        tracking, storage = make_url(tracking_uri), make_url(storage_url)
    except Exception:  # noqa: BLE001 - not a database URL (http://, databricks): not the study's database
        return False

    def kind(url: Any) -> str:
        scheme = url.drivername.partition("+")[0]
        return {"mariadb": "mysql"}.get(scheme, SCHEME_ALIASES.get(scheme, scheme))

    if kind(tracking) != kind(storage):
        return False
    if kind(tracking) == "sqlite":
        mine, theirs = sqlite_path(tracking_uri), sqlite_path(storage_url)
        return mine is not None and theirs is not None and mine.resolve() == theirs.resolve()
    return (tracking.host, tracking.port, tracking.database) == (storage.host, storage.port, storage.database)


def tracker_for(spec: StudySpec, write: Callable[[str], None], storage_url: str | None = None) -> MlflowTracker | None:
    """The study's tracker, started (checked against the study database ``storage_url``); None when the study
    file asks for no tracking."""
    if spec.tracking.mlflow is None:
        return None
    tracker = MlflowTracker(spec, spec.tracking.mlflow, write)
    tracker.start(storage_url)
    return tracker


__all__ = ["MlflowTracker", "cost_metrics", "is_file_store", "mask_credentials", "same_database", "tracker_for"]
