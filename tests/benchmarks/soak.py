"""Benchmark: a worker's resident memory over a long study, with and without ``workers.recycle_after``.

A tiny synthetic study (so that a trial takes a second or two) runs ``--trials`` trials (500) at gapsearch's
default sampler and pruner (TPE after 5 random trials, successive halving on each run's best so far), as a
user runs it: ``gapsearch run soak.yaml`` with one worker, that is in the child process the command starts
and watches, on a SQLite study database. Once as it ships (no recycling) and once with
``workers: {recycle_after: 50}``, where that child ends every 50 trials and the command starts a fresh one;
the two run side by side, each in its own folder, with the same seed.

The worker's resident memory (VmRSS of ``/proc/PID/status``; the worker is the command's child process,
found in ``/proc``) is read from outside after every trial, when ``run`` prints the trial's line; a thread
also reads it every 0.2 s. A trial whose line was read after its worker had exited (the last trial of a
recycled process: the trial records the pid it ran in) takes its worker's last reading. The figures are
the worker's memory after trial 50 and after trial 500. The target (issue 40): with recycling, memory
after 500 trials within 20% of memory after 50.

    python -m tests.benchmarks.soak [--trials 500] [--recycle-after 50]

Writes results/soak.json; ``python -m tests.benchmarks.report`` renders it into docs/pages/benchmarks.md,
with a plot in docs/pages/images/soak.png.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.benchmarks._common import cli_env, load_average, write_results

#: The study: small enough that a trial takes about a second on two busy cores; sampler and pruner left out,
#: so that gapsearch's defaults choose and prune.
STUDY = """\
name: soak
metric: val_accuracy
direction: maximize
n_trials: {trials}
seed: 0
data: {{format: synthetic, n_examples: 160, min_length: 4, max_length: 16}}
model:
  max_tokens: 200
  sequence_length: 16
  epochs: 3
  patience: 0
  batch_size: 40
  filters: 8
search_space:
  embedding_dim: {{low: 4, high: 64}}
  pooling: [average, max, attention]
  attention_units: {{low: 4, high: 32, when: {{pooling: attention}}}}
"""
#: Issue 40's target: with recycling, a worker's memory after 500 trials within this share of its memory after 50.
TARGET = 0.20
#: The trials at which the figures are read (the last one is --trials).
CHECKPOINTS = (50,)
SAMPLE_SECONDS = 0.2


def rss_mib(pid: int) -> float | None:
    """The resident memory of process ``pid`` in MiB (None: it has exited)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def child_of(parent: int) -> int | None:
    """A live child process of ``parent`` (the worker that ``gapsearch run`` watches), or None."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            return int(entry.name)
    return None


class WorkerWatch(threading.Thread):
    """Follows the worker process of a ``gapsearch run`` command: its pid and its latest resident memory."""

    def __init__(self, command_pid: int) -> None:
        super().__init__(daemon=True)
        self.command_pid = command_pid
        self.pid: int | None = None
        self.last: dict[int, float] = {}  # each worker's latest reading
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.read()

    def read(self) -> tuple[int | None, float | None]:
        """The worker's pid and resident memory now; once it has exited, the next worker's."""
        if self.pid is None or rss_mib(self.pid) is None:
            self.pid = child_of(self.command_pid) or self.pid
        if self.pid is None:
            return None, None
        rss = rss_mib(self.pid)
        if rss is not None:
            self.last[self.pid] = rss
        return self.pid, rss


def soak(folder: Path, trials: int, recycle_after: int | None, *, label: str = "") -> dict[str, Any]:
    """``gapsearch run soak.yaml`` in ``folder`` with the worker's memory read after every trial."""
    import optuna

    text = STUDY.format(trials=trials)
    if recycle_after is not None:
        text += f"workers: {{recycle_after: {recycle_after}}}\n"
    (folder / "soak.yaml").write_text(text)
    args = ["run", "soak.yaml", "--no-progress"]
    started = time.perf_counter()
    with open(folder / "stderr.txt", "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gapsearch", *args],
            cwd=folder,
            env=cli_env(PYTHONUNBUFFERED="1"),  # each trial's line as it is printed
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        watch = WorkerWatch(process.pid)
        watch.start()
        read: list[tuple[int, int | None, float | None, float]] = []  # trial, worker pid, MiB, seconds
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("trial "):
                pid, rss = watch.read()
                read.append((int(line.split()[1]), pid, rss, time.perf_counter() - started))
                if len(read) % 50 == 0:
                    print(f"  {label}: {len(read)} trials, worker {pid} at {rss} MiB", file=sys.stderr, flush=True)
        process.wait()
        watch.done.set()
    if process.returncode != 0:
        raise SystemExit(f"gapsearch run exited {process.returncode}:\n{(folder / 'stderr.txt').read_text()[-3000:]}")
    study = optuna.load_study(study_name="soak", storage=f"sqlite:///{folder / 'gapsearch.db'}")
    trials_run = study.get_trials(deepcopy=False)
    states = Counter(t.state.name for t in trials_run)
    # Each trial's own worker, as the trial recorded it: a line read just after its worker exited (the last
    # trial of a recycled process) may have been read against the next one; it takes its own worker's last reading.
    ran_in = {t.number: t.user_attrs["pid"] for t in trials_run}
    processes: dict[int, int] = {}  # worker pid -> its number, 1, 2, ... in order of start
    samples: list[list[Any]] = []  # [finished trials, worker number, MiB, seconds since the start]
    for trial, pid, rss, seconds in read:
        own = ran_in[trial]
        mib = rss if pid == own and rss is not None else watch.last.get(own)
        number = processes.setdefault(own, len(processes) + 1)
        samples.append([len(samples) + 1, number, None if mib is None else round(mib, 1), round(seconds, 1)])
    at = {str(n): samples[n - 1][2] for n in (*CHECKPOINTS, trials) if n <= len(samples)}
    return {
        "command": "gapsearch " + " ".join(a for a in args if a != "--no-progress"),
        "recycle_after": recycle_after,
        "samples": samples,
        "rss_mib_at": at,
        "peak_rss_mib": max(s[2] for s in samples if s[2] is not None),
        "processes": len(processes),
        "states": dict(states),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--recycle-after", type=int, default=50)
    args = parser.parse_args()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    load_before = load_average()
    started = time.perf_counter()
    plan = {"no recycling": None, f"recycle_after: {args.recycle_after}": args.recycle_after}

    def side(name: str) -> dict[str, Any]:
        print(f"{name}: {args.trials} trials", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="gapsearch-soak-") as folder:
            result = soak(Path(folder), args.trials, plan[name], label=name)
        print(f"  {name}: {result['rss_mib_at']} MiB in {result['seconds']:.0f} s", file=sys.stderr, flush=True)
        return result

    # Side by side, each its own `gapsearch run` in its own folder: what is measured is memory, which the other
    # side's CPU time does not change, and two cores run both in the time of one.
    with ThreadPoolExecutor(max_workers=len(plan)) as pool:
        sides = dict(zip(plan, pool.map(side, plan), strict=True))
    recycled = sides[f"recycle_after: {args.recycle_after}"]["rss_mib_at"]
    first, last = recycled[str(CHECKPOINTS[0])], recycled[str(args.trials)]
    write_results(
        "soak",
        {
            "what": f"the resident memory of the worker of `gapsearch run` (one worker: the child process the "
            f"command watches) after each of {args.trials} trials of a tiny synthetic study at the default sampler "
            "and pruner, on SQLite, read from /proc after each trial's line",
            "study": STUDY.format(trials=args.trials),
            "trials": args.trials,
            "checkpoints": [*CHECKPOINTS, args.trials],
            "sides_ran": "side by side, each its own `gapsearch run` in its own temporary folder",
            "sides": sides,
            "target": {
                "rule": f"with recycling, the worker's memory after {args.trials} trials within {TARGET:.0%} of its "
                f"memory after {CHECKPOINTS[0]}",
                "ratio": round(last / first, 3),
                "met": abs(last / first - 1) <= TARGET,
            },
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )


if __name__ == "__main__":
    main()
