"""Turning pydantic's validation errors into gapsearch's one-line messages.

Each message names the key path as the user wrote it (``search_space.pooling[1]``),
the rule that broke, the bad value, and what would be accepted.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Discriminator, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails


def did_you_mean(word: str, allowed: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for a close match, else the list of what is allowed."""
    allowed = list(allowed)
    close = difflib.get_close_matches(word, allowed, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "expected one of: " + ", ".join(allowed)


def join_path(parts: Sequence[str | int]) -> str:
    """``('search_space', 'pooling', 1)`` -> ``search_space.pooling[1]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    metadata: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        args = typing.get_args(annotation)
        annotation, metadata = args[0], metadata + list(args[1:])
    return annotation, metadata


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _tags(annotation: Any, metadata: list[Any]) -> dict[str, Any] | None:
    """For a discriminated union, the mapping from tag to member annotation; else None."""
    discriminator = next(
        (
            m.discriminator if isinstance(m, FieldInfo) else m
            for m in metadata
            if isinstance(m, Discriminator) or (isinstance(m, FieldInfo) and m.discriminator)
        ),
        None,
    )
    if discriminator is None or not _is_union(annotation):
        return None
    tags: dict[str, Any] = {}
    for member in typing.get_args(annotation):
        inner, inner_meta = _unwrap(member)
        tag = next((getattr(m, "tag", None) for m in inner_meta if getattr(m, "tag", None)), None)
        if tag is None and isinstance(discriminator, str) and isinstance(inner, type) and issubclass(inner, BaseModel):
            literal = inner.model_fields[discriminator].annotation
            tag = typing.get_args(literal)[0]
        tags[str(tag)] = member
    return tags


def locate(root: type[BaseModel], loc: Sequence[str | int]) -> tuple[list[str | int], type[BaseModel] | None]:
    """Walk ``loc`` from ``root``; return the path the user sees and the model holding its last key.

    pydantic puts the tag of a discriminated union (and the member of a plain union) into ``loc``;
    neither is a key in the file, so both are dropped from the displayed path.
    """
    shown: list[str | int] = []
    node: Any = root
    holder: type[BaseModel] | None = None
    index = 0
    while index < len(loc):
        part = loc[index]
        annotation, metadata = _unwrap(node)
        members = [a for a in typing.get_args(annotation) if a is not type(None)] if _is_union(annotation) else []
        if len(members) == 1:  # an optional section (`X | None`): pydantic's loc names no member
            annotation, metadata = _unwrap(members[0])
        tags = _tags(annotation, metadata) if node is not None else None
        if tags is not None and isinstance(part, str) and part in tags:
            node = tags[part]
        elif node is not None and _is_union(annotation) and isinstance(part, str) and not _is_model(annotation):
            node = None  # a plain union's member label: not a key the user wrote
        else:
            shown.append(part)
            holder = annotation if _is_model(annotation) else None
            node = _child(annotation, part)
        index += 1
    return shown, holder


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _child(annotation: Any, part: str | int) -> Any:
    if _is_model(annotation):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        if field.discriminator or field.metadata:
            return typing.Annotated[(field.annotation, field, *field.metadata)]
        return field.annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin in (list, tuple) and args:
        return args[0]
    if _is_union(annotation):
        members = [a for a in args if a is not type(None)]
        return members[0] if len(members) == 1 else None
    return None


def describe(error: ErrorDetails, holder: type[BaseModel] | None = None) -> str:
    """The problem part of a message, from one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind == "missing":
        return "required key missing"
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        allowed = list(holder.model_fields) if holder is not None else []
        return "unknown key; " + did_you_mean(key, allowed) if allowed else "unknown key"
    if kind == "literal_error":
        return f"{value!r} is not allowed; expected {ctx['expected']}"
    if kind == "union_tag_invalid":
        return f"{ctx['tag']!r} is not allowed; expected one of {ctx['expected_tags']}"
    if kind == "union_tag_not_found":
        return f"required key missing: {ctx['discriminator'].strip(chr(39))}"
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"must be {bounds[kind]} {limit}, but got {value!r}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected an integer, but got {value!r}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"expected a number, but got {value!r}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, but got {value!r}"
    if kind in ("string_type",):
        return f"expected text, but got {value!r}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} does not match the pattern {ctx['pattern']}"
    if kind in ("too_short",):
        return f"needs at least {ctx['min_length']} item(s), but got {value!r}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys, but got {value!r}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, but got {value!r}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    message = error["msg"]
    return f"{message[0].lower()}{message[1:]}, but got {value!r}"


def _with_literal(problem: str, literal: str) -> str:
    """``problem`` with a union's literal member named as the other thing accepted."""
    head, sep, tail = problem.partition(", but got ")
    return f"{head} or {literal}{sep}{tail}" if sep else f"{problem} (or {literal})"


def messages(root: type[BaseModel], error: ValidationError, prefix: Sequence[str | int] = ()) -> list[tuple[str, str]]:
    """(path, problem) pairs for a ValidationError raised while validating ``root``; one per path."""
    seen: dict[str, str] = {}
    literals: dict[str, str] = {}  # a union's literal member (``'auto'``), named beside its other member's problem
    misspelled: set[str] = set()  # required keys that an unknown key is a misspelling of
    for details in error.errors(include_url=False):
        shown, holder = locate(root, details["loc"])
        if details["type"] in ("union_tag_invalid", "union_tag_not_found"):
            # The tag's key: 'type' for samplers and pruners; a callable discriminator is named after its key.
            key = str(details.get("ctx", {}).get("discriminator", "'type'")).strip("'").removesuffix("()")
            shown = [*shown, key.lstrip("_") if key.lstrip("_") in ("format",) else "type"]
        path = join_path([*prefix, *shown])
        problem = describe(details, holder)
        if details["type"] == "literal_error" and path in seen:
            literals.setdefault(path, str(details.get("ctx", {}).get("expected")))
        seen.setdefault(path, problem)
        if details["type"] == "extra_forbidden" and holder is not None:
            close = difflib.get_close_matches(str(shown[-1]), list(holder.model_fields), n=1, cutoff=0.6)
            if close:
                misspelled.add(join_path([*prefix, *shown[:-1], close[0]]))
    # "n_trails: unknown key; did you mean 'n_trials'?" says all; "n_trials: required key missing" adds nothing.
    return [
        (path, _with_literal(problem, literals[path]) if path in literals else problem)
        for path, problem in seen.items()
        if not (path in misspelled and problem == "required key missing")
    ]
