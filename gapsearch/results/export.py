"""Exporting a trial's model, and predicting with an exported model.

The ``model.keras`` artifact a trial saved is already a
:class:`~gapsearch.models.text_classifier.TextClassifier` (raw strings in, probabilities out), so
exporting fetches it from the artifact store, checks that it loads, and writes it where asked;
with the TensorFlow backend it can also write a SavedModel directory for serving.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gapsearch.errors import UserError
from gapsearch.models.loading import load_text_classifier

if TYPE_CHECKING:
    import optuna

    from gapsearch.models.text_classifier import TextClassifier
    from gapsearch.optuna_compat import ArtifactStore
    from gapsearch.spec.study import StudySpec


class ExportError(UserError):
    """The trial asked for has no model to export, or the output cannot be written."""


@dataclass(frozen=True)
class Exported:
    trial_number: int
    values: dict[str, float]  # the trial's objective values, by objective name
    path: Path
    savedmodel: Path | None


def export_study_model(
    spec: StudySpec,
    storage_url: str,
    which: str | int,
    output: Path,
    *,
    by: str | None = None,
    savedmodel: Path | None = None,
) -> Exported:
    """``gapsearch export``: the model of the trial ``which`` names (see ``selection.choose_trial``)."""
    from gapsearch.search.artifacts import open_artifact_store
    from gapsearch.storage.database import load_existing_study

    study = load_existing_study(storage_url, spec.name)
    store = open_artifact_store(spec.artifacts, create=False)
    return export_model(spec, study, store, which, output, by=by, savedmodel=savedmodel)


def export_model(
    spec: StudySpec,
    study: optuna.Study,
    store: ArtifactStore,
    which: str | int,
    output: Path,
    *,
    by: str | None = None,
    savedmodel: Path | None = None,
) -> Exported:
    """Write the model of trial ``which`` (``best`` or a number; ``by`` an objective) to ``output`` (``.keras``).

    Raises:
        ExportError: no such completed trial, the trial saved no model or it was removed, or ``output``
            does not end in ``.keras``.
    """
    if output.suffix != ".keras":
        raise ExportError(f"-o: {str(output)!r} must end in .keras (Keras' file format), for example model.keras")
    if not output.parent.is_dir():
        raise ExportError(f"-o: the folder {output.parent} does not exist")
    from gapsearch.search.selection import choose_trial

    trial = choose_trial(spec, study, which, by=by)
    if savedmodel is not None:
        from gapsearch.results.export_savedmodel import check_savedmodel_target

        check_savedmodel_target(savedmodel)
    handle, temporary = tempfile.mkstemp(prefix=".gapsearch-export-", suffix=".keras", dir=output.parent)
    os.close(handle)
    os.unlink(temporary)
    try:
        model = _download_model(study, store, trial, Path(temporary))
        if savedmodel is not None:
            from gapsearch.results.export_savedmodel import write_savedmodel

            write_savedmodel(model, savedmodel)
        os.replace(temporary, output)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return Exported(trial.number, dict(zip(spec.objective_names, trial.values, strict=True)), output, savedmodel)


def load_trial_model(spec: StudySpec, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> TextClassifier:
    """The model ``trial`` saved, loaded into this process (for the Python API's ``predict``); no file is left.

    Raises:
        ExportError: the trial saved no model, or it was removed from the artifact store.
    """
    from gapsearch.search.artifacts import open_artifact_store

    store = open_artifact_store(spec.artifacts, create=False)
    with tempfile.TemporaryDirectory(prefix="gapsearch-model-") as folder:
        return _download_model(study, store, trial, Path(folder) / "model.keras")


def _download_model(
    study: optuna.Study, store: ArtifactStore, trial: optuna.trial.FrozenTrial, path: Path
) -> TextClassifier:
    """Fetch ``trial``'s model from the artifact store to ``path`` and load it (which checks that it loads)."""
    from optuna.artifacts import download_artifact
    from optuna.artifacts.exceptions import ArtifactNotFound

    from gapsearch.search.artifacts import MODEL_FILENAME, model_artifacts

    metas = model_artifacts(study, trial)
    if not metas:
        raise ExportError(
            f"trial {trial.number} saved no model: artifacts.save_models was 'none', or 'best' and the trial "
            "was not the best when it finished; export --trial best, or set save_models: all and rerun"
        )
    try:
        download_artifact(artifact_store=store, file_path=str(path), artifact_id=metas[-1].artifact_id)
    except ArtifactNotFound:
        raise ExportError(
            f"trial {trial.number}'s {MODEL_FILENAME} is no longer in the artifact store: it was removed when "
            "a better trial finished (save_models: best); export --trial best, or set save_models: all"
        ) from None
    return load_text_classifier(path)


@dataclass(frozen=True)
class Prediction:
    text: str
    label: str
    score: float  # the probability of ``label``
    probabilities: dict[str, float]


def predict_texts(model: TextClassifier, texts: Sequence[str]) -> list[Prediction]:
    """The label, its probability and every class's probability, for each text."""
    labels, probabilities = model.classify(list(texts))
    return [
        Prediction(
            text=text,
            label=label,
            score=float(row[model.class_names.index(label)]),
            probabilities={name: float(p) for name, p in zip(model.class_names, row, strict=True)},
        )
        for text, label, row in zip(texts, labels, probabilities, strict=True)
    ]


def read_texts(path: str) -> list[str]:
    """One text per line of ``path`` (``-`` for standard input); blank lines are skipped."""
    import sys

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"--input: {path!r} does not exist") from None
    except UnicodeDecodeError as error:
        raise UserError(f"--input: {path!r} is not UTF-8 text (byte {error.start})") from None
    return [line for line in text.splitlines() if line.strip()]


def collect_texts(
    texts: Sequence[str], input_file: str | None, *, command: str, verb: str, required: bool = True
) -> list[str]:
    """The texts given to ``gapsearch COMMAND`` as arguments, then ``--input``'s (``required``: at least one)."""
    collected = [*texts, *(read_texts(input_file) if input_file is not None else [])]
    if required and not collected:
        raise UserError(f'give texts to {verb}, or --input FILE; for example: gapsearch {command} model.keras "text"')
    return collected


def render_predictions(predictions: Sequence[Prediction], fmt: str) -> str:
    """Predictions as an aligned table (label, score, text) or as JSON (every class's probability)."""
    import json

    if fmt == "json":
        records: list[dict[str, Any]] = [
            {"text": p.text, "label": p.label, "score": p.score, "probabilities": p.probabilities} for p in predictions
        ]
        return json.dumps(records, indent=2, ensure_ascii=False)
    width = max([len("label"), *(len(p.label) for p in predictions)])
    lines = [f"{'label':<{width}}  score     text"]
    for p in predictions:
        text = " ".join(p.text.split())
        lines.append(f"{p.label:<{width}}  {p.score:.6f}  {text if len(text) <= 80 else text[:77] + '...'}")
    return "\n".join(lines)
