"""What people read about their data: the task inferred, and the ``gapsearch data`` summary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from gapsearch.data.cache import StudyData
from gapsearch.data.dataset import load_splits
from gapsearch.data.labels import label_encoding
from gapsearch.data.sources import read_source
from gapsearch.spec.data import DataSpec, KerasData, SyntheticData
from gapsearch.spec.space import Choice

_KERAS_TASKS = {"imdb": "binary (Keras' imdb: 2 classes)", "reuters": "multiclass (Keras' reuters: 46 topics)"}
PERCENTILES = (50, 90, 95, 99, 100)


def describe_task(spec: DataSpec, base_dir: Path, seed: int) -> str:
    """The task, declared or inferred from the training labels (reads the train data; no Keras)."""
    if isinstance(spec, SyntheticData):
        task = "binary" if spec.n_classes == 2 else "multiclass"
        return f"{task} (synthetic: {spec.n_classes} classes)"
    if isinstance(spec, KerasData):
        return _KERAS_TASKS[spec.dataset]
    return label_encoding(read_source(spec, base_dir, seed).train, spec.task).describe()


def data_line(study, data: StudyData) -> str:  # noqa: ANN001 - a StudySpec
    """One line for ``gapsearch run``: task, split sizes, dropped examples and ``sequence_length: auto``."""
    info = data.info
    sizes = " / ".join(f"{count} {split}" for split, count in info.counts.items())
    runs = f"{len(info.run_names)} folds" if len(info.run_names) > 1 else "one validation split"
    if len(info.run_names) > 1 and study.data.inner_validation_split is not None:
        runs += f", each choosing its epochs on {study.data.inner_validation_split:g} of its training rows"
    line = f"data: {info.encoding.describe()}; {sizes}; {runs}"
    dropped = ", ".join(f"{count} in {split}" for split, count in info.dropped.items())
    if dropped:
        line += f"; dropped empty texts: {dropped}"
    if "auto" in searched_values(study, "sequence_length"):
        percentile = study.data.sequence_length_percentile
        line += f"; sequence_length auto = {info.sequence_length(percentile)} (p{percentile:g} of training lengths)"
    if study.model.embedding is not None:
        line += "; " + data.vectors_coverage(study.base_dir / study.model.embedding.vectors)
    cached = "read from" if not data.built else "built in"
    return line + f"; cache {cached} {data.root}"


def searched_values(study, name: str) -> list:  # noqa: ANN001 - a StudySpec
    """The values of ``max_tokens`` or ``sequence_length`` the study can use (a range: its ends)."""
    param = study.search_space.get(name)
    if param is None:
        return [getattr(study.model, name)]
    if isinstance(param, Choice):
        return list(param.choices)
    return [int(param.low), int(param.high)]


def data_report(study) -> str:  # noqa: ANN001 - a StudySpec
    """Builds the cache for every (max_tokens, sequence_length) the study names and describes the data."""
    spec: DataSpec = study.data
    data = StudyData(spec, study.base_dir, study.seed)
    info = data.info
    lines = [f"task       {info.encoding.describe()}"]
    full = load_splits(spec, study.base_dir, study.seed, with_test=True)
    per_split = {"train": full.train, "validation": full.validation, "test": full.test}
    names = info.class_names
    header = f"{'split':<10}" + "".join(f"  {name[:12]:>12}" for name in names) + f"  {'total':>8}"
    if info.task in ("binary", "multiclass", "multilabel"):
        lines.append("examples per class:")
        lines.append("  " + header)
    for split, texts in per_split.items():
        if texts is None:
            continue
        counts: Counter[str] = Counter()
        for label in texts.labels:
            if isinstance(label, tuple):
                counts.update(label)
            else:
                counts[_name(label)] += 1
        if info.task == "regression":
            values = np.asarray([float(v) for v in texts.labels])  # type: ignore[arg-type]
            lines.append(
                f"  {split:<10} {len(texts)} examples, targets {values.min():g} .. {values.max():g}, "
                f"mean {values.mean():.3g}"
            )
        else:
            cells = "".join(f"  {counts.get(name, 0):>12}" for name in names)
            lines.append(f"  {split:<10}{cells}  {len(texts):>8}")
    if full.folds is not None:
        lines.append(f"folds      {full.n_folds} (stratified, seed {study.seed}); the test split is never among them")
        if full.inner is not None:
            lines.append(
                f"inner      {full.inner.share:g} of each fold's training rows choose its epochs; "
                "the fold is scored at the chosen epoch"
            )
    for split, count in full.dropped:
        lines.append(f"dropped    {count} empty text{'s' if count != 1 else ''} in {split} (drop_empty: true)")
    lengths = info.training_lengths
    percentiles = np.percentile(lengths, PERCENTILES, method="inverted_cdf")
    lines.append(
        "lengths    training texts, in tokens: "
        + ", ".join(f"p{p}={int(v)}" for p, v in zip(PERCENTILES, percentiles, strict=True))
    )
    embedding = study.model.embedding
    vectors = None if embedding is None else study.base_dir / embedding.vectors
    for max_tokens in searched_values(study, "max_tokens"):
        for length in searched_values(study, "sequence_length"):
            resolved = info.sequence_length(spec.sequence_length_percentile) if length == "auto" else int(length)
            shown = f"auto={resolved} (p{spec.sequence_length_percentile:g})" if length == "auto" else str(resolved)
            runs = data.runs(int(max_tokens), resolved, vectors)
            vocabulary = np.mean([run.vocabulary_size for _, run in runs])
            oov = np.mean([run.oov_rate for _, run in runs])
            cut = np.mean([run.truncation_rate for _, run in runs])
            lines.append(
                f"vectorized max_tokens={max_tokens} sequence_length={shown}: vocabulary {vocabulary:.0f}, "
                f"out-of-vocabulary {oov:.2%} of tokens, truncated {cut:.2%} of texts"
                + (f" (mean of {len(runs)} folds)" if len(runs) > 1 else "")
            )
    if embedding is not None and vectors is not None:
        lines.append(f"vectors    {embedding.vectors}: " + data.vectors_coverage(vectors))
    built = len(data.built)
    lines.append(f"cache      {data.root} ({built} entr{'y' if built == 1 else 'ies'} built, the rest read)")
    return "\n".join(lines)


def _name(label: object) -> str:
    from gapsearch.data.sources import format_number

    return format_number(label) if isinstance(label, float) else str(label)
