"""The trial objective: sample, build, train, record; and the one place that decides a trial's fate.

Pruned (the pruner stopped it), failed (this trial alone went wrong: NaN loss, out of
memory, a bad batch; the study goes on) and fatal (a mistake the user must fix: the
study stops) are decided here, and the reason is recorded on the trial.
"""

from __future__ import annotations

import gc
import statistics
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING

import optuna

from gapsearch.errors import TrialFailed, UserError
from gapsearch.space import hyperparameters, sample
from gapsearch.spec.study import StudySpec

if TYPE_CHECKING:
    from gapsearch.data.dataset import TextSplits, VectorizedSplits
    from gapsearch.spec.hyperparameters import Hyperparameters
    from gapsearch.training import TrainingResult

FAIL_REASON = "fail_reason"
_SEED_STRIDE = 100_003


def trial_seed(study_seed: int, trial_number: int) -> int:
    """The training seed of a trial: fixed by the study seed and the trial number."""
    return (study_seed * _SEED_STRIDE + trial_number) % (2**31 - 1)


class Objective:
    """Callable for ``study.optimize``: one trial from sampled parameters to recorded result."""

    def __init__(self, spec: StudySpec, splits: TextSplits) -> None:
        self.spec = spec
        self.splits = splits

    def __call__(self, trial: optuna.Trial) -> float:
        sampled = sample(trial, self.spec.search_space, self.spec.fixed)
        hp = hyperparameters(self.spec.fixed, sampled)
        try:
            return self._train(trial, hp)
        except (optuna.TrialPruned, UserError):
            raise
        except TrialFailed as failure:
            trial.set_user_attr(FAIL_REASON, failure.message)
            raise
        except Exception as error:  # noqa: BLE001 - any other error fails this trial alone
            reason = _reason(error)
            trial.set_user_attr(FAIL_REASON, reason[:2000])
            trial.set_user_attr("fail_traceback", traceback.format_exc()[-4000:])
            raise TrialFailed(reason) from error
        finally:
            _free_memory()

    def plan_runs(self, trial: optuna.Trial, hp: Hyperparameters) -> list[TrainingRun]:
        """The training runs of one trial; its value is the mean of their best values.

        One run on the validation split today. Cross-validation folds and repeated seeds are
        more runs here: each is trained in turn, and its epochs are reported to the pruner as
        steps ``index * epochs + epoch`` so that a pruner compares like with like.
        """
        data = self.splits.vectorize(hp.max_tokens, hp.sequence_length)
        return [TrainingRun(name="validation", seed=trial_seed(self.spec.seed, trial.number), data=data)]

    def _train(self, trial: optuna.Trial, hp: Hyperparameters) -> float:
        from gapsearch.runtime import run_attributes

        for key, value in run_attributes().items():
            trial.set_user_attr(key, value)
        runs = self.plan_runs(trial, hp)
        trial.set_user_attr("seed", runs[0].seed)
        results = [self._fit(trial, hp, run, step_offset=index * hp.epochs) for index, run in enumerate(runs)]
        if len(runs) > 1:
            trial.set_user_attr(
                "run_values", {run.name: result.best_value for run, result in zip(runs, results, strict=True)}
            )
        self._record(trial, results[0])
        return statistics.fmean(result.best_value for result in results)

    def _fit(self, trial: optuna.Trial, hp: Hyperparameters, run: TrainingRun, *, step_offset: int) -> TrainingResult:
        import keras

        from gapsearch.models.builder import build_model
        from gapsearch.training import train

        _free_memory()
        keras.utils.set_random_seed(run.seed)
        model = build_model(hp, vocabulary_size=run.data.vocabulary_size, n_classes=len(self.splits.class_names))
        trial.set_user_attr("params_total", int(model.count_params()))
        trial.set_user_attr("params_embedding", int(model.get_layer("embedding").count_params()))

        def report(epoch: int, value: float) -> None:
            trial.report(value, step_offset + epoch)
            if trial.should_prune():
                trial.set_user_attr("epochs_run", epoch)
                raise optuna.TrialPruned(f"pruned at epoch {epoch} of {run.name} with {self.spec.metric}={value:.4f}")

        return train(
            model,
            run.data.x_train,
            run.data.y_train,
            run.data.x_validation,
            run.data.y_validation,
            metric=self.spec.metric,
            direction=self.spec.direction,
            epochs=hp.epochs,
            batch_size=hp.batch_size,
            patience=hp.patience,
            report=report,
            length_buckets=hp.length_buckets,
            seed=run.seed,
        )

    def _record(self, trial: optuna.Trial, result: TrainingResult) -> None:
        gap = result.generalization_gap(self.spec.metric)
        trial.set_user_attr("epochs_run", result.epochs_run)
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("train_seconds", round(result.train_seconds, 3))
        trial.set_user_attr("seconds_per_epoch", round(result.seconds_per_epoch, 3))
        trial.set_user_attr("train_val_gap", None if gap is None else round(gap, 6))
        trial.set_user_attr("history", result.history)


@dataclass(frozen=True)
class TrainingRun:
    """One model trained within a trial: its name, seed, and the data it trains and validates on."""

    name: str
    seed: int
    data: VectorizedSplits


def _reason(error: Exception) -> str:
    """A one-line reason for a failed trial, naming out-of-memory plainly whatever the backend calls it."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    names = type(error).__name__ + " " + text[:300]
    if isinstance(error, MemoryError) or any(
        s in names for s in ("ResourceExhausted", "OutOfMemory", "out of memory", "OOM ")
    ):
        return f"out of memory: {text}"
    return text


def _free_memory() -> None:
    import keras

    keras.backend.clear_session()
    gc.collect()
