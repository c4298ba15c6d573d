"""Loading a study file: YAML, then types, then cross-field checks, all before anything trains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gapsearch.errors import StudyFileError
from gapsearch.spec.checks import run_checks
from gapsearch.spec.messages import messages
from gapsearch.spec.study import StudySpec
from gapsearch.spec.vectors_file import vectors_dimension
from gapsearch.spec.yaml_io import read_yaml_mapping


def load_study(path: str | Path) -> StudySpec:
    """Read, type and check a study file.

    Raises:
        StudyFileError: with one line per problem, each naming the file, the key path,
            the bad value and what is allowed.
    """
    path = Path(path)
    raw, text = read_yaml_mapping(path)
    return parse_study(raw, source=path, text=text)


def parse_study(raw: dict[str, Any], *, source: Path, text: str | None = None) -> StudySpec:
    """Type and check an already-read study mapping; ``source`` names it in messages."""
    try:
        spec = StudySpec.model_validate(raw)
    except ValidationError as error:
        _raise(source, messages(StudySpec, error))
    spec._source = source.resolve()
    spec._text = text
    problems = run_checks(spec, raw)
    if problems:
        _raise(source, problems)
    return _with_vectors_dimension(spec)


def _with_vectors_dimension(spec: StudySpec) -> StudySpec:
    """With pre-trained vectors and no ``embedding_dim`` written, the spec whose ``embedding_dim`` is the vectors'
    dimension, read from the file's first line once (the checks have read the file, so it reads)."""
    embedding = spec.model.embedding
    if embedding is None or "embedding_dim" in spec.model.model_fields_set:
        return spec
    dimension = vectors_dimension(spec.base_dir / embedding.vectors)
    resolved = spec.model_copy(update={"model": spec.model.model_copy(update={"embedding_dim": dimension})})
    resolved._source, resolved._text = spec._source, spec._text
    return resolved


def _raise(source: Path, problems: list[tuple[str, str]]) -> None:
    lines = tuple(f"{source}: {path}: {problem}" if path else f"{source}: {problem}" for path, problem in problems)
    raise StudyFileError("\n".join(lines), errors=lines)
