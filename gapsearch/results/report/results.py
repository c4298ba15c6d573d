"""Collecting: the study's completed trials, their cells and the explanation artifacts, read once.

The trials are read through the typed records of :mod:`gapsearch.trial_attrs`, the parameter importances
through Optuna's public importance API; the explanations from
the ``explanation.json`` artifacts the kept models wrote at training time and the poolings a stored
``compare:pooling`` result names. Everything the report concludes or shows comes from the
:class:`StudyResults` made here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gapsearch.errors import StorageError, UserError
from gapsearch.stats import Summary, summarize

if TYPE_CHECKING:
    import optuna

    from gapsearch.spec.study import StudySpec

METRIC_LABELS = {"val_accuracy": "validation accuracy", "val_auc": "validation AUC", "val_loss": "validation loss"}


@dataclass(frozen=True)
class TrialRow:
    """A completed trial, with the pooling and embedding dimension it used (searched or fixed)."""

    number: int
    value: float
    params: dict[str, Any]
    pooling: str
    embedding_dim: int
    filters: int | None
    params_total: int | None
    seconds_per_epoch: float | None
    epochs_run: int | None


@dataclass(frozen=True)
class Cell:
    """The trials of one (pooling, embedding_dim) combination: their metric and their mean cost."""

    pooling: str
    embedding_dim: int
    summary: Summary
    values: tuple[float, ...]
    params_total: float | None
    seconds_per_epoch: float | None

    @property
    def name(self) -> str:
        return f"{self.pooling} pooling with embedding dimension {self.embedding_dim}"


@dataclass(frozen=True)
class Explained:
    """A trial's explanation document, with the trial's number, metric value and pooling."""

    number: int
    value: float
    pooling: str
    document: dict[str, Any]


@dataclass(frozen=True)
class Explanations:
    """The best explained trial of each pooling, notes on what is missing, and the study's best trial."""

    explained: tuple[Explained, ...]
    notes: tuple[str, ...]
    best_number: int | None


@dataclass(frozen=True)
class StudyResults:
    """Everything the report concludes and shows, read once from the study."""

    name: str
    metric: str
    direction: str
    rows: list[TrialRow]
    states: dict[str, int]
    cells: list[Cell]  # best first
    poolings: list[str]  # those tried, in a fixed order
    dims: list[int]
    searched: set[str] = field(default_factory=set)
    importances: dict[str, float] | None = None  # of the parameters every completed trial has
    explanations: Explanations | None = None  # None: not collected

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    @property
    def metric_label(self) -> str:
        return METRIC_LABELS.get(self.metric, self.metric)

    @property
    def ranked(self) -> list[TrialRow]:
        """The completed trials, best first."""
        return sorted(self.rows, key=lambda r: -r.value if self.maximize else r.value)

    def by(self, factor: str) -> list[tuple[Any, Summary]]:
        """The metric summarized per value of ``factor`` (``pooling`` or ``embedding_dim``), best first."""
        groups: dict[Any, list[float]] = {}
        for row in self.rows:
            groups.setdefault(getattr(row, factor), []).append(row.value)
        ranked = [(key, summarize(values)) for key, values in groups.items()]
        return sorted(ranked, key=lambda item: -item[1].mean if self.maximize else item[1].mean)


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def collect(study: optuna.Study, spec: StudySpec, *, explanations: bool = True) -> StudyResults:
    """Read the study's completed trials into rows and (pooling, embedding_dim) cells and, with
    ``explanations``, the explanation artifacts of the best trial of each pooling."""
    from optuna.trial import TrialState

    from gapsearch.plots import _ordered
    from gapsearch.trial_attrs import ModelCosts, TrainingOutcome

    fixed = spec.fixed
    monitored = spec.objective_names.index(spec.monitored.metric)  # the training metric the report is about
    trials = study.get_trials(deepcopy=False)
    states: dict[str, int] = {}
    for trial in trials:
        states[trial.state.name] = states.get(trial.state.name, 0) + 1
    rows = []
    for trial in trials:
        if trial.state != TrialState.COMPLETE or not trial.values or not math.isfinite(trial.values[monitored]):
            continue
        costs, training = ModelCosts.read(trial), TrainingOutcome.read(trial)
        filters = trial.params.get("filters", fixed.get("filters"))
        rows.append(
            TrialRow(
                number=trial.number,
                value=float(trial.values[monitored]),
                params=dict(trial.params),
                pooling=str(trial.params.get("pooling", fixed.get("pooling"))),
                embedding_dim=int(trial.params.get("embedding_dim", fixed.get("embedding_dim"))),  # type: ignore[arg-type]
                filters=None if filters is None else int(filters),  # type: ignore[call-overload]
                params_total=None if costs is None else costs.params,
                seconds_per_epoch=None if training is None else training.seconds_per_epoch,
                epochs_run=None if training is None else training.epochs_run,
            )
        )
    if not rows:
        raise UserError(f"study {spec.name!r} has no completed trial yet; run it first (gapsearch run)")
    maximize = spec.monitored.direction == "maximize"
    groups: dict[tuple[str, int], list[TrialRow]] = {}
    for row in rows:
        groups.setdefault((row.pooling, row.embedding_dim), []).append(row)
    cells = [
        Cell(
            pooling=pooling,
            embedding_dim=dim,
            summary=summarize([r.value for r in members]),
            values=tuple(r.value for r in members),
            params_total=_mean([r.params_total for r in members]),
            seconds_per_epoch=_mean([r.seconds_per_epoch for r in members]),
        )
        for (pooling, dim), members in groups.items()
    ]
    cells.sort(key=lambda c: (-c.summary.mean if maximize else c.summary.mean, -c.summary.n))
    results = StudyResults(
        name=spec.name,
        metric=spec.monitored.metric,
        direction=spec.monitored.direction,
        rows=sorted(rows, key=lambda r: r.number),
        states=states,
        cells=cells,
        poolings=_ordered([r.pooling for r in rows]),
        dims=_ordered([r.embedding_dim for r in rows]),
        searched=set(spec.search_space),
        importances=_importances(study),
    )
    if not explanations:
        return results
    return dataclasses.replace(results, explanations=find_explanations(study, spec, results.ranked))


def _importances(study: optuna.Study) -> dict[str, float] | None:
    """Importances of the parameters every completed trial has; conditional ones would be judged unfairly."""
    import warnings

    import optuna
    from optuna.trial import TrialState

    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    shared = [name for name in (completed[0].params if completed else {}) if all(name in t.params for t in completed)]
    if not shared:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = optuna.importance.get_param_importances(study, params=shared)
    except (ValueError, RuntimeError, ZeroDivisionError):
        return None
    return {name: float(v) for name, v in values.items()} or None


def find_explanations(study: optuna.Study, spec: StudySpec, ranked: Sequence[TrialRow]) -> Explanations:
    """The best explained trial of each pooling (``ranked`` is best first), and notes on what is missing."""
    from optuna.artifacts import download_artifact, get_all_artifact_meta
    from optuna.artifacts.exceptions import ArtifactNotFound

    from gapsearch.optuna_compat import storage_of
    from gapsearch.results.compare import stored_comparisons
    from gapsearch.search.artifacts import EXPLANATION_FILENAME, open_artifact_store
    from gapsearch.search.selection import choose_trial

    try:  # the trial export and evaluate take: with several objectives, the front's best in the monitored metric
        best_number: int | None = choose_trial(spec, study).number
    except StorageError:
        best_number = None
    try:
        store = open_artifact_store(spec.artifacts, create=False)
    except StorageError as error:
        return Explanations((), (f"No explanations: {error}.",), best_number)
    trials = {trial.number: trial for trial in study.get_trials(deepcopy=False)}
    compared = stored_comparisons(study).get("pooling")
    wanted = list(
        dict.fromkeys([r.pooling for r in ranked] + [str(r["value"]) for r in (compared or {}).get("results", [])])
    )
    found: dict[str, Explained] = {}
    with tempfile.TemporaryDirectory(prefix="gapsearch-report-") as folder:
        for row in ranked:
            if row.pooling in found:
                continue
            metas = [
                m
                for m in get_all_artifact_meta(trials[row.number], storage=storage_of(study))
                if m.filename == EXPLANATION_FILENAME
            ]
            if not metas:
                continue
            path = Path(folder, f"{row.number}.json")
            try:
                download_artifact(artifact_store=store, file_path=str(path), artifact_id=metas[-1].artifact_id)
            except ArtifactNotFound:
                continue  # removed from the store by hand: the next trial of this pooling may still have one
            found[row.pooling] = Explained(row.number, row.value, row.pooling, json.loads(path.read_text("utf-8")))
    notes = []
    missing = [p for p in wanted if p not in found]
    if missing:
        notes.append(
            "No kept model explains pooling "
            + ", ".join(missing)
            + ": only trials whose model was kept when they finished (artifacts.save_models) wrote explanation.json"
            + ("; compare:pooling trains its models without keeping them" if compared else "")
            + "."
        )
    return Explanations(tuple(found[p] for p in wanted if p in found), tuple(notes), best_number)
