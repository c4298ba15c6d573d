"""Reading study files as YAML: numbers as numbers, duplicate keys as errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from gapsearch.errors import StudyFileError


class _StudyLoader(yaml.SafeLoader):
    """SafeLoader that reads ``1e-4`` as a float (YAML 1.1 wants ``1.0e-4``) and refuses duplicate keys."""


# YAML 1.1's float pattern needs a dot and a signed exponent; people write 1e-4 and 3e5.
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_StudyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StudyLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _construct_mapping(loader: _StudyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StudyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml_mapping(path: Path) -> tuple[dict[str, Any], str]:
    """Read a study file; return its top-level mapping and its text."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyFileError(f"{path}: no such study file") from None
    except IsADirectoryError:
        raise StudyFileError(f"{path}: is a folder, not a study file") from None
    except UnicodeDecodeError as error:
        raise StudyFileError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        data = yaml.load(text, Loader=_StudyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark, problem = error.problem_mark or error.context_mark, error.problem or error.context
        flow = re.fullmatch(r"while parsing a flow (sequence|mapping)", error.context or "")
        if flow and error.context_mark and (error.problem or "").startswith("expected ','"):
            # An unclosed [ or {: the parser notices where the text stops fitting in, often on a later line,
            # so the mark is the bracket that opened it.
            mark = error.context_mark
            opener = "[" if flow.group(1) == "sequence" else "{"
            problem = f"the {opener!r} here is not closed, or a ',' is missing in it ({error.problem})"
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise StudyFileError(f"{where}: not valid YAML: {problem}") from None
    if data is None:
        raise StudyFileError(f"{path}: the study file is empty")
    if not isinstance(data, dict):
        raise StudyFileError(
            f"{path}: expected a mapping of keys (name:, data:, ...) at the top, but got {type(data).__name__}"
        )
    return data, text
