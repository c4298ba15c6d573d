"""Collecting: the study's completed trials, their cells and the explanation artifacts, read once.

The trials are read through the typed records of :mod:`gapsearch.trial_attrs`, the parameter importances
through Optuna's public importance API; the explanations from
the ``explanation.json`` artifacts the kept models wrote at training time and the poolings a stored
``compare:pooling`` result names. Everything the report concludes or shows comes from the
:class:`StudyResults` made here.

When the completed trials hold fewer than two combinations and others were pruned, the combinations are
compared at the last epoch every completed and pruned trial reached (:mod:`gapsearch.results.pruned`):
the cells, the map and the importances then hold every trial's value at that epoch, and say so.
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

    from gapsearch.results.comparison import Comparison
    from gapsearch.results.pruned import CommonEpoch, CompareHint, PruningSummary
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
    rows: list[TrialRow]  # the completed trials, with their values
    compared: list[TrialRow]  # what the cells hold: ``rows``, or with ``at_epoch`` every trial's value then
    states: dict[str, int]
    cells: list[Cell]  # best first
    poolings: list[str]  # those tried, in a fixed order
    dims: list[int]
    searched: set[str] = field(default_factory=set)
    importances: dict[str, float] | None = None  # of the parameters every compared trial has
    explanations: Explanations | None = None  # None: not collected
    at_epoch: CommonEpoch | None = None  # set when the cells compare trials at the epoch all of them reached
    pruning: PruningSummary | None = None
    combinations: tuple[int, int] = (0, 0)  # (pooling, embedding_dim) combinations completed, and completed or pruned
    hint: CompareHint | None = None  # the paired comparison that would settle what the trials cannot
    comparisons: tuple[Comparison, ...] = ()  # those stored with the study (gapsearch compare)
    comparison_notes: tuple[str, ...] = ()  # stored comparisons that could not be read
    #: The trial ``best``, ``export`` and ``evaluate`` choose (feasible, with constraints); None when no
    #: completed trial kept every bound.
    best: TrialRow | None = None

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    @property
    def few_completed(self) -> bool:
        """Whether the completed trials hold fewer than two combinations, and the pruned ones more."""
        completed, tried = self.combinations
        return completed < 2 <= tried

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
        for row in self.compared:
            groups.setdefault(getattr(row, factor), []).append(row.value)
        ranked = [(key, summarize(values)) for key, values in groups.items()]
        return sorted(ranked, key=lambda item: -item[1].mean if self.maximize else item[1].mean)


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _combination(trial: optuna.trial.FrozenTrial, fixed: dict[str, Any]) -> tuple[str, int]:
    """The trial's pooling and embedding dimension, searched or fixed."""
    pooling = str(trial.params.get("pooling", fixed.get("pooling")))
    return pooling, int(trial.params.get("embedding_dim", fixed.get("embedding_dim")))  # type: ignore[arg-type]


def _row(trial: optuna.trial.FrozenTrial, value: float, fixed: dict[str, Any]) -> TrialRow:
    from gapsearch.trial_attrs import ModelCosts, TrainingOutcome

    costs, training = ModelCosts.read(trial), TrainingOutcome.read(trial)
    filters = trial.params.get("filters", fixed.get("filters"))
    pooling, embedding_dim = _combination(trial, fixed)
    return TrialRow(
        number=trial.number,
        value=value,
        params=dict(trial.params),
        pooling=pooling,
        embedding_dim=embedding_dim,
        filters=None if filters is None else int(filters),  # type: ignore[call-overload]
        params_total=None if costs is None else costs.params,
        seconds_per_epoch=None if training is None else training.seconds_per_epoch,
        epochs_run=None if training is None else training.epochs_run,
    )


def _cells(rows: Sequence[TrialRow], maximize: bool) -> list[Cell]:
    """The rows grouped by (pooling, embedding_dim), best mean first."""
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
    return sorted(cells, key=lambda c: (-c.summary.mean if maximize else c.summary.mean, -c.summary.n))


def collect(study: optuna.Study, spec: StudySpec, *, explanations: bool = True) -> StudyResults:
    """Read the study's completed trials into rows and (pooling, embedding_dim) cells and, with
    ``explanations``, the explanation artifacts of the best trial of each pooling.

    With fewer than two combinations among the completed trials and others pruned, the cells compare
    every completed and pruned trial at the last epoch all of them reached (``at_epoch``).
    """
    from optuna.trial import TrialState

    from gapsearch.plots import _ordered
    from gapsearch.results.pruned import common_epoch, compare_hint, pruning_summary
    from gapsearch.search.selection import choose_trial

    fixed = dict(spec.fixed)
    monitored = spec.objective_names.index(spec.monitored.metric)  # the training metric the report is about
    trials = study.get_trials(deepcopy=False)
    pruning = pruning_summary(spec, trials)
    rows = [
        _row(trial, float(trial.values[monitored]), fixed)
        for trial in trials
        if trial.state == TrialState.COMPLETE and trial.values and math.isfinite(trial.values[monitored])
    ]
    if not rows:
        pruned = f" ({pruning.pruned} pruned {pruning.where})" if pruning.pruned else ""
        raise UserError(f"study {spec.name!r} has no completed trial yet{pruned}; run it first (gapsearch run)")
    maximize = spec.monitored.direction == "maximize"
    tried = {_combination(t, fixed) for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)}
    combinations = (len({(r.pooling, r.embedding_dim) for r in rows}), len(tried))
    at_epoch = common_epoch(spec, trials) if combinations[0] < 2 <= combinations[1] else None
    if at_epoch is not None:
        by_number = {trial.number: trial for trial in trials}
        compared = [_row(by_number[number], value, fixed) for number, value in sorted(at_epoch.values.items())]
        importances = _importances(_study_of([by_number[n] for n in at_epoch.values], at_epoch.values, spec))
    else:
        compared, importances = rows, _importances(study)
    comparisons, notes = _stored_comparisons(study, spec.name)
    try:  # the trial every command takes: feasible, and with several objectives the front's best in the metric
        chosen: optuna.trial.FrozenTrial | None = choose_trial(spec, study)
    except StorageError:
        chosen = None  # no completed trial kept every bound of constraints
    results = StudyResults(
        name=spec.name,
        metric=spec.monitored.metric,
        direction=spec.monitored.direction,
        rows=sorted(rows, key=lambda r: r.number),
        compared=sorted(compared, key=lambda r: r.number),
        states=pruning.states,
        cells=_cells(compared, maximize),
        poolings=_ordered([r.pooling for r in compared]),
        dims=_ordered([r.embedding_dim for r in compared]),
        searched=set(spec.search_space),
        importances=importances,
        at_epoch=at_epoch,
        pruning=pruning,
        combinations=combinations,
        hint=compare_hint(spec),
        comparisons=comparisons,
        comparison_notes=notes,
        best=None if chosen is None else _row(chosen, float(chosen.values[monitored]), fixed),
    )
    if not explanations:
        return results
    best_number = None if results.best is None else results.best.number
    return dataclasses.replace(results, explanations=find_explanations(study, spec, results.ranked, best_number))


def _stored_comparisons(study: optuna.Study, name: str) -> tuple[tuple[Comparison, ...], tuple[str, ...]]:
    """The comparisons ``gapsearch compare`` stored with the study, and a note for each that cannot be read."""
    from gapsearch.results.comparison import ATTR_PREFIX, Comparison, stored_comparisons

    read, notes = [], []
    for param, record in stored_comparisons(study).items():
        try:
            read.append(Comparison.from_attr(record, name))
        except (KeyError, TypeError, ValueError, AttributeError):
            notes.append(
                f"The stored comparison {ATTR_PREFIX}{param} is not in the form gapsearch compare writes; "
                f"run gapsearch compare --param {param} again to replace it."
            )
    return tuple(read), tuple(notes)


def _study_of(trials: Sequence[optuna.trial.FrozenTrial], values: dict[int, float], spec: StudySpec) -> optuna.Study:
    """An in-memory study of ``trials`` completed with ``values``, for Optuna's importance API (which reads
    completed trials only)."""
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created in memory" line
    try:
        study = optuna.create_study(direction=spec.monitored.direction)
    finally:
        optuna.logging.set_verbosity(verbosity)
    study.add_trials(
        optuna.trial.create_trial(params=t.params, distributions=t.distributions, value=values[t.number])
        for t in trials
    )
    return study


def _importances(study: optuna.Study) -> dict[str, float] | None:
    """Importances of the parameters every completed trial has; conditional ones would be judged unfairly."""
    import warnings

    import optuna
    from optuna.trial import TrialState

    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    shared = [name for name in (completed[0].params if completed else {}) if all(name in t.params for t in completed)]
    if not shared or len(completed) < 2:  # one trial explains nothing: every parameter would get an equal share
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = optuna.importance.get_param_importances(study, params=shared)
    except (ValueError, RuntimeError, ZeroDivisionError):
        return None
    return {name: float(v) for name, v in values.items()} or None


def find_explanations(
    study: optuna.Study, spec: StudySpec, ranked: Sequence[TrialRow], best_number: int | None
) -> Explanations:
    """The best explained trial of each pooling (``ranked`` is best first), and notes on what is missing;
    ``best_number`` is the study's chosen trial (:func:`gapsearch.search.selection.choose_trial`)."""
    from optuna.artifacts import download_artifact, get_all_artifact_meta
    from optuna.artifacts.exceptions import ArtifactNotFound

    from gapsearch.optuna_compat import storage_of
    from gapsearch.results.compare import stored_comparisons
    from gapsearch.search.artifacts import EXPLANATION_FILENAME, open_artifact_store

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
