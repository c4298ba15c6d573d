"""Several worker processes on one real database: the budget is exact, nothing is lost, crashes heal.

The workers run a trivial objective through gapsearch's own storage and worker loop, so
these tests exercise the coordination itself (the Keras side is tested in test_cli_workers).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import optuna
import pytest
import sqlalchemy

from tests.workers.conftest import SERVERS, own_lines, state_counts
from tests.workers.trivial_worker import create


def assert_exactly(url: str, name: str, *, complete: int, failed: int = 0) -> None:
    """The study holds exactly ``complete`` finished trials and nothing running.

    Workers that raced for the last slot of the budget and lost put their trial back unrun:
    such WAITING trials never got parameters, and the next run with a larger budget takes them first.
    """
    counts = state_counts(url, name)
    study = optuna.load_study(study_name=name, storage=url)
    odd = [
        (t.number, t.state.name, t.params, t.user_attrs, t.system_attrs)
        for t in study.get_trials(deepcopy=False)
        if t.state.name not in ("COMPLETE",)
    ]
    assert (counts["COMPLETE"], counts["FAIL"], counts["RUNNING"], counts["PRUNED"]) == (complete, failed, 0, 0), odd
    assert all(t.params == {} for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))


@pytest.mark.parametrize("server", SERVERS)
def test_three_workers_on_a_server_finish_exactly_the_budget(request, server, trivial_pool):
    url = request.getfixturevalue(server)
    create(url, "three")
    result = trivial_pool(url, "three", 3, "--budget", "9", "--sleep", "0.2", "--gather", "3")
    assert result.exit_codes == {0: 0, 1: 0, 2: 0}
    study = optuna.load_study(study_name="three", storage=url)
    trials = study.get_trials(deepcopy=False)
    assert_exactly(url, "three", complete=9)
    assert len({t.user_attrs["pid"] for t in trials}) == 3
    assert sorted({t.user_attrs["worker_id"] for t in trials}) == ["0", "1", "2"]


def test_four_local_workers_on_sqlite_never_fail(sqlite_url, trivial_pool):
    create(sqlite_url, "forty")
    result = trivial_pool(sqlite_url, "forty", 4, "--budget", "40")
    assert result.exit_codes == {0: 0, 1: 0, 2: 0, 3: 0}
    assert_exactly(sqlite_url, "forty", complete=40)
    with sqlalchemy.create_engine(sqlite_url).connect() as connection:
        assert connection.execute(sqlalchemy.text("PRAGMA journal_mode")).scalar() == "wal"


def test_a_worker_killed_mid_trial_is_retried_and_the_budget_is_still_met(sqlite_url, trivial_pool):
    create(sqlite_url, "crash", heartbeat=1, grace=3)
    killed: dict[str, int] = {}

    def kill_one_running_worker() -> None:
        study = optuna.load_study(study_name="crash", storage=sqlite_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # A trial that has its parameters: killed before sampling, its retry would sample anew.
            running = [
                t
                for t in study.get_trials(deepcopy=False)
                if t.state.name == "RUNNING" and "pid" in t.user_attrs and t.params
            ]
            if running and running[0].number >= 2:
                killed.update(number=running[0].number, pid=running[0].user_attrs["pid"])
                os.kill(running[0].user_attrs["pid"], signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_running_worker)
    killer.start()
    result = trivial_pool(sqlite_url, "crash", 2, "--budget", "8", "--sleep", "0.5", "--grace", "3")
    killer.join()
    assert killed, "no running trial to kill was seen"
    assert sorted(result.exit_codes.values()) == [-signal.SIGKILL, 0]
    study = optuna.load_study(study_name="crash", storage=sqlite_url)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    assert_exactly(sqlite_url, "crash", complete=8, failed=1)
    dead = trials[killed["number"]]
    assert dead.state.name == "FAIL"
    retried = [t for t in trials.values() if t.system_attrs.get("failed_trial") == dead.number]
    assert len(retried) == 1 and retried[0].state.name == "COMPLETE" and retried[0].params == dead.params
    assert retried[0].user_attrs["pid"] != killed["pid"]


@pytest.mark.postgres
def test_terminated_postgres_connections_lose_no_finished_trial(postgres_url, trivial_pool):
    create(postgres_url, "terminated")
    name = sqlalchemy.engine.make_url(postgres_url).database
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    seen_finished: dict[int, float] = {}
    terminations = []

    def terminate_now_and_then(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        seen_finished[trial.number] = trial.value
        if trial.number % 4 == 1:
            with admin.connect() as connection:
                killed = connection.execute(
                    sqlalchemy.text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                ).scalar()
            terminations.append(killed)

    result = trivial_pool(
        postgres_url, "terminated", 2, "--budget", "16", "--sleep", "0.2", watch=terminate_now_and_then
    )
    admin.dispose()
    assert result.exit_codes == {0: 0, 1: 0}
    assert len(terminations) >= 3 and sum(terminations) > 0, terminations
    study = optuna.load_study(study_name="terminated", storage=postgres_url)
    final = {t.number: t for t in study.get_trials(deepcopy=False)}
    assert_exactly(postgres_url, "terminated", complete=16)
    for number, value in seen_finished.items():
        if value is not None:
            assert final[number].state.name == "COMPLETE" and final[number].value == value


def test_a_worker_is_recycled_every_k_trials_and_its_successor_samples_afresh(sqlite_url, trivial_pool):
    create(sqlite_url, "recycled")
    lines: list[str] = []
    result = trivial_pool(sqlite_url, "recycled", 1, "--budget", "5", "--recycle-after", "2", lines=lines)
    assert (result.exit_codes, result.recycled, result.restarts) == ({0: 0}, 2, 0)
    assert own_lines(lines) == []  # a recycled worker is no death: nothing to report
    assert_exactly(sqlite_url, "recycled", complete=5)
    trials = optuna.load_study(study_name="recycled", storage=sqlite_url).get_trials(deepcopy=False)
    pids = [t.user_attrs["pid"] for t in trials]
    assert [pids.count(pid) for pid in dict.fromkeys(pids)] == [2, 2, 1]
    # Each process samples with its own seed: a successor does not draw its predecessor's values again.
    assert len({t.params["x"] for t in trials}) == 5
