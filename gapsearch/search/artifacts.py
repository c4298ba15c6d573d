"""Trial artifacts and the study note, through Optuna's artifact API, for the dashboard and for export.

Each completed trial uploads its learning curves (PNG), its per-epoch history (CSV), its model summary
(text), the confusion matrix on the validation split (PNG; counted during training's own validation
pass, at the epoch whose weights the model keeps) and, as ``save_models`` asks, the trained
model as a :class:`~gapsearch.models.text_classifier.TextClassifier` (``model.keras``) that takes raw
strings, with what it looks at (``explanation.json``: channels, top n-grams and explained validation
texts; classifiers only). With ``save_models: best`` a trial's model is kept only while no completed feasible
trial beats it, and a trial that breaks a bound of ``constraints:`` keeps none (it cannot be the best).
The study gets a Markdown note with the study file and the data statistics.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gapsearch.errors import StorageError, UserError
from gapsearch.optuna_compat import replace_dashboard_note, storage_of
from gapsearch.spec.artifacts import ArtifactsSpec
from gapsearch.spec.metrics import SINGLE_LABEL_TASKS

if TYPE_CHECKING:
    import keras
    import optuna

    from gapsearch.data.cache import StudyData
    from gapsearch.data.dataset import VectorizedSplits
    from gapsearch.optuna_compat import ArtifactStore
    from gapsearch.spec.hyperparameters import Hyperparameters
    from gapsearch.spec.study import StudySpec
    from gapsearch.training.fit import TrainingResult

MODEL_FILENAME = "model.keras"
CURVES_FILENAME = "learning_curves.png"
HISTORY_FILENAME = "history.csv"
SUMMARY_FILENAME = "model_summary.txt"
CONFUSION_FILENAME = "confusion_matrix.png"
EXPLANATION_FILENAME = "explanation.json"


def open_artifact_store(spec: ArtifactsSpec, *, create: bool = True) -> ArtifactStore:
    """The artifact store ``spec`` names: a folder (created with ``create``) or an S3 bucket.

    Raises:
        UserError: the folder does not exist (``create=False``) or cannot be created, or boto3 is
            missing for an S3 store.
    """
    if spec.store.startswith("s3://"):
        try:
            import boto3
        except ImportError:
            raise UserError(
                f"artifacts.store: {spec.store!r} needs boto3; pip install boto3 (or use a folder)"
            ) from None
        from optuna.artifacts import Boto3ArtifactStore

        client = boto3.client("s3", endpoint_url=spec.endpoint_url)
        return Boto3ArtifactStore(spec.store.removeprefix("s3://").rstrip("/"), client=client)
    from optuna.artifacts import FileSystemArtifactStore

    folder = Path(spec.store)
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"artifacts.store: cannot create the folder {folder}: {error.strerror}") from None
    elif not folder.is_dir():
        raise StorageError(
            f"no artifact store at {folder.resolve()}; run the study from this folder or set artifacts.store"
        )
    return FileSystemArtifactStore(folder)


def save_trial_artifacts(
    trial: optuna.Trial,
    spec: StudySpec,
    study_data: StudyData,
    hp: Hyperparameters,
    data: VectorizedSplits,
    result: TrainingResult,
    value: float,
) -> None:
    """Upload the artifacts of a trial just trained to ``value`` of the monitored metric (before it completes)."""
    from optuna.artifacts import upload_artifact

    from gapsearch import plots

    assert result.model is not None, "train() returns the trained model"
    store = open_artifact_store(spec.artifacts)
    model = result.model
    title = f"trial {trial.number}: {spec.monitored.metric}={value:.4f}"
    class_names = study_data.info.class_names
    classifies = study_data.info.task in SINGLE_LABEL_TASKS
    with tempfile.TemporaryDirectory(prefix="gapsearch-artifacts-") as folder:
        files = {
            CURVES_FILENAME: plots.learning_curves(result.history, best_epoch=result.best_epoch, title=title),
            HISTORY_FILENAME: history_csv(result.history).encode(),
            SUMMARY_FILENAME: model_summary(model, hp).encode(),
        }
        if classifies:
            assert result.confusion is not None, "a classifier's first run counts its validation predictions"
            files[CONFUSION_FILENAME] = plots.confusion_matrix(
                result.confusion, class_names, title=f"trial {trial.number}: validation, epoch {result.confusion_epoch}"
            )
        for name, content in files.items():
            path = Path(folder, name)
            path.write_bytes(content)
            upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=trial)
        if keeps_model(trial, spec, value):
            from gapsearch.data.dataset import text_settings
            from gapsearch.models.text_classifier import TextClassifier

            path = Path(folder, MODEL_FILENAME)
            TextClassifier.from_trained(
                model, data.vocabulary, text_settings(spec.data), int(hp.sequence_length), class_names
            ).save(path)
            upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=trial)
            if classifies:
                path = Path(folder, EXPLANATION_FILENAME)
                path.write_text(explanation_json(model, data, class_names), encoding="utf-8")
                upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=trial)
            if spec.artifacts.save_models == "best" and not spec.is_multi_objective:
                remove_beaten_models(trial.study, store, value, by_trial=trial.number)


def explanation_json(model: keras.Model, data: VectorizedSplits, class_names: Sequence[str]) -> str:
    """What the kept model looks at over the validation split (:mod:`gapsearch.explain.summary`), as JSON."""
    import json

    from gapsearch.explain.summary import model_explanation

    document = model_explanation(model, data.vocabulary.tokens, class_names, data.x_validation, data.y_validation)
    return json.dumps(document, ensure_ascii=False)


def history_csv(history: dict[str, list[float]]) -> str:
    """The per-epoch history: one row per epoch (1-based), one column per Keras metric."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    keys = list(history)
    writer.writerow(["epoch", *keys])
    for epoch in range(len(next(iter(history.values()), []))):
        writer.writerow([epoch + 1, *(repr(history[key][epoch]) for key in keys)])
    return buffer.getvalue()


def model_summary(model: keras.Model, hp: Hyperparameters) -> str:
    """Keras' layer table of the model, after the hyperparameters that built it."""
    lines: list[str] = []
    model.summary(print_fn=lambda text, line_break=True: lines.append(text), line_length=140)
    settings = "\n".join(f"{name} = {value}" for name, value in hp.model_dump().items())
    return f"hyperparameters\n{settings}\n\n" + "\n".join(lines) + "\n"


def keeps_model(trial: optuna.Trial, spec: StudySpec, value: float) -> bool:
    """Whether this trial's model is saved: always with 'all', never with 'none', and with 'best' if it leads
    (:func:`gapsearch.search.selection.leads`: it keeps its bounds and beats every completed feasible trial)."""
    from gapsearch.search.selection import leads

    if spec.artifacts.save_models != "best":
        return spec.artifacts.save_models == "all"
    if spec.is_multi_objective:  # no single best: every trial may end up on the Pareto front
        return True
    return leads(trial, value)


def model_artifacts(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> list[Any]:
    """The model artifacts (Optuna ``ArtifactMeta``) recorded on ``trial``."""
    from optuna.artifacts import get_all_artifact_meta

    return [m for m in get_all_artifact_meta(trial, storage=storage_of(study)) if m.filename == MODEL_FILENAME]


def remove_beaten_models(study: optuna.Study, store: ArtifactStore, value: float, by_trial: int) -> int:
    """Remove the stored models of the completed feasible trials worse than ``value``
    (:func:`gapsearch.search.selection.beaten_by`); returns how many were removed.

    Optuna cannot edit a finished trial, so its artifact record stays and names a file that is gone;
    the trial's dashboard note says so.
    """
    from optuna.artifacts.exceptions import ArtifactNotFound

    from gapsearch.search.selection import beaten_by

    removed = 0
    for trial in beaten_by(study, value):
        for meta in model_artifacts(study, trial):
            try:
                store.remove(meta.artifact_id)
            except ArtifactNotFound:
                continue  # removed when an earlier trial beat it
            removed += 1
            _note_on_trial(
                study,
                trial,
                f"The model of this trial (`{MODEL_FILENAME}`) was removed when trial {by_trial} beat it "
                "(`save_models: best`). Set `artifacts.save_models: all` to keep every model.",
            )
    return removed


def _note_on_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial, body: str) -> None:
    """Set the dashboard note of a finished trial (notes live in the study's attributes, so this is allowed)."""
    replace_dashboard_note(study, trial, body)


def study_note(spec: StudySpec, study_data: StudyData, *, storage_url: str = "") -> str:
    """The study's Markdown note: what the study searches, its data statistics and its study file.

    The study file's credentials are masked, and so is the password of ``storage_url`` wherever it appears.
    """
    from gapsearch.masking import mask_secrets

    objectives = ", ".join(f"{o.direction} **{o.metric}**" for o in spec.resolved_objectives)
    lines = [
        f"# {spec.name}",
        "",
        f"{objectives[0].upper()}{objectives[1:]} over {spec.n_trials} trials ({spec.sampler.type} sampler, "
        + ("no pruner" if spec.pruner.type == "none" else f"{spec.pruner.type} pruner")
        + f", seed {spec.seed}).",
        "",
        "## Data",
        "",
        *data_statistics(study_data),
        *_vectors_statistics(spec, study_data),
        "",
        "## Study file",
        "",
        "```yaml",
        mask_secrets(spec.text or "(not read from a file)", also=(storage_url,)).rstrip("\n"),
        "```",
    ]
    return "\n".join(lines) + "\n"


def _vectors_statistics(spec: StudySpec, study_data: StudyData) -> Iterator[str]:
    """The pre-trained vectors' coverage of the training texts' words, with ``model.embedding``."""
    embedding = spec.model.embedding
    if embedding is not None:
        state = "fine-tuned" if embedding.trainable else "frozen"
        yield ""
        yield (
            f"Pre-trained vectors ({state}) from `{embedding.vectors}`: "
            + study_data.vectors_coverage(spec.base_dir / embedding.vectors)
            + "; the others start random."
        )


def data_statistics(study_data: StudyData) -> Iterator[str]:
    """Markdown lines from the cached data description: task, classes, split sizes, text lengths."""
    import numpy as np

    info = study_data.info
    yield f"{info.encoding.describe()}; the test split chooses nothing."
    yield ""
    yield "| split | examples |"
    yield "|---|---:|"
    for name, count in info.counts.items():
        yield f"| {name} | {count} |"
    for name, count in info.dropped.items():
        yield f"| {name}: empty texts dropped | {count} |"
    if len(info.run_names) > 1:
        yield f"| training runs | {len(info.run_names)} folds |"
    percentiles = (50, 90, 95, 99, 100)
    values = np.percentile(info.training_lengths, percentiles, method="inverted_cdf")
    yield ""
    yield (
        "Training text length in tokens: "
        + ", ".join(
            f"{p}th percentile {int(v)}" if p < 100 else f"longest {int(v)}"
            for p, v in zip(percentiles, values, strict=True)
        )
        + "."
    )


def save_study_note(study: optuna.Study, spec: StudySpec, study_data: StudyData, *, storage_url: str = "") -> None:
    """Write the study note (shown by optuna-dashboard) unless it already says the same."""
    from optuna_dashboard import get_note, save_note

    body = study_note(spec, study_data, storage_url=storage_url)
    if get_note(study) != body:
        save_note(study, body)
