"""The GPU check: one worker against four sharing one GPU, float32 against bfloat16, on IMDB, in ten minutes.

Four sides, each a real `gapsearch run` of the same study for the same wall time (`--seconds`, 120 by
default) under KERAS_BACKEND=torch (the GPU machines have PyTorch and JAX, not TensorFlow):

- 1 worker, float32           `--gpus 0 --trials-per-gpu 1`
- 4 workers on GPU 0, float32 `--gpus 0 --trials-per-gpu 4`
- 1 worker, bfloat16          the same, with `mixed_precision: bfloat16`
- 4 workers on GPU 0, bfloat16

For each: finished trials per hour of the run's wall time (complete or pruned, start-up included), the
GPU's utilization sampled every second by `nvidia-smi` (mean and median over the side), and each worker
process's peak GPU memory (`nvidia-smi --query-compute-apps`). Results go to results/gpu.json, which the
benchmarks page renders; until a GPU machine has run it, the page says that no GPU figure exists.

The GPU machines reach no package index and hold neither TensorFlow nor gapsearch's other libraries
(Keras, Optuna, optuna-dashboard, SQLAlchemy, pydantic...). Here, with network, first:

    python -m tests.benchmarks.gpu --prepare

which downloads those libraries' wheels (the versions installed here, for the machines' Python 3.12)
and IMDB's train split into `.gpu/` (ignored by git, about 30 MB) and prints the one command to run there.

On any machine, to check that it works end to end without a GPU (tiny synthetic data, `--gpus none`,
a few seconds a side, nothing written to results/):

    python -m tests.benchmarks.gpu --dry-run
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.benchmarks._common import DATASETS, ROOT, cli_env, load_average, write_results

SIDES = {
    "1 worker, float32": (1, False),
    "4 workers on one GPU, float32": (4, False),
    "1 worker, bfloat16": (1, "bfloat16"),
    "4 workers on one GPU, bfloat16": (4, "bfloat16"),
}

STUDY = """\
name: gpu-check
metric: val_accuracy
direction: maximize
n_trials: 1000
seed: 1
sampler: {{type: random}}
pruner: {{type: none}}
data: {data}
model:
  max_tokens: 20000
  sequence_length: {length}
  encoder: conv1d
  kernel_size: 3
  dropout: 0.5
  learning_rate: 1.0e-3
  batch_size: 64
  epochs: {epochs}
  patience: 1
  mixed_precision: {precision}
search_space:
  embedding_dim: [64, 128, 256]
  filters: [128, 256]
  pooling: [max, average, attention]
"""


class GpuSampler:
    """Samples `nvidia-smi` every second in a thread: GPU utilization, and each process's GPU memory."""

    def __init__(self) -> None:
        self.available = shutil.which("nvidia-smi") is not None
        self.utilization: list[float] = []
        self.memory_by_pid: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> GpuSampler:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self.available:
            self._thread.join(timeout=10)

    def _query(self, *args: str) -> list[list[str]]:
        done = subprocess.run(["nvidia-smi", *args, "--format=csv,noheader,nounits"], capture_output=True, text=True)
        return [[cell.strip() for cell in line.split(",")] for line in done.stdout.splitlines() if line.strip()]

    def _sample(self) -> None:
        while not self._done.wait(1.0):
            for row in self._query("--query-gpu=utilization.gpu"):
                self.utilization.append(float(row[0]))
            for pid, used in self._query("--query-compute-apps=pid,used_memory"):
                self.memory_by_pid[int(pid)] = max(self.memory_by_pid.get(int(pid), 0.0), float(used))

    def summary(self) -> dict[str, Any]:
        if not self.available:
            return {"nvidia_smi": False}
        return {
            "nvidia_smi": True,
            "utilization_mean": statistics.fmean(self.utilization) if self.utilization else None,
            "utilization_median": statistics.median(self.utilization) if self.utilization else None,
            "samples": len(self.utilization),
            "peak_memory_mib_per_worker": sorted(self.memory_by_pid.values(), reverse=True),
        }


def run_side(folder: Path, name: str, config: dict[str, Any]) -> dict[str, Any]:
    import optuna

    workers, precision = SIDES[name]
    side = folder / name.replace(" ", "-").replace(",", "")
    side.mkdir()
    precision_value = json.dumps(precision)
    (side / "study.yaml").write_text(STUDY.format(precision=precision_value, **config["study"]))
    if config["dry_run"]:  # no GPU: the same number of worker processes, on the CPU
        placement = ["--gpus", "none", "--workers", str(workers)]
    else:
        placement = ["--gpus", "0", "--trials-per-gpu", str(workers)]
    timeout = ["--timeout", str(config["seconds"])]
    command = [sys.executable, "-m", "gapsearch", "run", "study.yaml", "--no-progress", *timeout, *placement]
    env = cli_env()
    started = time.monotonic()
    with GpuSampler() as sampler:
        done = subprocess.run(command, cwd=side, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"{name}: gapsearch run exited {done.returncode}\n{done.stderr[-3000:]}")
    study = optuna.load_study(study_name="gpu-check", storage=f"sqlite:///{side / 'gapsearch.db'}")
    finished = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    best = max((t.value for t in finished if t.value is not None), default=None)
    return {
        "side": name,
        "workers": workers,
        "precision": precision or "float32",
        "seconds": config["seconds"],
        "wall_seconds": round(wall, 1),
        "finished_trials": len(finished),
        # Over the run's whole wall time: trials still running at --timeout finish after it, and start-up counts.
        "trials_per_hour": round(len(finished) / wall * 3600, 1),
        "best_val_accuracy": best,
        "backends": sorted({str(t.user_attrs.get("backend")) for t in finished}),
        "devices": sorted({str(t.user_attrs.get("device")) for t in finished}),
        **sampler.summary(),
    }


#: What a GPU machine lacks of gapsearch's dependencies (its image has NumPy, SciPy, PyArrow, PyYAML,
#: click, tqdm, matplotlib, h5py, rich and the rest); the versions are this environment's.
CARRIED = (
    "keras", "namex", "optree", "optuna", "alembic", "colorlog", "mako", "sqlalchemy", "optuna-dashboard",
    "bottle", "pydantic", "pydantic-core", "annotated-types", "typing-inspection", "typing-extensions",
)  # fmt: skip
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
CARRY = ROOT / ".gpu"


def prepare() -> str:
    """Wheels and data for a GPU machine in ``.gpu/``; returns the command to run there."""
    import importlib.metadata

    wheels = CARRY / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    exclude = ROOT / ".git" / "info" / "exclude"
    if exclude.parent.is_dir() and "/.gpu/" not in (exclude.read_text() if exclude.exists() else ""):
        with exclude.open("a") as handle:
            handle.write("/.gpu/\n")
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in CARRIED]
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(wheels), *pins],
        check=True,
    )  # fmt: skip
    shutil.copyfile(DATASETS / "imdb" / "train.parquet", CARRY / "imdb-train.parquet")
    return (
        "python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "
        ".gpu/wheels/*.whl && export PYTHONPATH=/tmp/site KERAS_BACKEND=torch PYTHONUNBUFFERED=1 && "
        "python3 -m tests.benchmarks.gpu --data .gpu/imdb-train.parquet && cp tests/benchmarks/results/gpu.json $OUT/"
    )


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| side | backend, device | finished trials | trials per hour | GPU utilization (mean) "
        "| peak GPU memory per worker (MiB) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        utilization = f"{r['utilization_mean']:.0f}%" if r.get("utilization_mean") is not None else "-"
        memory = ", ".join(f"{m:.0f}" for m in r.get("peak_memory_mib_per_worker", [])) or "-"
        ran_on = f"{'/'.join(r['backends'])}, {'/'.join(r['devices'])}"
        rows.append(
            f"| {r['side']} | {ran_on} | {r['finished_trials']} | {r['trials_per_hour']} | {utilization} | {memory} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="No GPU: tiny synthetic data, a few seconds a side.")
    parser.add_argument("--prepare", action="store_true", help="Download what a GPU machine lacks into .gpu/.")
    parser.add_argument("--data", type=Path, default=DATASETS / "imdb" / "train.parquet", help="IMDB's train split.")
    parser.add_argument("--seconds", type=float, default=120.0, help="Wall time of each side's run.")
    args = parser.parse_args()
    if args.prepare:
        command = prepare()
        size = sum(path.stat().st_size for path in CARRY.rglob("*") if path.is_file())
        print(f"{CARRY.relative_to(ROOT)}/ holds {size / 2**20:.0f} MiB; on the GPU machine (carry .gpu), run:")
        print(command)
        return
    if args.dry_run:
        config = {
            "dry_run": True,
            "seconds": 4.0,
            "study": {"data": "{format: synthetic, n_examples: 200, max_length: 30}", "length": 30, "epochs": 1},
        }
    else:
        if not args.data.is_file():
            sys.exit(f"error: --data: no such file {args.data}; pass IMDB's train.parquet")
        config = {
            "dry_run": False,
            "seconds": args.seconds,
            "study": {"data": f"{{train: {args.data.resolve()}, validation_split: 0.2}}", "length": 400, "epochs": 2},
        }
    before = load_average()
    with tempfile.TemporaryDirectory(prefix="gapsearch-gpu-") as folder:
        results = []
        for name in SIDES:
            print(f"{name}: {config['seconds']:.0f}s ...", flush=True)
            results.append(run_side(Path(folder), name, config))
            print(f"  {results[-1]['finished_trials']} trials finished", flush=True)
    print(table(results))
    if args.dry_run:
        print("dry run: nothing written to tests/benchmarks/results/")
        return
    write_results(
        "gpu",
        {"seconds_per_side": config["seconds"], "sides": results, "load_before": before, "load_after": load_average()},
    )


if __name__ == "__main__":
    main()
