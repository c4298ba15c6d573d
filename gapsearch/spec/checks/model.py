"""Checks of the model's options that depend on each other: kernel widths, flattening, pre-trained vectors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gapsearch.errors import UserError
from gapsearch.spec.checks._common import Problem, given, plain_number, values_of, where
from gapsearch.spec.study import StudySpec


def check_kernel_sizes(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    """``kernel_sizes`` replaces ``kernel_size`` and needs the conv1d encoder."""
    if not given(spec, "kernel_sizes"):
        return
    path = where(spec, "kernel_sizes")
    if given(spec, "kernel_size"):
        yield (
            path,
            (
                f"kernel_size and kernel_sizes exclude each other (both given, {where(spec, 'kernel_size')} too); "
                "give one width as kernel_size or several as kernel_sizes"
            ),
        )
    others = [encoder for encoder in values_of(spec, "encoder") if encoder != "conv1d"]
    if others:
        yield path, f"needs encoder: conv1d, but encoder can be {others[0]!r}; widths only apply to convolutions"


def check_flatten(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    """Flattening needs every batch at the full ``sequence_length``: its weights are per position."""
    if "flatten" not in values_of(spec, "pooling"):
        return
    buckets = [b for b in values_of(spec, "length_buckets") if b and b != "auto"]
    if buckets:
        yield (
            where(spec, "length_buckets"),
            (
                f"{plain_number(buckets[0])} cannot be used with pooling: flatten, whose weights are per position "
                "and need every batch padded to sequence_length; expected 0"
            ),
        )


def check_embedding(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    """Pre-trained vectors: the file exists, its first lines read, and embedding_dim is its dimension."""
    embedding = spec.model.embedding
    if embedding is None:
        return
    from gapsearch.spec.vectors_file import vectors_dimension

    path = spec.base_dir / embedding.vectors
    if not path.is_file():
        yield "model.embedding.vectors", f"no such file {embedding.vectors!r} (looked in {spec.base_dir})"
        return
    try:
        dimension = vectors_dimension(path)
    except UserError as error:
        yield "model.embedding.vectors", str(error)
        return
    if "embedding_dim" in spec.search_space:
        yield (
            "search_space.embedding_dim",
            (f"cannot be searched with model.embedding: the vectors in {embedding.vectors} have dimension {dimension}"),
        )
    elif "embedding_dim" in spec.model.model_fields_set and spec.model.embedding_dim != dimension:
        yield (
            "model.embedding_dim",
            (
                f"{spec.model.embedding_dim} disagrees with the vectors in {embedding.vectors}, which have dimension "
                f"{dimension}; expected {dimension} or leave embedding_dim out"
            ),
        )
