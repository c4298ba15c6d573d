"""Benchmark: what parallel workers cost and gain.

1. Coordination overhead: trials per second of trials that do nothing (a trivial objective
   through gapsearch's own storage, heartbeats and worker loop; no Keras) with 1, 2, 4 and 8
   worker processes on SQLite, PostgreSQL and MariaDB. The rate is finished trials over the
   time from the first trial's start to the last one's end, as the database recorded them,
   so process start-up is left out.
2. A real study: wall time of `gapsearch run studies/quickstart.yaml --n-trials 8` with 1 and
   2 workers on SQLite, start-up included.

Run from the repository root (the servers of tests/conftest.py must be up):

    python -m tests.benchmarks.workers            # everything: results/workers.json
    python -m tests.benchmarks.workers --skip-real --trials 100

``python -m tests.benchmarks.report`` renders the JSON into docs/pages/workers.md.

Timings depend on the machine; nothing asserts them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import optuna
import sqlalchemy

from gapsearch.workers.devices import WorkerSlot
from gapsearch.workers.pool import run_worker_processes
from gapsearch.workers.signals import StopSignals
from tests.benchmarks._common import load_average, write_results
from tests.workers.trivial_worker import create

ROOT = Path(__file__).resolve().parents[2]
SERVERS = {
    "PostgreSQL": (
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        "postgresql+psycopg://postgres@127.0.0.1:5432/",
    ),
    "MariaDB": ("mysql+pymysql://root@127.0.0.1:3306/", "mysql+pymysql://root@127.0.0.1:3306/"),
}


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database of ``kind``, dropped afterwards."""
    if kind == "SQLite":
        yield f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    admin_url, prefix = SERVERS[kind]
    name = f"gapsearch_bench_{uuid.uuid4().hex[:10]}"
    engine = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    try:
        yield prefix + name
    finally:
        with engine.connect() as connection:
            if kind == "PostgreSQL":
                connection.execute(
                    sqlalchemy.text(
                        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
                        "AND pid <> pg_backend_pid()"
                    )
                )
            connection.execute(sqlalchemy.text(f"DROP DATABASE {name}"))
        engine.dispose()


def trivial_rate(url: str, workers: int, trials: int) -> float:
    """Finished trials per second of trials that do nothing, with ``workers`` processes."""
    study = create(url, "bench", heartbeat=10, grace=30)
    command = [sys.executable, "-m", "tests.workers.trivial_worker", "bench", "--budget", str(trials)]
    command += ["--heartbeat", "10", "--grace", "30"]
    with StopSignals() as stop:
        result = run_worker_processes(
            [WorkerSlot(i, None) for i in range(workers)], command, storage_url=url, study=study, stop=stop
        )
    assert all(code == 0 for code in result.exit_codes.values()), result.exit_codes
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    assert len(done) == trials, len(done)
    span = max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)
    return trials / span.total_seconds()


def real_study_seconds(folder: Path, workers: int) -> float:
    """Wall time of the quickstart study cut to 8 trials, with ``workers`` processes."""
    url = f"sqlite:///{folder / f'real-{workers}.db'}"
    command = [sys.executable, "-m", "gapsearch", "run", str(ROOT / "studies" / "quickstart.yaml")]
    command += ["--storage", url, "--n-trials", "8", "--workers", str(workers), "--no-progress"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=os.environ)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="trials per measurement of the trivial objective")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--databases", nargs="+", default=["SQLite", "PostgreSQL", "MariaDB"])
    parser.add_argument("--skip-real", action="store_true", help="leave out the real 8-trial study")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    print(f"{os.cpu_count()} CPU cores; {args.trials} trials per measurement", file=sys.stderr)
    load_before = load_average()
    started = time.perf_counter()
    rates: dict[str, dict[str, float]] = {}
    real: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind in args.databases:
            rates[kind] = {}
            for workers in args.workers:
                with database(kind, folder) as url:
                    rates[kind][str(workers)] = round(trivial_rate(url, workers, args.trials), 2)
                print(f"  {kind} {workers} workers: {rates[kind][str(workers)]:.1f} trials/s", file=sys.stderr)
        if not args.skip_real:
            for workers in (1, 2):
                real[str(workers)] = round(real_study_seconds(folder, workers), 1)
                print(f"  quickstart, {workers} workers: {real[str(workers)]:.0f} s", file=sys.stderr)
    write_results(
        "workers",
        {
            "what": f"finished trials per second of trials that do nothing ({args.trials} trials each, worker "
            "start-up left out), and the quickstart study cut to 8 trials on SQLite, wall time with start-up",
            "trials": args.trials,
            "workers": args.workers,
            "trivial_trials_per_second": rates,
            "quickstart_8_trials_seconds": real,
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )


if __name__ == "__main__":
    main()
