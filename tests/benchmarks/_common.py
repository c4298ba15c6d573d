"""What the benchmarks share: the real datasets as TSV, side runs in fresh processes, results as JSON.

Each side of a comparison runs in its own Python process (the same interpreter, the same imports),
and the sides take turns (A B A B ...) so that a change in the machine's load hits both alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT.parent / "shared" / "datasets"
RESULTS = Path(__file__).resolve().parent / "results"


def prepare_mr(folder: Path) -> Path:
    """MR (one latin-1 file per class) as ``mr.tsv`` with a ``text<TAB>label`` header; labels pos/neg."""
    out = folder / "mr.tsv"
    if out.exists():
        return out
    rows = ["text\tlabel"]
    for label in ("pos", "neg"):
        raw = (DATASETS / "mr" / f"rt-polarity.{label}").read_bytes()
        # Split on b"\n" only: the files hold byte 0x85, which str.splitlines() takes for a line break.
        lines = [line.decode("latin-1").replace("\t", " ").strip() for line in raw.split(b"\n")]
        rows.extend(f"{line}\t{label}" for line in lines if line)
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


def prepare_imdb(folder: Path, split: str = "train") -> Path:
    """IMDB's parquet split as ``imdb-<split>.tsv`` (text, label); tabs and newlines in texts become spaces."""
    import pyarrow.parquet as pq

    out = folder / f"imdb-{split}.tsv"
    if out.exists():
        return out
    table = pq.read_table(DATASETS / "imdb" / f"{split}.parquet", columns=["text", "label"]).to_pydict()
    rows = ["text\tlabel"]
    rows.extend(f"{' '.join(text.split())}\t{label}" for text, label in zip(table["text"], table["label"], strict=True))
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


def cli_env(root: Path = ROOT, **extra: str) -> dict[str, str]:
    """The environment of a `gapsearch` subprocess: the checkout at ``root`` (this one by default) first on
    the path (before any path the caller already has, such as a GPU machine's carried wheels), no inherited
    storage override, no C++ log."""
    env = {key: value for key, value in os.environ.items() if key != "GAPSEARCH_STORAGE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def shipped_study(name: str) -> str:
    """The text of ``studies/<name>`` with its dataset paths pointing at this checkout's ../shared/datasets,
    for a copy run from a temporary folder."""
    return (ROOT / "studies" / name).read_text().replace("../../shared/datasets", str(DATASETS))


def gapsearch_cli(*args: str, cwd: Path, root: Path = ROOT) -> str:
    """``gapsearch ARGS`` in a fresh process in ``cwd``, as a user runs it, with the code of the checkout at
    ``root`` (this one by default): its stdout, or SystemExit with stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "gapsearch", *args], cwd=cwd, env=cli_env(root), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"gapsearch {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout


def shown_command(args: Sequence[str]) -> str:
    """``gapsearch ARGS`` as a user types it (the progress bar's switch left out)."""
    words = ["gapsearch", *(a for a in args if a != "--no-progress")]
    return " ".join(f'"{w}"' if " " in w else w for w in words)


def record_commands(folder: Path, commands: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """Each ``gapsearch`` command of ``commands`` in turn in a fresh process in ``folder``, as a user runs
    it (no colour): the command as typed, what it printed (``folder`` shown as ``.``) and its seconds;
    SystemExit with stderr when one fails."""
    steps = []
    env = cli_env(NO_COLOR="1")
    for args in commands:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "gapsearch", *args], cwd=folder, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"{shown_command(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
        steps.append(
            {
                "command": shown_command(args),
                "output": done.stdout.replace(str(folder), "."),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    return steps


def run_side(
    module: str, side: str, config: dict[str, Any], *, env: dict[str, str] | None = None, root: Path = ROOT
) -> dict[str, Any]:
    """Run ``python -m module --side side`` in a fresh process, with the code of the checkout at ``root``
    (this one by default); its last stdout line is its JSON result."""
    command = [sys.executable, "-m", module, "--side", side, "--config", json.dumps(config)]
    process_env = {**os.environ, "PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    done = subprocess.run(command, cwd=root, env=process_env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{module} --side {side} at {root} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_side_in(tree: Path, script: Path, side: str, config: dict[str, Any]) -> dict[str, Any]:
    """Like :func:`run_side`, with the gapsearch (and ``tests`` package) of the checkout at ``tree``, such as
    another commit's worktree (:func:`worktree_at`) that lacks ``script``: the script runs by its path, so
    only what it imports must exist there. ``config`` must carry every path the side reads."""
    command = [sys.executable, str(script), "--side", side, "--config", json.dumps(config)]
    env = {**os.environ, "PYTHONPATH": str(tree), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} --side {side} at {tree} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def git(*args: str) -> str:
    """``git ARGS`` in this checkout: its stdout."""
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


@contextlib.contextmanager
def worktree_at(commit: str, folder: Path) -> Iterator[Path]:
    """A detached git worktree of ``commit`` at ``folder`` while the block runs, then removed."""
    git("worktree", "add", "--detach", str(folder), commit)
    try:
        yield folder
    finally:
        git("worktree", "remove", "--force", str(folder))


def interleaved(sides: Sequence[str], repeats: int, measure: Callable[[str], dict[str, Any]]) -> dict[str, list]:
    """``measure(side)`` for each side in turn, ``repeats`` rounds (A B A B ...)."""
    runs: dict[str, list] = {side: [] for side in sides}
    for round_number in range(repeats):
        for side in sides:
            started = time.perf_counter()
            result = measure(side)
            runs[side].append(result)
            print(
                f"  round {round_number + 1}/{repeats} {side}: {result.get('seconds', 0):.2f}s "
                f"(measured in {time.perf_counter() - started:.1f}s)",
                flush=True,
            )
    return runs


def median_of(results: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in results)


def load_average() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    """The machine and the libraries, for the results file."""
    import importlib.metadata as metadata

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("tensorflow", "keras", "optuna", "keras-tuner", "numpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "versions": versions,
    }


def write_results(name: str, payload: dict[str, Any], *, indent: int | None = 2) -> Path:
    """``results/<name>.json``, with the machine, the command and the load before and after; ``indent=None``
    writes it on one line (for results large enough that indentation would double them)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    body = {
        "benchmark": name,
        "command": "make bench  # or: " + " ".join(["python", "-m", f"tests.benchmarks.{name}", *sys.argv[1:]]),
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        **payload,
    }
    separators = (",", ":") if indent is None else None
    path.write_text(json.dumps(body, indent=indent, separators=separators) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def run_script(main: Callable[[], None], sides: dict[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> None:
    """A benchmark script's entry point: ``main()``, or with ``--side NAME --config JSON`` (how
    :func:`run_side` starts it) that one side, whose JSON result goes out as the last line of stdout."""
    if "--side" not in sys.argv:
        main()
        return
    side = sys.argv[sys.argv.index("--side") + 1]
    config = json.loads(sys.argv[sys.argv.index("--config") + 1])
    print(json.dumps(sides[side](config)), flush=True)


def quiet_keras() -> None:
    """Import Keras the way gapsearch does (no C++ start-up chatter)."""
    from gapsearch.runtime import import_keras

    import_keras()


def compare_values(study_file: str, model: dict[str, Any], param: str, values: Sequence[Any], seeds: int) -> dict:
    """``gapsearch compare --param PARAM`` on the shipped study ``study_file``, run first with one trial,
    ``model`` set in its model section and its search space reduced to ``param`` over ``values``: each
    value trains with the same ``seeds`` new seeds, scored on validation (the test set is not read).
    The stored comparison, what compare printed, and whether the study runs folds."""
    import tempfile

    import optuna
    import yaml

    spec = yaml.safe_load(shipped_study(study_file))
    spec["n_trials"] = 1
    spec.pop("sampler", None)
    spec["model"] = {key: value for key, value in {**spec.get("model", {}), **model}.items() if key != param}
    spec["search_space"] = {param: list(values)}
    with tempfile.TemporaryDirectory(prefix=f"gapsearch-compare-{param}-") as folder:
        (Path(folder) / study_file).write_text(yaml.safe_dump(spec, sort_keys=False))
        gapsearch_cli("run", study_file, "--no-progress", cwd=Path(folder))
        printed = gapsearch_cli(
            "compare", study_file, "--param", param, "--seeds", str(seeds), "--no-progress", cwd=Path(folder)
        )
        print(printed, flush=True)
        study = optuna.load_study(study_name=spec["name"], storage=f"sqlite:///{folder}/gapsearch.db")
        compared = study.user_attrs[f"compare:{param}"]
    return {"compare": compared, "printed": printed, "folds": bool(spec["data"].get("folds"))}


def write_comparison(
    name: str, dataset: str, param: str, values: Sequence[Any], measure: str, extra_model: dict | None = None
) -> None:
    """One validation-scored ``gapsearch compare --param PARAM`` on ``dataset``'s shipped study, written to
    ``results/NAME.json``: its embedding dimension pinned as the accuracy benchmark pins it, its pooling
    the one the poolings benchmark chose on validation, ``extra_model`` on top; ``--seeds`` from the
    command line (default 3). ``measure`` names the split the values are scored on."""
    import argparse

    from tests.benchmarks.accuracy import CASES, validation_choice

    parser = argparse.ArgumentParser(description=f"gapsearch compare --param {param} on {dataset}'s study")
    parser.add_argument("--seeds", type=int, default=3)
    seeds = parser.parse_args().seeds
    study_file, pinned, _ = CASES[dataset]
    chosen, _ = validation_choice(dataset, "pooling")
    model = {"embedding_dim": pinned["embedding_dim"], **chosen, **(extra_model or {})}
    started, load_before = time.perf_counter(), load_average()
    compared = compare_values(study_file, model, param, values, seeds)
    row = {
        "dataset": dataset,
        "study": f"studies/{study_file}",
        "pinned": model,
        "measure": measure,
        "compare": compared["compare"],
        "printed": compared["printed"],
        "seconds": round(time.perf_counter() - started, 1),
        "load_before": load_before,
        "load_after": load_average(),
    }
    write_results(name, {"seeds": seeds, "rows": [row]})
