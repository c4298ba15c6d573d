"""A study database that refuses connections, for shorter and for longer than the outage window.

The database is the test's own PostgreSQL database, closed with ``ALLOW_CONNECTIONS false`` and
its connections terminated, as a failover or a restart would leave it. Trivial workers run
gapsearch's own storage and worker loop, so what is tested is the coordination.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import optuna
import pytest
import sqlalchemy

from gapsearch.storage.retry import DatabaseLost
from tests.workers.conftest import state_counts
from tests.workers.trivial_worker import create

pytestmark = pytest.mark.postgres

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def running_with_params(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=url)
    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    return [t for t in trials if t.params and "pid" in t.user_attrs]


class Outage(threading.Thread):
    """Once ``workers`` trials are running, closes the test's database for ``seconds``, then opens it again."""

    def __init__(self, url: str, name: str, seconds: float, workers: int = 2) -> None:
        super().__init__(daemon=True)
        self.url, self.name, self.seconds, self.workers = url, name, seconds, workers
        self.database = sqlalchemy.engine.make_url(url).database
        self.running: list[optuna.trial.FrozenTrial] = []
        self.started_at = self.ended_at = 0.0

    def _admin(self, sql: str) -> None:
        engine = sqlalchemy.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(sql))
        engine.dispose()

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while len(self.running) < self.workers and time.monotonic() < deadline:
            self.running = running_with_params(self.url, self.name)
            time.sleep(0.05)
        self._admin(f"ALTER DATABASE {self.database} ALLOW_CONNECTIONS false")
        self._admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.database}' AND pid <> pg_backend_pid()"
        )
        self.started_at = time.monotonic()
        time.sleep(self.seconds)
        self._admin(f"ALTER DATABASE {self.database} ALLOW_CONNECTIONS true")
        self.ended_at = time.monotonic()


def test_an_outage_shorter_than_the_window_loses_no_trial_and_spends_no_retry(postgres_url, trivial_pool):
    create(postgres_url, "short", heartbeat=1, grace=3)
    # Longer than the grace period: every heartbeat looks stale when the database comes back.
    outage = Outage(postgres_url, "short", seconds=6)
    outage.start()
    lines: list[str] = []
    result = trivial_pool(postgres_url, "short", 2, "--budget", "6", "--sleep", "1.5", "--window", "30", lines=lines)
    outage.join()
    assert len(outage.running) == 2, "the outage began with both workers in a trial"
    # Each worker says once that its outage started and once that it ended, nothing more.
    for worker in ("worker 0", "worker 1"):
        mine = [line for line in lines if line.startswith(worker)]
        assert sum(": warning: lost the connection to " in line for line in mine) == 1, lines
        assert sum(" is back after " in line and "the trials in progress go on" in line for line in mine) == 1, lines
    assert result.exit_codes == {0: 0, 1: 0}
    study = optuna.load_study(study_name="short", storage=postgres_url)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    assert state_counts(postgres_url, "short") == {"COMPLETE": 6}
    assert not [t for t in trials.values() if "failed_trial" in t.system_attrs], "no retry was spent"
    for before in outage.running:  # the trials caught by the outage went on and finished
        assert trials[before.number].state.name == "COMPLETE" and trials[before.number].params == before.params


def test_an_outage_longer_than_the_window_ends_the_workers_and_the_next_run_retries_their_trials(
    postgres_url, trivial_pool
):
    create(postgres_url, "long", heartbeat=1, grace=3)
    outage = Outage(postgres_url, "long", seconds=9)
    outage.start()
    lines: list[str] = []
    # Each trial would take 30s and reports every half second, as a trial reports each epoch.
    arguments = ("--budget", "6", "--sleep", "30", "--report-every", "0.5", "--window", "4")
    result = trivial_pool(postgres_url, "long", 2, *arguments, lines=lines)
    gave_up_at = time.monotonic()
    outage.join()
    assert result.exit_codes == {0: DatabaseLost.exit_code, 1: DatabaseLost.exit_code}  # no dead-worker line
    # The window is one for the whole worker: both gave up before the database came back, not a window per call.
    assert gave_up_at < outage.ended_at and gave_up_at - outage.started_at < 4 + 5, (gave_up_at, outage.started_at)
    database = sqlalchemy.engine.make_url(postgres_url).render_as_string(hide_password=True)
    errors = [line for line in lines if ": error: " in line]
    started = [line for line in lines if ": warning: lost the connection to " in line]
    assert len(errors) == 2 and len(started) == 2, lines  # one line when each worker's outage starts, one at its end
    for line in errors:
        assert line.startswith("worker ") and "\n" not in line
        assert f": error: lost the connection to the study database {database} (while " in line
        assert "and it did not come back within 4s: " in line
    for line in started:
        assert f"the study database {database} (while " in line and "waiting up to 4s for it to come back" in line
    # Left RUNNING, not FAIL: an outage is no failure of the trial.
    assert state_counts(postgres_url, "long") == {"RUNNING": 2}

    result = trivial_pool(postgres_url, "long", 2, "--budget", "4", "--sleep", "0.2")
    assert result.exit_codes == {0: 0, 1: 0}
    study = optuna.load_study(study_name="long", storage=postgres_url)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    assert state_counts(postgres_url, "long") == {"COMPLETE": 4, "FAIL": 2}
    for lost in outage.running:
        # Failed by the stale-trial path on the next run, which says why; not as the trial's own failure.
        assert trials[lost.number].state.name == "FAIL"
        assert (
            trials[lost.number]
            .user_attrs["fail_reason"]
            .endswith("sent no heartbeat within the grace period: it died or was cut off")
        )
        retry = [t for t in trials.values() if t.system_attrs.get("failed_trial") == lost.number]
        assert len(retry) == 1 and retry[0].state.name == "COMPLETE" and retry[0].params == lost.params


def test_a_worker_that_starts_while_its_database_is_closed_waits_for_it_then_gives_up_in_one_line(postgres_url):
    from gapsearch.errors import DatabaseUnreachable
    from gapsearch.storage.database import open_storage

    open_storage(postgres_url).engine.dispose()  # Optuna's tables, as `gapsearch create` leaves them
    closing = Outage(postgres_url, "opening", seconds=1.5, workers=0)
    closing.start()
    while not closing.started_at:
        time.sleep(0.05)
    storage = open_storage(postgres_url, create=False, wait_seconds=30)  # the same retry as every later call
    assert closing.ended_at and time.monotonic() >= closing.ended_at
    assert [s.study_name for s in storage.get_all_studies()] == []
    storage.engine.dispose()
    closing.join()

    closing = Outage(postgres_url, "opening", seconds=3.5, workers=0)
    closing.start()
    while not closing.started_at:
        time.sleep(0.05)
    began = time.monotonic()
    with pytest.raises(DatabaseUnreachable) as caught:
        open_storage(postgres_url, create=False, wait_seconds=2)
    # Tries after 0.2, 0.4 and 0.8 s of backoff; the next would end past the 2 s.
    assert 1.2 < time.monotonic() - began < 3.5 and not closing.ended_at, "waited, and gave up before it opened"
    database = sqlalchemy.engine.make_url(postgres_url).database
    assert str(caught.value) == (
        f'cannot reach the study database {postgres_url}: connection failed: connection to server at "127.0.0.1", '
        f'port 5432 failed: FATAL: database "{database}" is not currently accepting connections'
    )
    assert caught.value.exit_code == 2
    closing.join()


@pytest.mark.mysql
def test_sigterm_on_mariadb_stops_cleanly_and_queues_the_trial_again(mysql_url, trivial_pool):
    create(mysql_url, "stop", heartbeat=1, grace=3)
    stopped: list[optuna.trial.FrozenTrial] = []

    def stop_the_worker() -> None:
        deadline = time.monotonic() + 60
        while not stopped and time.monotonic() < deadline:
            stopped.extend(running_with_params(mysql_url, "stop"))
            time.sleep(0.05)
        stopped[1:] = []
        os.kill(stopped[0].user_attrs["pid"], signal.SIGTERM)

    stopper = threading.Thread(target=stop_the_worker)
    stopper.start()
    began = time.monotonic()
    result = trivial_pool(mysql_url, "stop", 1, "--budget", "3", "--sleep", "20")
    stopper.join()
    assert result.exit_codes == {0: 0} and time.monotonic() - began < 20
    study = optuna.load_study(study_name="stop", storage=mysql_url)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    halted = trials[stopped[0].number]
    assert halted.state.name == "FAIL" and halted.user_attrs["fail_reason"] == "the worker was stopped by SIGTERM"
    retry = [t for t in trials.values() if t.system_attrs.get("failed_trial") == halted.number]
    assert len(retry) == 1 and retry[0].state.name == "WAITING" and retry[0].params == halted.params
