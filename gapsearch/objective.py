"""The trial objective: sample, build, train, record; and the one place that decides a trial's fate.

Pruned (the pruner stopped it), failed (this trial alone went wrong: NaN loss, out of
memory, a bad batch; the study goes on) and fatal (a mistake the user must fix: the
study stops) are decided here, and the reason is recorded on the trial.
"""

from __future__ import annotations

import gc
import statistics
import time
import traceback
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import optuna

from gapsearch.errors import TrialFailed, UserError
from gapsearch.optuna_compat import set_trial_constraints
from gapsearch.resume import TrialResume, first_attempt_number
from gapsearch.space import hyperparameters, sample
from gapsearch.spec.metrics import COSTS, SINGLE_LABEL_TASKS
from gapsearch.spec.objectives import ObjectiveSpec
from gapsearch.spec.study import StudySpec
from gapsearch.stats import summarize
from gapsearch.storage_retry import DatabaseLost
from gapsearch.trial_attrs import FAIL_REASON

if TYPE_CHECKING:
    import keras

    from gapsearch.checkpoints import SavedTraining, TrialCheckpoint
    from gapsearch.costs import ModelCosts
    from gapsearch.data.cache import StudyData
    from gapsearch.data.dataset import VectorizedSplits
    from gapsearch.data.vectors import LookedUpVectors
    from gapsearch.models.metrics import ConfusionCounts
    from gapsearch.spec.hyperparameters import Hyperparameters
    from gapsearch.training import TrainingResult

_SEED_STRIDE = 100_003
_REPEAT_STRIDE = 1_000_003


def trial_seed(study_seed: int, trial_number: int) -> int:
    """The training seed of a trial: fixed by the study seed and the trial number."""
    return (study_seed * _SEED_STRIDE + trial_number) % (2**31 - 1)


class Objective:
    """Callable for ``study.optimize``: one trial from sampled parameters to recorded result."""

    def __init__(self, spec: StudySpec, data: StudyData) -> None:
        from gapsearch.optimization import make_multi_objective_pruner

        self.spec = spec
        self.data = data  # train and validation only: the test split never reaches a trial
        self.pruner = make_multi_objective_pruner(spec)  # None unless several objectives and cost_aware
        self._steps = 0  # the running trial's steps when it trains to the end (runs x epochs)
        # What lives as long as the study (imported libraries, the data) moves out of the collector's
        # sight, so that the one full collection at the end of each trial only walks the trial's own
        # objects, not everything TensorFlow and Keras keep alive.
        gc.freeze()

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        sampled = sample(trial, self.spec.search_space, self.spec.fixed)
        hp = hyperparameters(self.spec.fixed, sampled)
        resume = TrialResume.of(trial, self.spec)
        try:
            value = self._train(trial, hp, resume)
        except DatabaseLost:
            raise  # the worker stops; the trial's retry resumes from its checkpoint
        except (optuna.TrialPruned, UserError):
            resume.remove()
            raise
        except TrialFailed as failure:
            resume.remove()
            trial.set_user_attr(FAIL_REASON, failure.message)
            raise
        except Exception as error:  # noqa: BLE001 - any other error fails this trial alone
            resume.remove()
            reason = _reason(error)
            trial.set_user_attr(FAIL_REASON, reason[:2000])
            trial.set_user_attr("fail_traceback", traceback.format_exc()[-4000:])
            raise TrialFailed(reason) from error
        finally:
            resume.results = []  # let the models go
            _free_memory()
        resume.remove()  # a stop signal (WorkerInterrupted) skips this: the retry resumes
        return value

    def plan_runs(self, trial: optuna.Trial, hp: Hyperparameters) -> list[TrainingRun]:
        """The training runs of one trial; its value is the mean of their best values.

        ``repeats`` runs on the validation split, or on each cross-validation fold (each fold with a
        vocabulary from its own training rows): folds x repeats runs, each with its own seed. Each is
        trained in turn, and its epochs are reported to the pruner as steps ``index * epochs + epoch``,
        so that a pruner compares fold 2's epoch 3 with other trials' fold 2's epoch 3: like with like.
        """
        seed = trial_seed(self.spec.seed, first_attempt_number(trial))  # a retry trains as its first attempt did
        return [
            run
            for index, (name, data) in enumerate(self.data.runs(hp.max_tokens, int(hp.sequence_length)))
            for run in repeated(name, data, seed + index, self.spec.repeats)
        ]

    def vectors(self, hp: Hyperparameters, run: TrainingRun) -> LookedUpVectors | None:
        """The pre-trained vectors of ``run``'s vocabulary with ``hp.embedding`` (from the cache), else None."""
        if hp.embedding is None:
            return None
        return self.data.vectors(run.data.vocabulary, self.spec.base_dir / hp.embedding.vectors)

    def resolve(self, hp: Hyperparameters) -> Hyperparameters:
        """``sequence_length: auto`` becomes the percentile of the training lengths the data section names."""
        if hp.sequence_length != "auto":
            return hp
        length = self.data.info.sequence_length(self.spec.data.sequence_length_percentile)
        return hp.model_copy(update={"sequence_length": length})

    def _train(self, trial: optuna.Trial, hp: Hyperparameters, resume: TrialResume) -> float | tuple[float, ...]:
        from gapsearch.runtime import run_attributes

        for key, value in run_attributes().items():
            trial.set_user_attr(key, value)
        if hp.sequence_length == "auto":
            hp = self.resolve(hp)
            trial.set_user_attr("sequence_length", hp.sequence_length)
        runs = self.plan_runs(trial, hp)
        trial.set_user_attr("seed", runs[0].seed)
        measured: dict[str, float] = {}
        resume.restore(trial, measured, [run.name for run in runs])
        results: list[TrainingResult] = resume.finished_results()
        resume.results = results
        # The monitored metric per step, for a multi-objective pruner. A resumed trial's curve starts
        # at its resumed step: the pruner judges it from there on.
        curve: dict[int, float] = {}
        self._steps = len(runs) * hp.epochs
        started = time.perf_counter()
        try:
            for index in range(len(results), len(runs)):
                results.append(
                    self._fit(trial, hp, runs[index], index, measured=measured, resume=resume, curve=curve)
                )
                if index == 0 and len(runs) > 1:
                    resume.keep_first_model(results[0].model)
        except optuna.TrialPruned:
            # Costs are known and bounds apply to pruned trials too; the metric is its best value so far.
            measured["train_seconds"] = (time.perf_counter() - started) / len(runs)
            self._constrain(trial, measured)
            raise
        self._record(trial, runs, results)
        measured.update(self._metric_values(results))
        measured["train_seconds"] = statistics.fmean(result.train_seconds for result in results)
        self._constrain(trial, measured)
        from gapsearch.artifacts import save_trial_artifacts

        monitored = statistics.fmean(result.best_value for result in results)
        if results[0].model is None:  # resumed after the first run: its model was kept in the checkpoint
            results[0] = self._first_model(hp, runs[0], results[0], resume)
        save_trial_artifacts(trial, self.spec, self.data, hp, runs[0].data, results[0], monitored)
        values = tuple(float(measured[name]) for name in self.spec.objective_names)
        return values if self.spec.is_multi_objective else values[0]

    def _fit(
        self,
        trial: optuna.Trial,
        hp: Hyperparameters,
        run: TrainingRun,
        index: int,
        *,
        measured: dict[str, float],
        resume: TrialResume,
        curve: dict[int, float],
    ) -> TrainingResult:
        """Train run ``index``; the first also measures the model's costs (``measured`` holds them then).

        ``curve`` collects the trial's per-step values for a multi-objective pruner, across its runs.
        """
        monitored = self.spec.monitored.metric
        multi = self.spec.is_multi_objective
        step_offset = index * hp.epochs

        def report(epoch: int, value: float) -> None:
            best = measured.get(monitored)
            better = best is None or (value > best if self.spec.monitored.direction == "maximize" else value < best)
            if better:
                measured[monitored] = value
            step = step_offset + epoch
            if multi:  # Optuna takes no intermediate values from a multi-objective trial: gapsearch.pruning does
                self._prune_several_objectives(trial, curve, step, epoch, value, measured)
                return
            trial.report(value, step)
            resume.reported.append([step, value])
            if trial.should_prune():
                trial.set_user_attr("epochs_run", epoch)
                raise optuna.TrialPruned(f"pruned at epoch {epoch} of {run.name} with {monitored}={value:.4f}")

        def record_costs(costs: ModelCosts) -> None:
            resume.attrs.update(costs.as_attrs(), params_total=costs.params, params_embedding=costs.embedding_params)
            for key, value in resume.attrs.items():
                trial.set_user_attr(key, value)
            measured.update({key: float(value) for key, value in costs.as_attrs().items() if key in COSTS})

        vectors = self.vectors(hp, run)
        if vectors is not None and step_offset == 0:
            trial.set_user_attr("vectors_coverage", round(vectors.coverage, 4))
        return fit_run(
            hp,
            run,
            vectors=vectors,
            n_classes=len(self.data.info.class_names),
            task=self.data.info.task,
            monitor=self.spec.monitored,
            metrics=self.spec.compiled_metrics,
            latency="latency_ms" in self.spec.named_costs,
            report=report,
            on_costs=record_costs if step_offset == 0 else None,
            confusion=step_offset == 0,  # the first run's model is the trial's artifacts
            checkpoint=resume.checkpoint,
            resumed=resume.resumed_for(index),
            checkpoint_extra=lambda: resume.extra(index, measured),
        )

    def _first_model(
        self, hp: Hyperparameters, run: TrainingRun, result: TrainingResult, resume: TrialResume
    ) -> TrainingResult:
        """The first run's result with its trained model, rebuilt from the weights its checkpoint kept."""
        import dataclasses

        model = build_run_model(
            hp,
            run,
            n_classes=len(self.data.info.class_names),
            task=self.data.info.task,
            monitor=self.spec.monitored,
            metrics=self.spec.compiled_metrics,
            confusion=True,
        )
        model.load_weights(resume.first_model_weights())
        return dataclasses.replace(result, model=model)

    def _prune_several_objectives(
        self,
        trial: optuna.Trial,
        curve: dict[int, float],
        step: int,
        epoch: int,
        value: float,
        measured: dict[str, float],
    ) -> None:
        """Record the epoch's value where the pruner reads it, and stop the trial when the pruner says so."""
        if self.pruner is None:
            return
        from gapsearch.pruning import TrialStanding, record_value

        record_value(trial, curve, step, value)
        costs = {name: measured[name] for name in self.pruner.costs}
        standing = TrialStanding(trial.number, costs, curve, last_step=self._steps)
        reason = self.pruner.prune(trial.study, standing, step)
        if reason is not None:
            trial.set_user_attr("epochs_run", epoch)
            trial.set_user_attr("prune_reason", reason)
            raise optuna.TrialPruned(reason)

    def _metric_values(self, results: list[TrainingResult]) -> dict[str, float]:
        """Each training metric the study names, at each run's best epoch, averaged over the runs."""
        return {
            metric: statistics.fmean(result.value_at_best(metric) for result in results)
            for metric in self.spec.measured_metrics
        }

    def _constrain(self, trial: optuna.Trial, measured: dict[str, float]) -> None:
        """Store the constraint values in the trial's system attribute ``constraints``, one per bound, <= 0 if kept.

        This is the format Optuna's samplers read (``FrozenTrial.constraints``) and optuna-dashboard
        shows as feasibility; every sampler gets them, not only those that take a ``constraints_func``.
        """
        if not self.spec.constraints:
            return
        values = []
        for name, bound in self.spec.constraints.items():
            if name in measured:
                values += bound.violations(float(measured[name]))
            else:  # a pruned trial never measured this metric: the bound counts as kept (samplers need a value)
                values += [0.0] * len(bound.violations(0.0))
        # Trial.set_constraint (Optuna 5) writes one key per name, which optuna-dashboard 0.21 does not read.
        set_trial_constraints(trial, values)

    def _record(self, trial: optuna.Trial, runs: list[TrainingRun], results: list[TrainingResult]) -> None:
        first = results[0]
        gap = first.generalization_gap(self.spec.monitored.metric)
        trial.set_user_attr("epochs_run", first.epochs_run)
        trial.set_user_attr("best_epoch", first.best_epoch)
        trial.set_user_attr("train_seconds", round(statistics.fmean(r.train_seconds for r in results), 3))
        trial.set_user_attr("seconds_per_epoch", round(statistics.fmean(r.seconds_per_epoch for r in results), 3))
        trial.set_user_attr("train_val_gap", None if gap is None else round(gap, 6))
        trial.set_user_attr("history", first.history)
        if len(runs) < 2:
            return
        values = [result.best_value for result in results]
        spread = summarize(values)
        trial.set_user_attr("run_values", {run.name: value for run, value in zip(runs, values, strict=True)})
        trial.set_user_attr("run_best_epochs", [result.best_epoch for result in results])
        trial.set_user_attr("value_std", spread.std)
        trial.set_user_attr("value_ci95", [spread.low, spread.high])
        trial.set_user_attr(
            "runs",
            [
                {
                    "name": run.name,
                    "seed": run.seed,
                    "values": {m: result.value_at_best(m) for m in sorted(self.spec.measured_metrics)},
                    "best_epoch": result.best_epoch,
                    "epochs_run": result.epochs_run,
                    "train_seconds": round(result.train_seconds, 3),
                }
                for run, result in zip(runs, results, strict=True)
            ],
        )


def fit_run(
    hp: Hyperparameters,
    run: TrainingRun,
    *,
    n_classes: int,
    task: str,
    monitor: ObjectiveSpec,
    report: Callable[[int, float], None] = lambda epoch, value: None,
    on_costs: Callable[[ModelCosts], None] | None = None,
    metrics: Collection[str] | None = None,
    latency: bool = True,
    confusion: bool = False,
    checkpoint: TrialCheckpoint | None = None,
    resumed: SavedTraining | None = None,
    checkpoint_extra: Callable[[], dict] = dict,
    vectors: LookedUpVectors | None = None,
) -> TrainingResult:
    """Build ``hp``'s model with ``run``'s seed and train it on ``run``'s data.

    ``monitor`` is the validation metric that early stopping follows and ``report`` receives each
    epoch; ``on_costs``, when given, receives the model's costs, measured before training.
    ``metrics`` are the Keras metrics to compile besides the monitored one (default: all of the task's);
    ``latency`` says whether the costs include the timed ``latency_ms``; with ``confusion`` a
    classifier's result holds its validation confusion counts; ``vectors`` start the embedding
    (``hp.embedding``), looked up for ``run``'s vocabulary. With ``checkpoint`` each epoch's state
    is saved there, and with ``resumed`` training goes on from a saved state (see :func:`train`).
    """
    from gapsearch.costs import measure_costs
    from gapsearch.training import train

    model, counts = _build(
        hp, run, n_classes=n_classes, task=task, monitor=monitor, metrics=metrics, confusion=confusion,
        vectors=vectors,
    )
    if on_costs is not None:
        on_costs(measure_costs(model, run.data.x_validation[: hp.batch_size], latency=latency))
    return train(
        model,
        run.data.x_train,
        run.data.y_train,
        run.data.x_validation,
        run.data.y_validation,
        metric=monitor.metric,
        direction=monitor.direction,
        epochs=hp.epochs,
        batch_size=hp.batch_size,
        patience=hp.patience,
        report=report,
        length_buckets=hp.length_buckets,
        seed=run.seed,
        confusion=counts,
        checkpoint=checkpoint,
        resumed=resumed,
        checkpoint_extra=checkpoint_extra,
    )


def build_run_model(hp: Hyperparameters, run: TrainingRun, **settings) -> keras.Model:
    """The untrained model of ``run``, built and compiled as :func:`fit_run` builds it (``settings``: its own)."""
    return _build(hp, run, **settings)[0]


def _build(
    hp: Hyperparameters,
    run: TrainingRun,
    *,
    n_classes: int,
    task: str,
    monitor: ObjectiveSpec,
    metrics: Collection[str] | None,
    confusion: bool,
    vectors: LookedUpVectors | None = None,
) -> tuple[keras.Model, ConfusionCounts | None]:
    import keras

    from gapsearch.models.builder import build_model
    from gapsearch.models.metrics import ConfusionCounts
    from gapsearch.runtime import set_random_seed

    # The previous run's graph; garbage is collected once per trial, when it ends (_free_memory).
    keras.backend.clear_session(free_memory=False)
    set_random_seed(run.seed)
    if metrics is not None:
        metrics = {*metrics, monitor.metric.removeprefix("val_")} - {"loss"}
    counts = ConfusionCounts(n_classes) if confusion and task in SINGLE_LABEL_TASKS else None
    model = build_model(
        hp,
        vocabulary_size=run.data.vocabulary_size,
        n_classes=n_classes,
        task=task,
        metrics=metrics,
        extra_metrics=() if counts is None else (counts,),
        vectors=vectors,
    )
    return model, counts


def repeated(name: str, data: VectorizedSplits, seed: int, repeats: int) -> list[TrainingRun]:
    """``repeats`` runs on the same data, the first with ``seed``; names get ``/repeatN`` when there are several."""
    if repeats == 1:
        return [TrainingRun(name=name, seed=seed, data=data)]
    return [
        TrainingRun(name=f"{name}/repeat{index + 1}", seed=(seed + index * _REPEAT_STRIDE) % (2**31 - 1), data=data)
        for index in range(repeats)
    ]


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
    """Release the trial's models: Keras' global state, then one full garbage collection."""
    import keras

    keras.backend.clear_session(free_memory=False)
    gc.collect()
