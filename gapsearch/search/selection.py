"""Choosing a trial, once for every command, and what retraining it takes.

``best``, ``export``, ``evaluate``, ``compare``, ``report`` and the Python API all call :func:`choose_trial`:
``best`` (in a study with several objectives: the Pareto-optimal trial best in one objective, the monitored
metric unless ``by`` names another), or a trial number. With constraints only feasible trials
(:func:`is_feasible`) are best; warm starts rank a source study's trials with :func:`ranked_trials`, and
``save_models: best`` keeps the model of a trial that :func:`leads` and removes those it has :func:`beaten_by`.

What built a trial is resolved here too, so that the search, ``evaluate`` and ``compare`` agree:
:func:`resolve_auto` (``sequence_length: auto`` from the training lengths), :func:`trial_hyperparameters`
(a finished trial's values, ``auto`` as it recorded it), :func:`first_attempt_seed` (a retry trains with
its first attempt's seed) and :func:`retraining` (the hyperparameters, seed, epochs and model of a chosen
trial trained once more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gapsearch.errors import StorageError, UserError
from gapsearch.optuna_compat import retried_trial_number, trial_id
from gapsearch.trial_attrs import TrainingOutcome, TrialSetup

if TYPE_CHECKING:
    import keras
    import optuna

    from gapsearch.data.cache import DataInfo
    from gapsearch.data.dataset import VectorizedSplits
    from gapsearch.data.vectors import LookedUpVectors
    from gapsearch.search.space import Hyperparameters
    from gapsearch.spec.study import StudySpec

_SEED_STRIDE = 100_003


def is_feasible(trial: optuna.trial.FrozenTrial) -> bool | None:
    """Whether the trial kept every bound of ``constraints:``; None when it has no constraint values.

    Optuna's own reading (``FrozenTrial.constraints``): a bound is kept when its value is <= 0.
    """
    constraints = trial.constraints
    return None if not constraints else all(value <= 0.0 for value in constraints.values())


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The best completed (and feasible) trial; None when there is none, or several objectives."""
    if len(study.directions) > 1:
        return None
    try:
        return study.best_trial
    except ValueError:
        return None


def best_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The Pareto-optimal completed trials (feasible ones only when there are constraints), by number.

    In a study with one objective, the best trial alone (or none).
    """
    if len(study.directions) == 1:
        trial = best_trial(study)
        return [] if trial is None else [trial]
    return sorted(study.best_trials, key=lambda trial: trial.number)


def require_best_trials(spec: StudySpec, study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """:func:`best_trials`, or a one-line error saying why there is none yet.

    Raises:
        StorageError: no completed trial, or (with constraints) no feasible one.
    """
    trials = best_trials(study)
    if trials:
        return trials
    completed = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if completed and spec.constraints:
        raise StorageError(
            f"study {spec.name!r} has no feasible trial yet: all {len(completed)} completed trials break "
            "a bound of constraints (gapsearch trials shows them)"
        )
    raise StorageError(f"study {spec.name!r} has no completed trial yet; run it first")


def choose_trial(
    spec: StudySpec, study: optuna.Study, which: str | int | None = "best", *, by: str | None = None
) -> optuna.trial.FrozenTrial:
    """The completed trial that ``which`` names: ``best`` (or None) or a trial number.

    With several objectives, ``best`` is the Pareto-optimal trial best in the objective ``by``
    (default: the monitored metric, ``spec.monitored.metric``); ties go to the lower trial number.

    Raises:
        UserError: ``which`` is neither ``best`` nor a number, there is no such trial, it did not complete,
            ``by`` is not an objective, or ``by`` is given with a trial number.
        StorageError: the study has no completed (feasible) trial yet.
    """
    if which is None:
        which = "best"
    if by is not None and by not in spec.objective_names:
        accepted = " or ".join(repr(name) for name in spec.objective_names)
        raise UserError(f"--by: {by!r} is not an objective of study {spec.name!r}; expected {accepted}")
    if which == "best":
        front = require_best_trials(spec, study)
        if len(front) == 1:
            return front[0]
        metric = by or spec.monitored.metric
        index = spec.objective_names.index(metric)
        sign = 1.0 if spec.directions[index] == "maximize" else -1.0
        return max(front, key=lambda trial: (sign * trial.values[index], -trial.number))
    if isinstance(which, str) and not which.isdigit():
        raise UserError(f"--trial: {which!r} is not a trial number; expected 'best' or a number such as 3")
    number = int(which)
    if by is not None:
        raise UserError(f"--by chooses among the Pareto-optimal trials, so it goes with --trial best, not {number}")
    trials = study.get_trials(deepcopy=False)
    if not 0 <= number < len(trials):
        span = f"its trials are 0 to {len(trials) - 1}" if trials else "it has no trials yet"
        raise UserError(f"--trial: study {spec.name!r} has no trial {number}; {span}")
    trial = trials[number]
    if trial.state.name != "COMPLETE":
        raise UserError(
            f"--trial: trial {number} of study {spec.name!r} is {trial.state.name}; only completed trials can be "
            "chosen (gapsearch best lists the best)"
        )
    return trial


def ranked_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The completed, feasible trials best first; with several objectives only the Pareto front,
    ordered by the first objective."""
    from optuna.trial import TrialState

    if len(study.directions) > 1:
        front = [trial for trial in study.best_trials if is_feasible(trial) is not False]
        return sorted(front, key=lambda trial: _key(float(trial.values[0]), study.directions[0]))
    completed = [
        trial
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if trial.value is not None and math.isfinite(trial.value) and is_feasible(trial) is not False
    ]
    return sorted(completed, key=lambda trial: (_key(float(trial.value or 0.0), study.direction), trial.number))


def leads(trial: optuna.Trial, value: float) -> bool:
    """Whether a running trial that completes with ``value`` becomes its study's best trial (one objective): it
    keeps every bound of ``constraints:`` (as stored on it) and beats every completed feasible trial (a tie goes
    to the earlier trial)."""
    if is_feasible(trial.storage.get_trial(trial_id(trial))) is False:
        return False
    ranked = ranked_trials(trial.study)
    direction = trial.study.direction
    return not ranked or _key(value, direction) < _key(float(ranked[0].value or 0.0), direction)


def beaten_by(study: optuna.Study, value: float) -> list[optuna.trial.FrozenTrial]:
    """The completed feasible trials that a trial completing with ``value`` beats (one objective), by number."""
    direction = study.direction
    beaten = [t for t in ranked_trials(study) if _key(value, direction) < _key(float(t.value or 0.0), direction)]
    return sorted(beaten, key=lambda trial: trial.number)


def _key(value: float, direction: optuna.study.StudyDirection) -> float:
    return -value if direction.name == "MAXIMIZE" else value


def resolve_auto(spec: StudySpec, hp: Hyperparameters, info: DataInfo) -> Hyperparameters:
    """``sequence_length: auto`` becomes the percentile of the training lengths the data section names."""
    if hp.sequence_length != "auto":
        return hp
    length = info.sequence_length(spec.data.sequence_length_percentile)
    return hp.model_copy(update={"sequence_length": length})


def trial_hyperparameters(spec: StudySpec, trial: optuna.trial.FrozenTrial) -> Hyperparameters:
    """Every hyperparameter of ``trial``: the study's fixed values, its sampled ones, and what it resolved."""
    from gapsearch.search.space import hyperparameters

    hp = hyperparameters(spec.fixed, trial.params)
    resolved = TrialSetup.read_sequence_length(trial)
    if hp.sequence_length == "auto" and resolved is not None:
        hp = hp.model_copy(update={"sequence_length": resolved})
    return hp


def trial_seed(study_seed: int, trial_number: int) -> int:
    """The training seed of a trial: fixed by the study seed and the trial number."""
    return (study_seed * _SEED_STRIDE + trial_number) % (2**31 - 1)


def first_attempt_number(trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    """The number of the trial's first attempt: its own, or for a retry the failed trial's it stands for.

    Optuna's retry callback records that number (:func:`gapsearch.optuna_compat.retried_trial_number`); a running
    trial reads it from the storage.
    """
    from optuna.trial import FrozenTrial

    frozen = trial if isinstance(trial, FrozenTrial) else trial.storage.get_trial(trial_id(trial))
    retried = retried_trial_number(frozen)
    return trial.number if retried is None else int(retried)


def first_attempt_seed(spec: StudySpec, trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    """The seed of the trial's first run: a retry trains as its first attempt did, and so does ``evaluate``."""
    return trial_seed(spec.seed, first_attempt_number(trial))


@dataclass(frozen=True)
class Retraining:
    """What training a chosen trial once more takes: what built it, its first run's seed, and its epochs."""

    hp: Hyperparameters  # with ``sequence_length: auto`` as the trial resolved it
    seed: int
    epochs: int  # the epochs the search found best (see TrainingOutcome.epochs_to_retrain)

    def model(
        self, spec: StudySpec, data: VectorizedSplits, *, n_classes: int, task: str, vectors: LookedUpVectors | None
    ) -> keras.Model:
        """The untrained model for ``data``, built with this seed as a search run builds its model."""
        from gapsearch.search.runs import TrainingRun, build_run_model

        run = TrainingRun(name="retraining", seed=self.seed, data=data)
        return build_run_model(
            self.hp,
            run,
            n_classes=n_classes,
            task=task,
            monitor=spec.monitored,
            metrics=None,
            confusion=False,
            vectors=vectors,
        )


def retraining(spec: StudySpec, trial: optuna.trial.FrozenTrial) -> Retraining:
    """How to train ``trial`` once more: its hyperparameters, its first attempt's seed, the epochs it found best."""
    hp = trial_hyperparameters(spec, trial)
    training = TrainingOutcome.read(trial)
    epochs = hp.epochs if training is None else training.epochs_to_retrain()
    return Retraining(hp, first_attempt_seed(spec, trial), epochs)


__all__ = [
    "Retraining",
    "beaten_by",
    "best_trial",
    "best_trials",
    "choose_trial",
    "first_attempt_number",
    "first_attempt_seed",
    "is_feasible",
    "leads",
    "ranked_trials",
    "require_best_trials",
    "resolve_auto",
    "retraining",
    "trial_hyperparameters",
    "trial_seed",
]
