"""Warm starts: queue the best parameter sets of a finished study before the sampler takes over.

The source's best completed trials (feasible ones when it has constraints) are taken best first: by
its objective with one objective, or its Pareto front ordered by the first objective with several.
Each set is fitted to this study's space: a value outside it (out of range, off the step, not a
choice, or a parameter this study fixes at another value) skips the set; a conditional parameter
whose condition does not hold is left out of it; a parameter the source did not search is sampled.
The plan is read before this study's database is touched and queued once per study (a rerun finds
the study attribute ``warm_start`` and queues nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gapsearch.errors import UserError
from gapsearch.search.selection import ranked_trials
from gapsearch.spec.checks import sampling_order
from gapsearch.spec.hyperparameters import INTEGER_NAMES
from gapsearch.spec.space import Choice, ParamSpec, Range
from gapsearch.storage.database import mask_url
from gapsearch.study_attrs import WARM_START_DONE, WarmStartDone
from gapsearch.trial_attrs import QueuedFrom

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import optuna

    from gapsearch.spec.study import StudySpec

#: The user attribute of a queued trial: which study and trial its parameters come from (shown by the dashboard).
WARM_START_FROM = QueuedFrom.key("source")


@dataclass(frozen=True)
class QueuedSet:
    """One parameter set to queue: its values and where they came from."""

    params: dict[str, Any]
    source: str  # "STUDY trial N"


@dataclass(frozen=True)
class WarmStart:
    """A warm start's plan and, once queued, what became of it."""

    source_study: str
    source_storage: str  # masked
    sets: tuple[QueuedSet, ...] = ()
    notes: tuple[str, ...] = ()  # one line per skipped set or left-out parameter
    queued: int = 0
    already_done: bool = False  # an earlier run queued this warm start
    #: The study attribute that records it done, and how the printed line names it.
    done_key: str = WARM_START_DONE
    title: str = ""

    def summary(self) -> str:
        """The line ``gapsearch run`` prints."""
        title = self.title or f"warm start from study {self.source_study}"
        if self.already_done:
            return f"{title}: queued on an earlier run; nothing queued now"
        return f"{title}: queued {self.queued} parameter set{'s' if self.queued != 1 else ''}" + (
            f" ({len(self.notes)} note{'s' if len(self.notes) != 1 else ''} above)" if self.notes else ""
        )


@dataclass
class _Fitted:
    params: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    left_out: list[str] = field(default_factory=list)


def plan_warm_start(spec: StudySpec, storage_url: str) -> WarmStart | None:
    """Read the source study and fit its best parameter sets to ``spec``'s space (nothing is written).

    Raises:
        StorageError: the source database or study cannot be found.
        UserError: the source names this study itself or has no completed trial.
    """
    warm = spec.warm_start
    if warm is None:
        return None
    from gapsearch.storage.database import load_existing_study

    source_url = warm.storage or storage_url
    where = f"{spec.source}: warm_start.study"
    if warm.study == spec.name and mask_url(source_url) == mask_url(storage_url):
        raise UserError(f"{where}: {warm.study!r} is this study itself; name another study (or another storage)")
    source = load_existing_study(source_url, warm.study)
    ranked = ranked_trials(source)
    if not ranked:
        raise UserError(f"{where}: study {warm.study!r} in {mask_url(source_url)} has no completed trial to start from")
    labelled = [(f"{warm.study} trial {trial.number}", trial.params) for trial in ranked]
    sets, notes = fit_sets(labelled, spec, top=warm.top, prefix="warm start")
    return WarmStart(warm.study, mask_url(source_url), sets, notes)


def fit_sets(
    labelled: Iterable[tuple[str, Mapping[str, Any]]], spec: StudySpec, *, top: int, prefix: str
) -> tuple[tuple[QueuedSet, ...], tuple[str, ...]]:
    """The first ``top`` parameter sets that fit ``spec``'s space (best first, as given), each once, and one
    note per set skipped or parameter left out (``prefix`` begins each note)."""
    sets: list[QueuedSet] = []
    notes: list[str] = []
    for label, params in labelled:
        if len(sets) == top:
            break
        fitted = fit_to_space(params, spec.search_space, spec.fixed)
        if fitted.skipped is not None:
            notes.append(f"{prefix}: {label} skipped: {fitted.skipped}")
            continue
        notes += [f"{prefix}: {label}: {line}" for line in fitted.left_out]
        if any(fitted.params == queued.params for queued in sets):
            notes.append(f"{prefix}: {label} skipped: the same parameters as an earlier set in this space")
            continue
        sets.append(QueuedSet(fitted.params, label))
    return tuple(sets), tuple(notes)


def fit_to_space(params: Mapping[str, Any], space: Mapping[str, ParamSpec], fixed: Mapping[str, Any]) -> _Fitted:
    """``params`` as a set of this space: the values it can carry, or why it cannot be carried."""
    fitted = _Fitted()
    for name in sampling_order(space):
        if name not in params:
            continue  # a parameter the source did not search (or whose condition did not hold there): sampled
        param, value = space[name], params[name]
        if _condition(param, {**fixed, **fitted.params}) is False:
            fitted.left_out.append(f"{name}={value!r} left out: its condition {_when(param)} does not hold")
            continue
        problem = outside(name, param, value)
        if problem is not None:
            fitted.skipped = f"{name}={value!r} is outside this study's space ({problem})"
            return fitted
        fitted.params[name] = value
    for name, value in params.items():
        if name not in space and name in fixed and not _same(fixed[name], value):
            fitted.skipped = f"{name}={value!r}, but this study fixes {name} at {fixed[name]!r}"
    return fitted


def _condition(param: ParamSpec, known: Mapping[str, Any]) -> bool | None:
    """Whether ``param``'s condition holds, or None when it names a parameter the sampler has yet to choose."""
    if param.when is None:
        return True
    if any(name not in known for name in param.when):
        return None  # Optuna uses a queued value only where the trial suggests it: only if the condition holds
    return param.active(dict(known))


def _when(param: ParamSpec) -> str:
    return " and ".join(f"{k} in ({', '.join(map(str, v))})" for k, v in (param.when or {}).items())


def _same(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def outside(name: str, param: ParamSpec, value: Any) -> str | None:
    """Why ``value`` is not a value of ``param`` (hyperparameter ``name``), or None when it is."""
    if isinstance(param, Choice):
        if any(_same(choice, value) for choice in param.choices):
            return None
        return "choices " + ", ".join(map(str, param.choices))
    assert isinstance(param, Range)
    is_int = name in INTEGER_NAMES
    low, high = (int(param.low), int(param.high)) if is_int else (param.low, param.high)
    accepted = f"{low} .. {high}" + (f" step {param.step:g}" if param.step else "")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return accepted
    if is_int and value != int(value):
        return f"whole numbers {accepted}"
    tolerance = 1e-9 * max(1.0, abs(high - low))
    if not low - tolerance <= value <= high + tolerance:
        return accepted
    step = param.step or (1 if is_int else None)
    if step is not None:
        offset = (value - low) / step
        if abs(offset - round(offset)) > 1e-6:
            return accepted
    return None


def queue_warm_start(study: optuna.Study, plan: WarmStart) -> WarmStart:
    """Queue ``plan``'s sets on ``study`` unless an earlier run did; record that it is done."""
    from dataclasses import replace

    done = WarmStartDone.read(study, plan.done_key)
    if done is not None and (done.study, done.storage) == (plan.source_study, plan.source_storage):
        return replace(plan, queued=0, already_done=True, notes=())
    for queued in plan.sets:
        study.enqueue_trial(queued.params, user_attrs=QueuedFrom(queued.source).as_attrs())
    WarmStartDone(plan.source_study, plan.source_storage, len(plan.sets)).write(study, plan.done_key)
    return replace(plan, queued=len(plan.sets))


__all__ = [
    "WARM_START_DONE",
    "WARM_START_FROM",
    "WarmStart",
    "fit_sets",
    "fit_to_space",
    "outside",
    "plan_warm_start",
    "queue_warm_start",
]
