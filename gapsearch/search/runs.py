"""A trial's training runs: the folds x repeats it trains, and building and training one of them.

Shared by the objective, ``gapsearch compare`` and the benchmarks, so that a run trains the same
way wherever it is trained.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gapsearch.spec.metrics import SINGLE_LABEL_TASKS

if TYPE_CHECKING:
    from pathlib import Path

    import keras
    import numpy as np

    from gapsearch.data.cache import StudyData
    from gapsearch.data.dataset import VectorizedSplits
    from gapsearch.data.vectors import LookedUpVectors
    from gapsearch.models.costs import ModelCosts
    from gapsearch.models.metrics import ConfusionCounts
    from gapsearch.spec.hyperparameters import Hyperparameters
    from gapsearch.spec.objectives import ObjectiveSpec
    from gapsearch.spec.study import StudySpec
    from gapsearch.training.checkpoints import SavedTraining, TrialCheckpoint
    from gapsearch.training.fit import TrainingResult

_REPEAT_STRIDE = 1_000_003


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
    from gapsearch.models.costs import measure_costs
    from gapsearch.spec.hyperparameters import length_buckets
    from gapsearch.training.fit import train

    model, counts = _build(
        hp,
        run,
        n_classes=n_classes,
        task=task,
        monitor=monitor,
        metrics=metrics,
        confusion=confusion,
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
        length_buckets=length_buckets(hp),
        seed=run.seed,
        confusion=counts,
        checkpoint=checkpoint,
        resumed=resumed,
        checkpoint_extra=checkpoint_extra,
        held_out=_held_out(run.data),
    )


def _held_out(data: VectorizedSplits) -> tuple[np.ndarray, np.ndarray] | None:
    """The fold a run reports when an inner split of its training rows chooses its epochs, else None."""
    if data.x_held_out is None or data.y_held_out is None:
        return None
    return data.x_held_out, data.y_held_out


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


def vectors_file(spec: StudySpec, hp: Hyperparameters) -> Path | None:
    """The pre-trained vectors file ``hp`` starts its embedding from, or None."""
    return None if hp.embedding is None else spec.base_dir / hp.embedding.vectors


def run_vectors(spec: StudySpec, data: StudyData, hp: Hyperparameters, run: TrainingRun) -> LookedUpVectors | None:
    """The pre-trained vectors of ``run``'s vocabulary with ``hp.embedding`` (from the cache), else None."""
    path = vectors_file(spec, hp)
    return None if path is None else data.vectors(run.data.vocabulary, path)


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
