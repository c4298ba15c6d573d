"""Running a study: data first, then the database, then trials until the budget is met.

Everything a user can get wrong (the study file, the data, the storage URL) is
checked before the database is touched, so a bad run writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gapsearch.errors import GapsearchError, UserError
from gapsearch.spec.study import StudySpec
from gapsearch.storage import mask_url, open_storage

if TYPE_CHECKING:
    import optuna

    from gapsearch.data.dataset import TextSplits

TrialCallback = Callable[["optuna.Study", "optuna.trial.FrozenTrial"], None]


def finished_states() -> tuple[optuna.trial.TrialState, ...]:
    """Trial states that count towards the budget: completed and pruned (failed ones are retried)."""
    from optuna.trial import TrialState

    return (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: the budget, finished trials before and after, and why it stopped."""

    study_name: str
    storage: str  # masked
    budget: int
    finished_before: int
    finished_after: int
    best_trial: optuna.trial.FrozenTrial | None

    @property
    def budget_met(self) -> bool:
        return self.finished_after >= self.budget


def load_data(spec: StudySpec) -> TextSplits:
    """Read and split the study's data (no vectorization yet), checking it fits the metric."""
    from gapsearch.data.dataset import load_splits

    splits = load_splits(spec.data, spec.base_dir, spec.seed)
    if spec.metric == "val_auc" and len(splits.class_names) != 2:
        raise UserError(
            f"{spec.source}: metric: 'val_auc' needs two classes, but the data has {len(splits.class_names)}; "
            "use 'val_accuracy' or 'val_loss'"
        )
    return splits


def create_or_load_study(spec: StudySpec, storage_url: str, splits: TextSplits) -> optuna.Study:
    """Create the study in the database, or load it when a previous run created it."""
    import optuna

    from gapsearch.optimization import make_pruner, make_sampler

    storage = open_storage(storage_url)
    study = optuna.create_study(
        study_name=spec.name,
        storage=storage,
        sampler=make_sampler(spec),
        pruner=make_pruner(spec),
        direction=spec.direction,
        load_if_exists=True,
    )
    stored = study.direction.name.lower()
    if stored != spec.direction:
        raise UserError(
            f"{spec.source}: direction: {spec.direction!r}, but study {spec.name!r} in {mask_url(storage_url)} "
            f"was created with {stored!r}; use another name or the same direction"
        )
    study.set_user_attr("metric", spec.metric)
    study.set_user_attr("class_names", list(splits.class_names))
    study.set_user_attr("task", splits.task)
    if spec.text is not None:
        study.set_user_attr("study_file", spec.text)
    return study


class _FailureStreak:
    """Stops the study after ``limit`` failed trials in a row: something is wrong beyond one trial."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.streak = 0
        self.last_reason = ""

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        from optuna.trial import TrialState

        if trial.state != TrialState.FAIL:
            self.streak = 0
            return
        self.streak += 1
        self.last_reason = str(trial.user_attrs.get("fail_reason", "unknown"))
        if self.streak >= self.limit:
            study.stop()


def count_finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=finished_states()))


def run_study(
    spec: StudySpec,
    *,
    storage_url: str,
    n_trials: int | None = None,
    timeout: float | None = None,
    callbacks: Sequence[TrialCallback] = (),
    on_start: Callable[[optuna.Study, int, int], None] | None = None,
) -> RunOutcome:
    """Run trials of ``spec`` until the study holds ``n_trials`` finished trials (the study file's budget).

    ``on_start(study, finished, budget)`` runs once the study is open, before any trial.

    Raises:
        UserError: bad data or storage; nothing has been written to the database then.
        GapsearchError: ``max_failures`` trials failed in a row.
    """
    import optuna

    from gapsearch.errors import TrialFailed
    from gapsearch.runtime import import_keras

    import_keras()
    from gapsearch.objective import Objective

    budget = n_trials if n_trials is not None else spec.n_trials
    splits = load_data(spec)
    from gapsearch.artifacts import open_artifact_store, save_study_note

    open_artifact_store(spec.artifacts)  # a store that cannot be made stops the run before the database
    study = create_or_load_study(spec, storage_url, splits)
    save_study_note(study, spec, splits)
    before = count_finished(study)
    if on_start is not None:
        on_start(study, before, budget)
    streak = _FailureStreak(spec.max_failures)
    if before < budget:
        study.optimize(
            Objective(spec, splits),
            n_trials=None,
            timeout=timeout if timeout is not None else spec.timeout,
            catch=(TrialFailed,),
            callbacks=[optuna.study.MaxTrialsCallback(budget, states=finished_states()), streak, *callbacks],
        )
    after = count_finished(study)
    if streak.streak >= streak.limit:
        raise GapsearchError(
            f"stopped after {streak.streak} failed trial{'s' if streak.streak > 1 else ''} in a row; "
            f"the last failed because: {streak.last_reason}"
        )
    return RunOutcome(
        study_name=spec.name,
        storage=mask_url(storage_url),
        budget=budget,
        finished_before=before,
        finished_after=after,
        best_trial=best_trial(study),
    )


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The best completed trial, or None when none has completed."""
    try:
        return study.best_trial
    except ValueError:
        return None


__all__ = ["RunOutcome", "count_finished", "create_or_load_study", "load_data", "run_study"]
