"""Every use of Optuna's and optuna-dashboard's private or version-dependent API, in one place.

gapsearch runs its own worker loop (heartbeats, requeueing, outage windows) and writes to finished
trials' dashboard notes, which Optuna's public API does not cover. Each helper below says which name it
relies on and why no public API serves. :data:`RELIED_ON` lists those names; the test suite fails when an
installed Optuna or optuna-dashboard no longer has one of them, so an upgrade is checked here, not by a
search through the package.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

    # The artifact store protocol is not exported publicly; the others import it from here, for annotations.
    from optuna.artifacts._protocol import ArtifactStore  # noqa: F401
    from optuna.storages import BaseStorage
    from optuna.storages._heartbeat import BaseHeartbeat  # noqa: F401

#: The system attribute Optuna keeps a trial's constraint values under
#: (``optuna.study._constrained_optimization._CONSTRAINTS_KEY``); the samplers and ``Study.best_trials``
#: read it. Public API sets it only through a sampler's ``constraints_func``, which runs after the objective
#: returns: too late for a pruned trial and for constraints on costs measured before training.
CONSTRAINTS_KEY = "constraints"

#: Private storage methods the database retry layer (:mod:`gapsearch.storage.retry`) must wrap as well as the
#: public ones: Optuna's in-process cache, which wraps every RDBStorage, calls these instead of the public
#: methods, so a retry on the public name alone would miss the database call.
PRIVATE_STORAGE_METHODS: tuple[str, ...] = (
    "_get_stale_trial_ids",
    "_create_new_trial",
    "_set_trial_param",
    "_get_best_trial_id",
    "_get_trials",
)

#: (module, attribute) pairs this module reaches into; checked against the installed packages by the tests.
RELIED_ON: tuple[tuple[str, str], ...] = (
    ("optuna.study", "Study._storage"),
    ("optuna.study", "Study._study_id"),
    ("optuna.study", "Study._stop_flag"),
    ("optuna.study", "Study._thread_local"),
    ("optuna.trial", "Trial._trial_id"),
    ("optuna.trial", "FrozenTrial._trial_id"),
    ("optuna.study._constrained_optimization", "_CONSTRAINTS_KEY"),
    ("optuna.storages._heartbeat", "BaseHeartbeat"),
    ("optuna.storages._heartbeat", "is_heartbeat_enabled"),
    ("optuna.storages._cached_storage", "_CachedStorage._get_stale_trial_ids"),
    ("optuna.storages._cached_storage", "_CachedStorage._backend"),
    *(("optuna.storages", f"RDBStorage.{name}") for name in PRIVATE_STORAGE_METHODS),
    ("optuna.artifacts._protocol", "ArtifactStore"),
    ("optuna_dashboard._note", "get_note_from_system_attrs"),
    ("optuna_dashboard._note", "save_note_with_version"),
    ("optuna.storages._rdb.models", "BaseModel.metadata"),
)


def resolve(module: str, dotted: str) -> Any:
    """The object ``module.dotted`` names (``Study._storage`` is checked as an instance attribute's annotation
    or a class attribute, since Optuna sets some of them in ``__init__``)."""
    target: Any = importlib.import_module(module)
    for part in dotted.split("."):
        if hasattr(target, part):
            target = getattr(target, part)
            continue
        init = getattr(target, "__init__", None)
        if isinstance(target, type) and init is not None and part in init.__code__.co_names:
            return part  # assigned in __init__ (self.<part> = ...)
        raise AttributeError(f"{module}.{dotted}: {part!r} is gone")
    return target


def storage_of(study: optuna.Study) -> BaseStorage:
    """The study's storage. ``Study`` has no public accessor, and the worker loop, the registry and the
    dead-worker check call storage methods (heartbeats, state changes of other workers' trials) directly."""
    return study._storage


def unwrapped_storage(storage: BaseStorage) -> BaseStorage:
    """The storage Optuna's in-process cache wraps (``_CachedStorage._backend``), or ``storage`` when it wraps none.

    ``optuna.create_study`` and ``load_study`` wrap every ``RDBStorage`` in a ``_CachedStorage``, and the worker
    loop must reach the RDBStorage gapsearch opened (its outage window); Optuna has no public way to it. Should
    a release rename the attribute, this raises instead of answering that the storage has no window.
    """
    from optuna.storages._cached_storage import _CachedStorage

    return storage._backend if isinstance(storage, _CachedStorage) else storage


def study_id(study: optuna.Study) -> int:
    """The study's id in its storage (``Study._study_id``): storage-level calls take ids, not names."""
    return study._study_id


def trial_id(trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    """The trial's id in its storage (``_trial_id``): storage-level calls take ids, not trial numbers."""
    return trial._trial_id


def retried_trial_number(trial: optuna.trial.FrozenTrial) -> int | None:
    """The number of the failed trial a retry stands for (its first attempt); None when the trial is no retry.

    Optuna's own reader (``RetryFailedTrialCallback.retried_trial_number``) is public but experimental, so
    it warns at each call; the warning is silenced here, and the raw ``failed_trial`` key is left to Optuna.
    """
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryFailedTrialCallback.retried_trial_number(trial)


def retry_history(trial: optuna.trial.FrozenTrial) -> list[int]:
    """The numbers of the failed trials a retry stands for, first attempt first (Optuna's ``retry_history``,
    through its public, experimental reader; see :func:`retried_trial_number`)."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return list(optuna.storages.RetryFailedTrialCallback.retry_history(trial))


def set_trial_constraints(trial: optuna.Trial, values: list[float]) -> None:
    """Record a running trial's constraint values where Optuna's samplers and ``best_trials`` read them."""
    trial.storage.set_trial_system_attr(trial_id(trial), CONSTRAINTS_KEY, values)


def begin_optimize_loop(study: optuna.Study) -> None:
    """Mark the thread as inside ``optimize()``. gapsearch's worker loop replaces ``Study.optimize`` (it needs
    heartbeats, requeueing and outage windows around each trial); samplers may call ``study.stop()`` (the
    grid sampler does when its grid is used up), which Optuna allows only inside an optimize loop."""
    study._thread_local.in_optimize_loop = True
    study._stop_flag = False


def stop_requested(study: optuna.Study) -> bool:
    """Whether ``study.stop()`` was called since :func:`begin_optimize_loop` (Optuna's ``_stop_flag``)."""
    return bool(study._stop_flag)


def end_optimize_loop(study: optuna.Study) -> None:
    study._thread_local.in_optimize_loop = False


def heartbeat_storage(study: optuna.Study) -> Any | None:
    """The study's storage when it records heartbeats (``BaseHeartbeat`` with a heartbeat interval), else None.

    Optuna exports no heartbeat protocol publicly; it is used by ``optuna.storages.fail_stale_trials`` only.
    """
    from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled

    storage = storage_of(study)
    return storage if isinstance(storage, BaseHeartbeat) and is_heartbeat_enabled(storage) else None


def stale_trial_ids(study: optuna.Study) -> set[int]:
    """Ids of running trials whose heartbeat is older than the grace period, without failing them.

    ``optuna.storages.fail_stale_trials`` fails them at once; ``gapsearch status`` and the dead-worker lines
    must read them first, and only the storage's private ``_get_stale_trial_ids`` answers that.
    """
    storage = storage_of(study)
    if not hasattr(storage, "_get_stale_trial_ids"):
        return set()
    return set(storage._get_stale_trial_ids(study_id(study)))


def optuna_table_names() -> frozenset[str]:
    """The tables Optuna's RDB storage sets up in a study database (``alembic_version`` included).

    A database holding other tables and not these belongs to another application, and gapsearch must tell
    so before Optuna creates its tables there; Optuna lists its tables only in its private ``models``.
    """
    from optuna.storages._rdb.models import BaseModel

    return frozenset(BaseModel.metadata.tables) | {"alembic_version"}  # stamped by Optuna's schema migrations


def dashboard_note(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """A trial's optuna-dashboard note (``{"version", "body"}``); the dashboard has no public API for notes
    beyond ``save_note``, which cannot bump the version of an existing note."""
    from optuna_dashboard._note import get_note_from_system_attrs

    storage = storage_of(study)
    return get_note_from_system_attrs(storage.get_study_system_attrs(study_id(study)), trial_id(trial))


def replace_dashboard_note(study: optuna.Study, trial: optuna.trial.FrozenTrial, body: str) -> None:
    """Replace a finished trial's dashboard note (notes live in the study's attributes, so this is allowed)."""
    from optuna_dashboard._note import save_note_with_version

    version = dashboard_note(study, trial)["version"]
    save_note_with_version(storage_of(study), study_id(study), trial_id(trial), version + 1, body)


__all__ = [
    "CONSTRAINTS_KEY",
    "PRIVATE_STORAGE_METHODS",
    "RELIED_ON",
    "begin_optimize_loop",
    "dashboard_note",
    "end_optimize_loop",
    "heartbeat_storage",
    "optuna_table_names",
    "replace_dashboard_note",
    "resolve",
    "retried_trial_number",
    "retry_history",
    "set_trial_constraints",
    "stale_trial_ids",
    "stop_requested",
    "storage_of",
    "study_id",
    "trial_id",
    "unwrapped_storage",
]
