"""What a person sees in the terminal: the progress bar, one line per trial, trial tables."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gapsearch import cost_names
from gapsearch.search.selection import is_feasible
from gapsearch.trial_attrs import Failure, ModelCosts, TrialResult

if TYPE_CHECKING:
    import optuna
    from tqdm import tqdm

    from gapsearch.results.export import Exported
    from gapsearch.search.runner import RunOutcome
    from gapsearch.spec.study import StudySpec


def table_columns(result: TrialResult) -> dict[str, Any]:
    """What a trial stored that is worth a column in the trials table; the rest stays in the database."""
    costs, training = result.costs, result.training
    return {
        "params_total": None if costs is None else costs.params,
        "epochs_run": result.epochs_run,
        "best_epoch": None if training is None else training.best_epoch,
        "seconds_per_epoch": None if training is None else training.seconds_per_epoch,
    }


def format_value(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e5 else f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def format_params(params: dict[str, Any]) -> str:
    return " ".join(f"{name}={format_value(value)}" for name, value in params.items())


def _names(metric: str | Sequence[str]) -> list[str]:
    return [metric] if isinstance(metric, str) else list(metric)


def objective_value(name: str, value: float | None) -> float | int | None:
    """A trial's value of objective ``name`` as people read it: counts as ints."""
    # Optuna stores every objective value as a float, but a count of 131105 reads better than 1.311e+05.
    return int(value) if name in cost_names.COUNTS and value is not None and float(value).is_integer() else value


def format_objectives(trial: optuna.trial.FrozenTrial, metric: str | Sequence[str]) -> str:
    """``val_accuracy=0.95 params=12345``: each objective's name and the trial's value; ``-`` without values."""
    if trial.values is None:
        return "-"
    pairs = zip(_names(metric), trial.values, strict=False)
    return " ".join(f"{name}={format_value(objective_value(name, value))}" for name, value in pairs)


def trial_line(trial: optuna.trial.FrozenTrial, metric: str | Sequence[str]) -> str:
    """One line for a finished trial: number, state, value(s), seconds, parameters (and the reason it failed)."""
    seconds = trial.duration.total_seconds() if trial.duration else 0.0
    value = format_objectives(trial, metric)
    if is_feasible(trial) is False:
        value += " (infeasible)"
    line = (
        f"trial {trial.number:>3}  {trial.state.name:<8}  {value:<20}  {seconds:6.1f}s  {format_params(trial.params)}"
    )
    failure = Failure.read(trial)
    if failure is not None and failure.reason and trial.state.name == "FAIL":
        line += f"  ({clip(str(failure.reason).splitlines()[0], REASON_WIDTH)})"
    return line


REASON_WIDTH = 200  # characters of a failure reason a trial line shows


def clip(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` characters at a word boundary, with an ellipsis if anything was cut.

    A word longer than half the width (a path, a URL) is cut inside rather than dropped whole.
    """
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    boundary = cut.rfind(" ")
    if boundary >= width // 2:
        cut = cut[:boundary]
    return cut.rstrip(" ,;:") + "…"


class TrialProgress:
    """An Optuna callback that shows a bar with the time left and writes a line per finished trial."""

    def __init__(self, metric: str | Sequence[str], *, enabled: bool = True) -> None:
        self.metric = metric
        self.enabled = enabled
        self.bar: tqdm | None = None

    def start(self, study: optuna.Study, finished: int, budget: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=budget,
            initial=min(finished, budget),
            desc=study.study_name,
            unit="trial",
            disable=not self.enabled,
            dynamic_ncols=True,
            bar_format="{desc}: {n_fmt}/{total_fmt} trials |{bar}| elapsed {elapsed}, left {remaining}",
        )

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        from tqdm import tqdm

        tqdm.write(trial_line(trial, self.metric))
        if self.bar is not None and trial.state.name in ("COMPLETE", "PRUNED"):
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def trial_records(
    trials: Sequence[optuna.trial.FrozenTrial], objectives: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Flat records of trials: number, state, value, seconds, every parameter, the key attributes.

    With several ``objectives`` (their names), one column each replaces ``value``; a ``feasible``
    column follows when the trials carry constraint values.
    """
    names: list[str] = []
    for trial in trials:
        names += [n for n in trial.params if n not in names]
    several = objectives is not None and len(objectives) > 1
    constrained = any(trial.constraints for trial in trials)
    records = []
    for trial in trials:
        record: dict[str, Any] = {"number": trial.number, "state": trial.state.name}
        if several:
            assert objectives is not None
            values = trial.values or [None] * len(objectives)
            record.update({name: objective_value(name, v) for name, v in zip(objectives, values, strict=True)})
        else:
            record["value"] = trial.value if trial.values is not None else None
        if constrained:
            feasible = is_feasible(trial)
            record["feasible"] = None if feasible is None else ("yes" if feasible else "no")
        record["seconds"] = round(trial.duration.total_seconds(), 1) if trial.duration else None
        record.update({name: trial.params.get(name) for name in names})
        record.update(table_columns(TrialResult.read(trial)))
        records.append(record)
    return records


def render_records(records: list[dict[str, Any]], fmt: str) -> str:
    """Records as an aligned table, CSV or JSON."""
    if fmt == "json":
        return json.dumps(records, indent=2)
    if not records:
        return "" if fmt == "csv" else "no trials yet"
    columns = list(records[0])
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return buffer.getvalue().rstrip("\n")
    cells = [[("" if r[c] is None else format_value(r[c])) for c in columns] for r in records]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def best_summary(trial: optuna.trial.FrozenTrial, metric: str | Sequence[str]) -> str:
    """A few lines on the best trial: its value, parameters and what it cost."""
    result = TrialResult.read(trial)
    lines = [
        f"best trial: {trial.number}  {format_objectives(trial, metric)}",
        f"  parameters: {format_params(trial.params) or '(none searched)'}",
    ]
    training, costs = result.training, result.costs
    if training is not None and training.runs and training.value_std is not None:
        low, high = training.value_ci95 or (None, None)
        interval = f" 95% CI [{format_value(low)}, {format_value(high)}]" if low is not None else ""
        lines.append(f"  {len(training.runs)} runs: std {format_value(training.value_std)}{interval}")
    shown: dict[str, Any] = {}
    if costs is not None:
        shown.update(params_total=costs.params, params_embedding=costs.embedding_params, flops=costs.flops)
        if costs.latency_ms is not None:
            shown["latency_ms"] = costs.latency_ms
    if training is not None:
        shown.update(
            epochs_run=training.epochs_run,
            best_epoch=training.best_epoch,
            seconds_per_epoch=training.seconds_per_epoch,
            train_val_gap=training.train_val_gap,
        )
    cost = [f"{name}={format_value(value)}" for name, value in shown.items()]
    if cost:
        lines.append("  " + " ".join(cost))
    return "\n".join(lines)


def pareto_summary(
    trials: Sequence[optuna.trial.FrozenTrial],
    objectives: Sequence[str],
    directions: Sequence[str],
    completed: int,
) -> str:
    """The Pareto-optimal trials of a multi-objective study as a heading and a table."""
    goals = ", ".join(f"{d} {n}" for n, d in zip(objectives, directions, strict=True))
    heading = f"Pareto-optimal trials: {len(trials)} of {completed} completed ({goals})"
    rows = []
    for record in trial_records(trials, objectives):
        del record["state"]
        rows.append(record)
    for record, trial in zip(rows, trials, strict=True):
        costs = ModelCosts.read(trial)
        for name, value in ({} if costs is None else costs.values()).items():
            if name in ("flops", "latency_ms") and name not in objectives:
                record[name] = objective_value(name, value)
    return heading + "\n" + render_records(rows, "table")


def run_summary(outcome: RunOutcome, spec: StudySpec, study_file: object) -> str:
    """The lines ``gapsearch run`` and ``worker`` end with: where the study stands, then its best trial(s)."""
    ran = outcome.finished_after - outcome.finished_before
    if ran == 0 and outcome.finished_before >= outcome.budget:
        lines = [
            f"study {outcome.study_name} already holds {outcome.finished_before} finished trials "
            f"(budget {outcome.budget}); nothing to do"
        ]
    else:
        finished = f"{outcome.finished_after}/{outcome.budget} finished trials"
        lines = [f"study {outcome.study_name}: {finished} in {outcome.storage}"]
    if outcome.best_trial is not None:
        lines.append(best_summary(outcome.best_trial, spec.objective_names))
    elif spec.is_multi_objective and outcome.best_trials:
        numbers = ", ".join(str(trial.number) for trial in outcome.best_trials)
        which = "trial" if len(outcome.best_trials) == 1 else "trials"
        lines.append(f"Pareto front: {which} {numbers} (gapsearch best {study_file} shows them)")
    return "\n".join(lines)


def create_summary(spec: StudySpec, study: optuna.Study, storage_url: str, *, created: bool, study_file: object) -> str:
    """The line ``gapsearch create`` prints: the study made, or found with its finished trials."""
    from gapsearch.masking import mask_url
    from gapsearch.search.runner import count_finished

    where = mask_url(storage_url)
    if created:
        return f"created study {spec.name} in {where}; start workers with `gapsearch worker {study_file}`"
    return f"study {spec.name} already exists in {where} with {count_finished(study)} finished trials; nothing to do"


def best_report(spec: StudySpec, study: optuna.Study) -> str:
    """``gapsearch best``: the best trial, or with several objectives the Pareto-optimal ones (feasible only)."""
    from gapsearch.results.pruned import pruning_note
    from gapsearch.search.selection import require_best_trials

    trials = require_best_trials(spec, study)
    every = study.get_trials(deepcopy=False)
    if len(study.directions) == 1:
        shown = best_summary(trials[0], spec.objective_names)
    else:
        completed = sum(t.state.name == "COMPLETE" for t in every)
        shown = pareto_summary(trials, spec.objective_names, spec.directions, completed)
    return "\n".join([shown, *pruning_note(spec, every)])


def trials_report(spec: StudySpec, study: optuna.Study, fmt: str) -> str:
    """``gapsearch trials``: every trial as a table, CSV or JSON; a table ends with how many were pruned and where."""
    from gapsearch.results.pruned import pruning_note

    trials = study.get_trials(deepcopy=False)
    table = render_records(trial_records(trials, spec.objective_names), fmt)
    return "\n".join([table, *(pruning_note(spec, trials) if fmt == "table" else [])])


def validation_report(spec: StudySpec, storage_url: str) -> str:
    """``gapsearch validate``: the study the file resolves to, its database (masked) and its task.

    The storage URL's scheme and driver are checked (:func:`~gapsearch.storage.database.driver_url`); the
    database is not opened.
    """
    from gapsearch.data.report import describe_task
    from gapsearch.masking import mask_url
    from gapsearch.spec.describe import describe_study
    from gapsearch.storage.database import driver_url

    driver_url(storage_url)
    task = describe_task(spec.data, spec.base_dir, spec.seed)
    return f"{describe_study(spec, mask_url(storage_url))}\ntask       {task}"


def export_summary(exported: Exported) -> str:
    """What ``gapsearch export`` prints: the trial, its objective values, and the files written."""
    values = ", ".join(f"{name}={format_value(value)}" for name, value in exported.values.items())
    lines = [f"trial {exported.trial_number} ({values}) exported to {exported.path}"]
    if exported.savedmodel is not None:
        lines.append(f"SavedModel written to {exported.savedmodel} (signature serving_default: texts -> scores)")
    return "\n".join(lines)
