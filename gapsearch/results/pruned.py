"""What pruning left of a study: how many trials were pruned and where, and their values at an epoch all reached.

With the default pruner (successive halving from the first epoch) most trials stop after one epoch, so a
study's completed trials are a few of those it tried. ``best``, ``trials`` and ``report`` say how many
were pruned and where (:func:`pruning_summary`) and point to ``gapsearch compare`` (:func:`compare_hint`);
the report compares configurations at the last epoch every trial reached (:func:`common_epoch`) when too
few of them completed.

A trial reports its monitored metric once an epoch, at step ``run_index * epochs + epoch``
(:mod:`gapsearch.search.objective`; the runs are its folds and repeats). Optuna keeps those values as the
trial's intermediate values; in a study of several objectives the pruner's curve keeps them
(:func:`gapsearch.search.pruning.curve_of`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gapsearch.trial_attrs import Pruned

if TYPE_CHECKING:
    import optuna

    from gapsearch.spec.study import StudySpec

#: How each state other than completed and pruned reads in a count (``2 failed``).
_STATE_WORDS = {"FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}
#: The seeds ``gapsearch compare`` is pointed to with: the fewest that give an interval with some width.
HINT_SEEDS = 3


@dataclass(frozen=True, order=True)
class RunEpoch:
    """An epoch of a trial's training: the run (0-based, over its folds and repeats) and its epoch (1-based)."""

    run: int
    epoch: int

    @classmethod
    def of_step(cls, step: int, epochs: int) -> RunEpoch:
        """The epoch a reported ``step`` (``run_index * epochs + epoch``) stands for."""
        run, epoch = divmod(step - 1, epochs)
        return cls(run, epoch + 1)

    def __str__(self) -> str:
        return f"epoch {self.epoch}" if self.run == 0 else f"epoch {self.epoch} of run {self.run + 1}"


def reported_values(trial: optuna.trial.FrozenTrial) -> dict[int, float]:
    """The monitored metric the trial reported, by step (empty when it reported none)."""
    from gapsearch.search.pruning import curve_of

    return dict(trial.intermediate_values) or curve_of(trial)


def _epochs(spec: StudySpec, trial: optuna.trial.FrozenTrial) -> int:
    from gapsearch.search.selection import trial_hyperparameters

    return trial_hyperparameters(spec, trial).epochs


def stopped_at(spec: StudySpec, trial: optuna.trial.FrozenTrial) -> RunEpoch | None:
    """Where a pruned trial stopped: the epoch of its last reported step, else its :class:`Pruned` record's."""
    values = reported_values(trial)
    if values:
        return RunEpoch.of_step(max(values), _epochs(spec, trial))
    pruned = Pruned.read(trial)
    return None if pruned is None else RunEpoch(0, pruned.epochs_run)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class PruningSummary:
    """How a study's trials ended: how many in each state, and where the pruned ones stopped."""

    states: dict[str, int]  # by Optuna's state name
    stopped: tuple[tuple[RunEpoch | None, int], ...]  # where pruned trials stopped and how many; None: not recorded

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def completed(self) -> int:
        return self.states.get("COMPLETE", 0)

    @property
    def pruned(self) -> int:
        return self.states.get("PRUNED", 0)

    @property
    def where(self) -> str:
        """``at epoch 1``, or ``at epoch 1 (9), epoch 2 (3)`` when trials stopped at several."""
        names = [str(at) if at is not None else "an unrecorded epoch" for at, _ in self.stopped]
        if len(names) == 1:
            return f"at {names[0]}"
        return "at " + ", ".join(f"{name} ({n})" for name, (_, n) in zip(names, self.stopped, strict=True))

    def line(self) -> str | None:
        """``13 trials: 5 completed, 8 pruned at epoch 1``; None when no trial was pruned."""
        if not self.pruned:
            return None
        others = "".join(f", {n} {_STATE_WORDS.get(state, state.lower())}" for state, n in self.states.items()
                         if state not in ("COMPLETE", "PRUNED"))  # fmt: skip
        return f"{_count(self.total, 'trial')}: {self.completed} completed, {self.pruned} pruned {self.where}{others}"


def pruning_summary(spec: StudySpec, trials: Sequence[optuna.trial.FrozenTrial]) -> PruningSummary:
    """Count the trials by state, and where each pruned one stopped."""
    states = Counter(trial.state.name for trial in trials)
    stops = Counter(stopped_at(spec, trial) for trial in trials if trial.state.name == "PRUNED")
    ordered = sorted(stops.items(), key=lambda item: (item[0] is None, item[0] or RunEpoch(0, 0)))
    return PruningSummary(dict(sorted(states.items())), tuple(ordered))


@dataclass(frozen=True)
class CompareHint:
    """The parameter a paired comparison would settle, and the command that runs it."""

    param: str
    command: str

    def __str__(self) -> str:
        return f"to compare {self.param} fairly: {self.command}"


def compare_hint(spec: StudySpec) -> CompareHint | None:
    """``gapsearch compare STUDY --param pooling --seeds 3``: pooling, else the first parameter searched as
    unconditional choices; None when nothing is."""
    from gapsearch.spec.space import Choice

    names = [name for name, p in spec.search_space.items()
             if isinstance(p, Choice) and p.when is None and len(p.choices) > 1]  # fmt: skip
    if not names:
        return None
    param = "pooling" if "pooling" in names else names[0]
    return CompareHint(param, f"gapsearch compare {_shown(spec.source)} --param {param} --seeds {HINT_SEEDS}")


def _shown(path: Path | None) -> str:
    """The study file as a command line would name it: relative to the working directory when inside it."""
    if path is None:
        return "STUDY.yaml"
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def pruning_note(spec: StudySpec, trials: Sequence[optuna.trial.FrozenTrial]) -> list[str]:
    """The lines ``best`` and ``trials`` end with: how many were pruned and where, and, when most were and a
    trial completed, the comparison that would settle what the pruned ones could not."""
    summary = pruning_summary(spec, trials)
    line = summary.line()
    if line is None:
        return []
    hint = compare_hint(spec)
    most = summary.pruned > summary.completed > 0
    return [line] + ([str(hint)] if most and hint is not None else [])


@dataclass(frozen=True)
class CommonEpoch:
    """The completed and pruned trials' monitored metric at the last step all of them reported."""

    step: int
    at: RunEpoch
    values: dict[int, float]  # by trial number


def common_epoch(spec: StudySpec, trials: Sequence[optuna.trial.FrozenTrial]) -> CommonEpoch | None:
    """Each completed or pruned trial's value at the last step every one of them reported; None for fewer
    than two such trials.

    With ``epochs`` searched the runs differ in length, so the step stays within the first run, where a
    step is the same epoch for every trial. A trial with no value at that step is left out.
    """
    reported = {
        trial.number: (values, _epochs(spec, trial))
        for trial in trials
        if trial.state.name in ("COMPLETE", "PRUNED") and (values := reported_values(trial))
    }
    if len(reported) < 2:
        return None
    step = min(max(values) for values, _ in reported.values())
    shortest = min(epochs for _, epochs in reported.values())
    if any(epochs != shortest for _, epochs in reported.values()):
        step = min(step, shortest)
    at_step = {number: values[step] for number, (values, _) in reported.items() if step in values}
    finite = {number: float(value) for number, value in at_step.items() if math.isfinite(value)}
    return CommonEpoch(step, RunEpoch.of_step(step, shortest), finite) if len(finite) >= 2 else None


__all__ = [
    "CommonEpoch",
    "CompareHint",
    "PruningSummary",
    "RunEpoch",
    "common_epoch",
    "compare_hint",
    "pruning_note",
    "pruning_summary",
    "reported_values",
    "stopped_at",
]
