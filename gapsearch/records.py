"""How gapsearch's typed records are stored as Optuna user attributes: one plain name per field.

A record is a frozen dataclass that subclasses :class:`StoredRecord`; it is written with ``record.write(target)``
and read back with ``Record.read(source)``, where the target and the source are a trial (running or frozen)
or a study, whose user attributes optuna-dashboard shows as they are. The trial's records are
:mod:`gapsearch.trial_attrs`, the study's :mod:`gapsearch.study_attrs`; the attribute names live there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, Union

if TYPE_CHECKING:
    import optuna

    #: Where a record is written: a trial or a study, or a function taking (key, value), such as a storage's
    #: ``set_trial_user_attr`` bound to one trial id.
    AttrTarget = Union[optuna.Trial, optuna.Study, Callable[[str, Any], None]]
    #: What a record is read from: a trial (frozen or running) or a study, or its user attributes.
    AttrSource = Union[optuna.trial.FrozenTrial, optuna.Trial, optuna.Study, Mapping[str, Any]]

_Record = TypeVar("_Record", bound="StoredRecord")


def setter(target: AttrTarget) -> Callable[[str, Any], None]:
    """The function that sets one user attribute of ``target``."""
    set_user_attr = getattr(target, "set_user_attr", None)
    return set_user_attr if set_user_attr is not None else target  # type: ignore[return-value]


def attrs_of(source: AttrSource) -> Mapping[str, Any]:
    """The user attributes of ``source``."""
    attrs = getattr(source, "user_attrs", None)
    return attrs if attrs is not None else source  # type: ignore[return-value]


class StoredRecord:
    """A frozen dataclass stored one user attribute per field.

    ``KEYS`` renames a field's attribute (default: the field's name), ``ALIASES`` lists the names older
    databases used for it (read, never written), ``KEEP_NONE`` the fields written even when None (the
    others are left out), and ``REQUIRED`` the fields without which the trial or study holds no such record.
    """

    KEYS: ClassVar[dict[str, str]] = {}
    ALIASES: ClassVar[dict[str, tuple[str, ...]]] = {}
    KEEP_NONE: ClassVar[tuple[str, ...]] = ()
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def key(cls, name: str) -> str:
        """The user attribute that holds field ``name``."""
        return cls.KEYS.get(name, name)

    def as_attrs(self) -> dict[str, Any]:
        """The user attributes this record is stored as."""
        attrs = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if value is not None or field.name in self.KEEP_NONE:
                attrs[self.key(field.name)] = list(value) if isinstance(value, tuple) else value
        return attrs

    def write(self, trial: AttrTarget) -> None:
        """Store the record on ``trial`` (or a study: the one place its attributes are set), any password in its
        texts masked (a failure's reason and traceback may quote a URL)."""
        from gapsearch.masking import mask_secrets

        set_attr = setter(trial)
        for key, value in self.as_attrs().items():
            set_attr(key, mask_secrets(value) if isinstance(value, str) else value)

    @classmethod
    def read(cls: type[_Record], trial: AttrSource) -> _Record | None:
        """The record stored on ``trial`` (under its names or their old aliases); None if it holds none."""
        attrs = attrs_of(trial)
        found: dict[str, Any] = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            for key in (cls.key(field.name), *cls.ALIASES.get(field.name, ())):
                if key in attrs:
                    found[field.name] = attrs[key]
                    break
        if any(found.get(name) is None for name in cls.REQUIRED):
            return None
        return cls._from(found)

    @classmethod
    def _from(cls: type[_Record], found: dict[str, Any]) -> _Record:
        return cls(**found)


__all__ = ["StoredRecord", "attrs_of", "setter"]
