"""Which workers a study has seen: each worker notes itself in the study database as it goes.

A worker writes one study system attribute (:class:`gapsearch.study_attrs.WorkerNote`) when it starts,
whenever what it does changes (a trial starts, it waits, it stops), and every so often
while it waits or trains; a run notes the budget it works to (``gapsearch:budget``), and the
death of a worker process it watched (how, and when). ``gapsearch status`` reads them back.
Nothing else is shared between workers.
"""

from __future__ import annotations

import dataclasses
import os
import time
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gapsearch.optuna_compat import storage_of
from gapsearch.runtime import host_attributes
from gapsearch.study_attrs import WorkerNote, read_budget, worker_key, write_budget
from gapsearch.trial_attrs import Placement
from gapsearch.workers.devices import WORKER_ID_ENV, WORKER_START_ENV

if TYPE_CHECKING:
    import optuna


@dataclass(frozen=True)
class WorkerIdentity:
    """Who a worker is: its id, host, process, GPU, and the offset that gives its sampler its own seed."""

    worker_id: str
    hostname: str
    pid: int
    cuda_visible_devices: str
    seed_offset: int

    @classmethod
    def current(cls, worker_id: str | None = None, *, seed_offset: int | None = None) -> WorkerIdentity:
        """This process. The id comes from the argument, ``$GAPSEARCH_WORKER_ID``, a Kubernetes Job's
        ``$JOB_COMPLETION_INDEX``, or is ``0``. Without ``seed_offset`` the sampler's seed is offset by a
        hash of host and id, so workers on different machines never draw the same sequence, and of the
        times a pool started this worker before (``$GAPSEARCH_WORKER_START``), so that a worker restarted
        after a death, or recycled, does not draw its predecessor's sequence once more."""
        worker_id = worker_id or os.environ.get(WORKER_ID_ENV) or os.environ.get("JOB_COMPLETION_INDEX") or "0"
        host = host_attributes()
        if seed_offset is None:
            start = os.environ.get(WORKER_START_ENV, "0")
            again = "" if start == "0" else f"/{start}"
            seed_offset = zlib.crc32(f"{host['hostname']}/{worker_id}{again}".encode()) % 1_000_000_007
        return cls(worker_id, host["hostname"], host["pid"], host["cuda_visible_devices"], seed_offset)

    @property
    def key(self) -> str:
        return worker_key(self.hostname, self.pid)

    def placement(self) -> Placement:
        """Where a trial this worker runs runs: recorded on the trial before it starts, and in the registry."""
        return Placement(self.hostname, self.pid, self.worker_id, self.cuda_visible_devices)


def note_worker(study: optuna.Study, worker: WorkerIdentity, activity: str, *, started: float) -> None:
    """Record in the study that ``worker`` is alive and what it is doing."""
    storage = storage_of(study)
    note = WorkerNote(worker.placement(), started=started, last_seen=time.time(), activity=activity)
    note.write(storage, storage.get_study_id_from_name(study.study_name))


def note_death(study: optuna.Study, hostname: str, pid: int, worker_id: str, how: str) -> None:
    """Record that worker process ``pid`` of ``hostname`` died, ``how`` (``killed by SIGKILL``, ``exited with
    code 1``), and now; what it noted itself (its GPU, its last activity, when it was last seen) stays."""
    storage = storage_of(study)
    study_id = storage.get_study_id_from_name(study.study_name)
    noted = WorkerNote.read(storage, study_id, hostname, pid) or WorkerNote(Placement(hostname, pid, worker_id))
    dataclasses.replace(noted, died=how, died_at=time.time()).write(storage, study_id)


def workers_seen(study: optuna.Study) -> list[WorkerNote]:
    """Every worker that ever noted itself in the study, most recently seen first."""
    storage = storage_of(study)
    return WorkerNote.read_all(storage, storage.get_study_id_from_name(study.study_name))


def note_budget(study: optuna.Study, budget: int) -> None:
    """Record the budget this run works to, so that ``gapsearch status`` shows it (not the file's n_trials)."""
    storage = storage_of(study)
    write_budget(storage, storage.get_study_id_from_name(study.study_name), budget)


def noted_budget(study: optuna.Study) -> int | None:
    """The budget of the last run or worker on ``study``; None if none noted one."""
    storage = storage_of(study)
    return read_budget(storage, storage.get_study_id_from_name(study.study_name))
