"""The trial objective: sample, build, train, record; and the one place that decides a trial's fate.

Pruned (the pruner stopped it), failed (this trial alone went wrong: NaN loss, out of
memory, a bad batch; the study goes on) and fatal (a mistake the user must fix: the
study stops) are decided here, and the reason is recorded on the trial.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import optuna

from gapsearch.errors import TrialFailed, UserError
from gapsearch.optuna_compat import set_trial_constraints
from gapsearch.search.resume import TrialResume
from gapsearch.search.runs import TrainingRun, build_run_model, fit_run, repeated, run_vectors, vectors_file
from gapsearch.search.selection import first_attempt_seed, resolve_auto
from gapsearch.search.space import hyperparameters, sample
from gapsearch.spec.objectives import ObjectiveSpec
from gapsearch.spec.study import StudySpec
from gapsearch.stats import summarize
from gapsearch.storage.retry import DatabaseLost
from gapsearch.trial_attrs import Failure, Platform, Pruned, RunResult, TrainingOutcome, TrialSetup

if TYPE_CHECKING:
    from gapsearch.data.cache import StudyData
    from gapsearch.data.vectors import LookedUpVectors
    from gapsearch.models.costs import ModelCosts
    from gapsearch.spec.hyperparameters import Hyperparameters
    from gapsearch.training.fit import TrainingResult


class Objective:
    """Callable for ``study.optimize``: one trial from sampled parameters to recorded result."""

    def __init__(self, spec: StudySpec, data: StudyData, *, stopping: Callable[[], bool] = lambda: False) -> None:
        """``stopping()`` says whether the worker was told to stop (then an error is the stop's, not the trial's)."""
        from gapsearch.search.algorithms import make_multi_objective_pruner

        self.spec = spec
        self.data = data  # train and validation only: the test split never reaches a trial
        self.stopping = stopping
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
            # The outcome is not kept: its models go when it is stored.
            values = self._record(trial, self._train(trial, hp, resume))
        except DatabaseLost:
            raise  # the worker stops; the trial's retry resumes from its checkpoint
        except (optuna.TrialPruned, UserError):
            resume.remove()
            raise
        except Exception as error:  # noqa: BLE001 - any other error fails this trial alone, unless it is a stop
            if self.stopping():
                # A stop that the framework turned into another error on its way out: the worker loop records
                # it as the stop, and the retry resumes from the checkpoint, kept as a WorkerInterrupted keeps it.
                raise
            resume.remove()
            if isinstance(error, TrialFailed):
                Failure(error.message).write(trial)
                raise
            reason = _reason(error)
            Failure(reason[:2000], traceback.format_exc()[-4000:]).write(trial)
            raise TrialFailed(reason) from error
        finally:
            resume.results = []  # let the models go
            _free_memory()
        resume.remove()  # a stop signal (WorkerInterrupted) skips this: the retry resumes
        return values if self.spec.is_multi_objective else values[0]

    def plan_runs(self, trial: optuna.Trial, hp: Hyperparameters) -> list[TrainingRun]:
        """The training runs of one trial; its value is the mean of their best values.

        ``repeats`` runs on the validation split, or on each cross-validation fold (each fold with a
        vocabulary from its own training rows): folds x repeats runs, each with its own seed. Each is
        trained in turn, and its epochs are reported to the pruner as steps ``index * epochs + epoch``,
        so that a pruner compares fold 2's epoch 3 with other trials' fold 2's epoch 3: like with like.
        """
        seed = first_attempt_seed(self.spec, trial)  # a retry trains as its first attempt did
        return [
            run
            for index, (name, data) in enumerate(
                self.data.runs(hp.max_tokens, int(hp.sequence_length), vectors_file(self.spec, hp))
            )
            for run in repeated(name, data, seed + index, self.spec.repeats)
        ]

    def _train(self, trial: optuna.Trial, hp: Hyperparameters, resume: TrialResume) -> _TrialOutcome:
        """Train the trial's runs (the runs a retry's checkpoint holds are not trained again)."""
        from gapsearch.runtime import run_attributes

        Platform.of(run_attributes()).write(trial)
        auto = hp.sequence_length == "auto"
        hp = resolve_auto(self.spec, hp, self.data.info)
        runs = self.plan_runs(trial, hp)
        before = resume.restore(trial, [run.name for run in runs])
        measured = _Measured(self.spec.monitored, costs=resume.costs, best=before.get(self.spec.monitored.metric))
        results: list[TrainingResult] = resume.finished_results()
        resume.results = results
        first_vectors = run_vectors(self.spec, self.data, hp, runs[0]) if not results else None
        coverage = None if first_vectors is None else round(first_vectors.coverage, 4)
        TrialSetup(runs[0].seed, int(hp.sequence_length) if auto else None, coverage).write(trial)
        self._steps = len(runs) * hp.epochs
        started = time.perf_counter()
        try:
            for index in range(len(results), len(runs)):
                vectors = first_vectors if index == 0 else run_vectors(self.spec, self.data, hp, runs[index])
                results.append(self._fit(trial, hp, runs[index], index, measured, resume, vectors))
                if index == 0 and len(runs) > 1:
                    resume.keep_first_model(results[0].model)
        except optuna.TrialPruned as pruned:
            if isinstance(pruned, _PrunedAt):
                Pruned(pruned.epoch, pruned.stored_reason).write(trial)
            # Costs are known and bounds apply to pruned trials too; the metric is its best value so far.
            self._constrain(trial, {**measured.values(), "train_seconds": (time.perf_counter() - started) / len(runs)})
            raise
        values = {
            **measured.values(),
            **self._metric_values(results),
            "train_seconds": statistics.fmean(result.train_seconds for result in results),
        }
        if results[0].model is None:  # resumed after the first run: its model was kept in the checkpoint
            results[0] = self._first_model(hp, runs[0], results[0], resume)
        return _TrialOutcome(
            hp=hp,
            training=self._outcome(runs, results),
            measured=values,
            first_run=runs[0],
            first_result=results[0],
            monitored=statistics.fmean(result.best_value for result in results),
        )

    def _record(self, trial: optuna.Trial, outcome: _TrialOutcome) -> tuple[float, ...]:
        """Store a completed trial's outcome (its training record, constraint values and artifacts); its values."""
        from gapsearch.search.artifacts import save_trial_artifacts

        outcome.training.write(trial)
        self._constrain(trial, outcome.measured)
        first_data = outcome.first_run.data
        save_trial_artifacts(
            trial, self.spec, self.data, outcome.hp, first_data, outcome.first_result, outcome.monitored
        )
        return tuple(float(outcome.measured[name]) for name in self.spec.objective_names)

    def _fit(
        self,
        trial: optuna.Trial,
        hp: Hyperparameters,
        run: TrainingRun,
        index: int,
        measured: _Measured,
        resume: TrialResume,
        vectors: LookedUpVectors | None,
    ) -> TrainingResult:
        """Train run ``index``; the first also measures the model's costs, and stores them at once."""
        monitored = self.spec.monitored.metric
        step_offset = index * hp.epochs
        # ``compare: best_so_far``: the run's best so far (a resumed run's is the last value it reported).
        best_so_far = getattr(self.spec.pruner, "compare", "epoch") == "best_so_far"
        maximize = self.spec.monitored.direction == "maximize"
        earlier = [value for step, value in resume.reported if step_offset < step <= step_offset + hp.epochs]
        run_best = [earlier[-1] if earlier else None]  # a NaN epoch changes nothing

        def report(epoch: int, value: float) -> None:
            measured.observe(value)
            step = step_offset + epoch
            # Optuna takes no intermediate values from a study of several objectives: gapsearch.search.pruning does.
            if self.spec.is_multi_objective:
                self._prune_several_objectives(trial, measured, step, epoch, value)
                return
            if best_so_far and not math.isnan(value) and _improves(value, run_best[0], maximize):
                run_best[0] = value
            reported = run_best[0] if best_so_far and run_best[0] is not None else value
            trial.report(reported, step)
            resume.reported.append([step, reported])
            if trial.should_prune():
                judged = f" (best so far {reported:.4f})" if best_so_far and reported != value else ""
                raise _PrunedAt(f"pruned at epoch {epoch} of {run.name} with {monitored}={value:.4f}{judged}", epoch)

        def record_costs(costs: ModelCosts) -> None:
            measured.costs = resume.costs = costs
            costs.write(trial)  # at once: a running (or stopped) trial shows what its model costs

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
            checkpoint_extra=lambda: resume.extra(index, measured.values()),
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
        self, trial: optuna.Trial, measured: _Measured, step: int, epoch: int, value: float
    ) -> None:
        """Record the epoch's value where the pruner reads it, and stop the trial when the pruner says so."""
        if self.pruner is None:
            return
        from gapsearch.search.pruning import TrialStanding, record_value

        record_value(trial, measured.curve, step, value)
        known = measured.values()
        costs = {name: known[name] for name in self.pruner.costs}
        standing = TrialStanding(trial.number, costs, measured.curve, last_step=self._steps)
        reason = self.pruner.prune(trial.study, standing, step)
        if reason is not None:
            raise _PrunedAt(reason, epoch, stored_reason=reason)

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

    def _outcome(self, runs: list[TrainingRun], results: list[TrainingResult]) -> TrainingOutcome:
        """The training record of a completed trial: its first run's epochs and history, the mean times,
        and with several runs each run's result and the spread of their values."""
        first = results[0]
        gap = first.generalization_gap(self.spec.monitored.metric)
        several = len(runs) > 1
        spread = summarize([result.best_value for result in results]) if several else None
        metrics = sorted(self.spec.measured_metrics)
        return TrainingOutcome(
            epochs_run=first.epochs_run,
            best_epoch=first.best_epoch,
            train_seconds=round(statistics.fmean(r.train_seconds for r in results), 3),
            seconds_per_epoch=round(statistics.fmean(r.seconds_per_epoch for r in results), 3),
            train_val_gap=None if gap is None else round(gap, 6),
            history=first.history,
            runs=tuple(
                RunResult(
                    name=run.name,
                    seed=run.seed,
                    value=result.best_value,
                    values={metric: result.value_at_best(metric) for metric in metrics},
                    best_epoch=result.best_epoch,
                    epochs_run=result.epochs_run,
                    train_seconds=round(result.train_seconds, 3),
                )
                for run, result in zip(runs, results, strict=True)
            )
            if several
            else (),
            value_std=None if spread is None else spread.std,
            value_ci95=None if spread is None else (spread.low, spread.high),
        )


@dataclass
class _Measured:
    """What the trial in progress has measured: its model's costs, the monitored metric's best value so
    far, and (for a multi-objective pruner) the monitored metric per step. A resumed trial's curve starts
    at its resumed step: the pruner judges it from there on."""

    monitor: ObjectiveSpec
    costs: ModelCosts | None = None
    best: float | None = None
    curve: dict[int, float] = field(default_factory=dict)

    def observe(self, value: float) -> None:
        if _improves(value, self.best, self.monitor.direction == "maximize"):
            self.best = value

    def values(self) -> dict[str, float]:
        """The costs and the monitored metric's best value, by the names a study gives them."""
        best = {} if self.best is None else {self.monitor.metric: self.best}
        return {**({} if self.costs is None else self.costs.values()), **best}


def _improves(value: float, best: float | None, maximize: bool) -> bool:
    return best is None or (value > best if maximize else value < best)


@dataclass(frozen=True)
class _TrialOutcome:
    """What a completed trial's training produced, before it is stored."""

    hp: Hyperparameters  # with ``sequence_length: auto`` resolved
    training: TrainingOutcome
    measured: dict[str, float]  # every objective and bound by name: costs, metrics, train_seconds
    first_run: TrainingRun
    first_result: TrainingResult  # with its model: the trial's artifacts
    monitored: float  # the monitored metric's best value, averaged over the runs


class _PrunedAt(optuna.TrialPruned):
    """The pruner stopped the trial after ``epoch``; ``stored_reason`` (the multi-objective pruner's) is recorded."""

    def __init__(self, message: str, epoch: int, stored_reason: str | None = None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.stored_reason = stored_reason

    def __reduce__(self) -> tuple:
        return type(self), (str(self), self.epoch, self.stored_reason)


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
