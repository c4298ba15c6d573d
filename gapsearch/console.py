"""What a person sees in the terminal: the progress bar, one line per trial, trial tables."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna
    from tqdm import tqdm

# User attributes worth a column in the trials table; the rest stay in the database.
TABLE_ATTRS = ("params_total", "epochs_run", "best_epoch", "seconds_per_epoch")


def format_value(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e5 else f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def format_params(params: dict[str, Any]) -> str:
    return " ".join(f"{name}={format_value(value)}" for name, value in params.items())


def trial_line(trial: optuna.trial.FrozenTrial, metric: str) -> str:
    """One line for a finished trial: number, state, value, seconds, parameters (and the reason it failed)."""
    seconds = trial.duration.total_seconds() if trial.duration else 0.0
    value = f"{metric}={format_value(trial.value)}" if trial.value is not None else "-"
    line = (
        f"trial {trial.number:>3}  {trial.state.name:<8}  {value:<20}  {seconds:6.1f}s  {format_params(trial.params)}"
    )
    reason = trial.user_attrs.get("fail_reason")
    if reason and trial.state.name == "FAIL":
        line += f"  ({str(reason).splitlines()[0][:200]})"
    return line


class TrialProgress:
    """An Optuna callback that shows a bar with the time left and writes a line per finished trial."""

    def __init__(self, metric: str, *, enabled: bool = True) -> None:
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


def trial_records(trials: Sequence[optuna.trial.FrozenTrial]) -> list[dict[str, Any]]:
    """Flat records of trials: number, state, value, seconds, every parameter, the key attributes."""
    names: list[str] = []
    for trial in trials:
        names += [n for n in trial.params if n not in names]
    records = []
    for trial in trials:
        record: dict[str, Any] = {
            "number": trial.number,
            "state": trial.state.name,
            "value": trial.value,
            "seconds": round(trial.duration.total_seconds(), 1) if trial.duration else None,
        }
        record.update({name: trial.params.get(name) for name in names})
        record.update({attr: trial.user_attrs.get(attr) for attr in TABLE_ATTRS})
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


def best_summary(trial: optuna.trial.FrozenTrial, metric: str) -> str:
    """A few lines on the best trial: its value, parameters and what it cost."""
    attrs = trial.user_attrs
    lines = [
        f"best trial: {trial.number}  {metric}={format_value(trial.value)}",
        f"  parameters: {format_params(trial.params) or '(none searched)'}",
    ]
    cost = [
        f"{k}={format_value(attrs[k])}"
        for k in ("params_total", "params_embedding", "epochs_run", "best_epoch", "seconds_per_epoch", "train_val_gap")
        if k in attrs
    ]
    if cost:
        lines.append("  " + " ".join(cost))
    return "\n".join(lines)
