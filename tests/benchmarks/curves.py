"""The learning-curve table: every configuration of a fixed grid, trained as a gapsearch trial trains it.

Searchers are compared the way the field compares them (LCBench, HPOBench, YAHPO Gym): each configuration
of a space is trained once per seed with every epoch recorded, and each searcher is then replayed hundreds
of times against the table on a simulated clock (:mod:`tests.benchmarks.replay`). This module builds the
table.

Each (configuration, seed) is one training run built and trained by the product's own code
(:func:`gapsearch.search.runs.fit_run`: the builder, length buckets, the optimizer, the metrics) on the
product's own data path (:class:`gapsearch.data.cache.StudyData`: reading, the validation split of the
training data, the vocabulary), with early stopping off so that every epoch of :data:`EPOCHS` is
recorded (the replay applies early stopping as the product does). The test split is never read: the
data sections below name none. Each epoch keeps its validation and training metrics and its seconds;
the first epoch's seconds include building the model and tracing the steps, as a trial pays them.

Runs go seed by seed over the whole grid (every configuration once, then again with the next seed), so
that a table cut short still holds every configuration. Each finished run is appended at once to
``results/curves/<dataset>.jsonl.gz`` (one gzip member per line): a run that is stopped continues where
it stopped, and a partial table can be committed and grown later.

    python -m tests.benchmarks.curves [--dataset mr] [--dataset sst5] [--dataset imdb] [--minutes M]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

from tests.benchmarks._common import DATASETS, RESULTS, ROOT, load_average, machine, quiet_keras

#: The grid: 2 x 4 x 2 x 2 x 2 x 2 = 128 configurations. The poolings include the two adaptive ones
#: (attention and gem learn how to pool); the learning rates are ten times apart, so that slow starters
#: which finish well and fast starters which stall are both in it: the case that first-epoch pruning
#: gets wrong.
GRID: dict[str, list[Any]] = {
    "embedding_dim": [32, 128],
    "pooling": ["average", "max", "attention", "gem"],
    "filters": [64, 192],
    "kernel_size": [3, 5],
    "learning_rate": [5.0e-4, 5.0e-3],
    "dropout": [0.0, 0.5],
}
EPOCHS = 6
SEEDS = (1, 2, 3)
#: What every configuration shares: gapsearch's defaults but for the epochs (early stopping off here,
#: applied by the replay) and the vocabulary.
FIXED: dict[str, Any] = {"max_tokens": 20000, "sequence_length": "auto", "epochs": EPOCHS, "patience": 0}
#: IMDB's long reviews: a seeded sample of the training reviews (the test reviews are not read), each cut to
#: its first 300 tokens, so that its table takes about as long as MR's (a review has a median of 174 words).
IMDB_SAMPLE = 2500
BY_DATASET: dict[str, dict[str, Any]] = {"imdb": {"sequence_length": 300}}
TABLES = RESULTS / "curves"
WORK = ROOT / "build" / "bench" / "curves"


def configurations() -> list[dict[str, Any]]:
    """Every configuration of :data:`GRID`, in a fixed order."""
    names = list(GRID)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*GRID.values())]


def config_key(config: dict[str, Any]) -> str:
    """A configuration's name in the table: its values in :data:`GRID`'s order."""
    return "/".join(f"{name}={config[name]}" for name in GRID)


def data_section(dataset: str) -> dict[str, Any]:
    """The study file's ``data:`` section for ``dataset``: a validation set from the training data only."""
    if dataset == "mr":
        return {
            "format": "class_files",
            "train": {label: str(DATASETS / "mr" / f"rt-polarity.{label}") for label in ("pos", "neg")},
            "encoding": "latin-1",
            "validation_split": 0.2,
        }
    if dataset == "sst5":
        # SST-5's own dev set is its validation set, as the shipped study has it; test.tsv is not named.
        return {
            "train": str(DATASETS / "sst5" / "train.tsv"),
            "validation": str(DATASETS / "sst5" / "dev.tsv"),
            "text": "sentence",
            "label": "label",
        }
    if dataset == "imdb":
        return {"train": str(imdb_sample()), "text": "text", "label": "label", "validation_split": 0.2}
    raise SystemExit(f"unknown dataset {dataset!r}: mr, sst5 or imdb")


def imdb_sample() -> Path:
    """:data:`IMDB_SAMPLE` reviews of IMDB's training split, drawn with a fixed seed, as a TSV."""
    import numpy as np
    import pyarrow.parquet as pq

    out = WORK / f"imdb-train-{IMDB_SAMPLE}.tsv"
    if out.exists():
        return out
    table = pq.read_table(DATASETS / "imdb" / "train.parquet", columns=["text", "label"]).to_pydict()
    rows = np.random.default_rng(0).permutation(len(table["text"]))[:IMDB_SAMPLE]
    lines = ["text\tlabel", *(f"{' '.join(table['text'][i].split())}\t{table['label'][i]}" for i in sorted(rows))]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def study_body(dataset: str) -> dict[str, Any]:
    """The study file every run of ``dataset``'s table is built from (its search space is the grid)."""
    return {
        "name": f"curves-{dataset}",
        "metric": "val_accuracy",
        "direction": "maximize",
        "n_trials": len(configurations()),
        "seed": 0,
        "data": data_section(dataset),
        "model": {**FIXED, **BY_DATASET.get(dataset, {})},
        "search_space": {name: list(values) for name, values in GRID.items()},
    }


def table_path(dataset: str) -> Path:
    return TABLES / f"{dataset}.jsonl.gz"


def read_table(dataset: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The table's header and its runs so far (none when it does not exist yet)."""
    path = table_path(dataset)
    if not path.exists():
        return None, []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle if line.strip()]
    header = next((line for line in lines if line["kind"] == "header"), None)
    return header, [line for line in lines if line["kind"] == "run"]


def _append(dataset: str, record: dict[str, Any]) -> None:
    # One gzip member per line: appending never rewrites what is there, and gzip reads the members as one.
    table_path(dataset).parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(table_path(dataset), "at", encoding="utf-8") as handle:
        handle.write(json.dumps(record, separators=(",", ":")) + "\n")


def _grid_digest(dataset: str) -> str:
    settings = [GRID, FIXED, EPOCHS] + ([BY_DATASET[dataset]] if dataset in BY_DATASET else [])
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def plan(dataset: str) -> list[tuple[dict[str, Any], int]]:
    """The (configuration, seed) runs still to train, seed by seed over the whole grid."""
    header, runs = read_table(dataset)
    if header is not None and header["grid_digest"] != _grid_digest(dataset):
        raise SystemExit(f"{table_path(dataset)} was built from another grid: move it away to build a new table")
    done = {(run["key"], run["seed"]) for run in runs}
    return [(config, seed) for seed in SEEDS for config in configurations() if (config_key(config), seed) not in done]


def build(dataset: str, *, deadline: float) -> int:
    """Train ``dataset``'s missing runs until they are done or ``deadline`` (a perf_counter time) passes."""
    import tempfile

    import yaml

    from gapsearch.search.runner import load_data
    from gapsearch.search.runs import TrainingRun, fit_run
    from gapsearch.search.space import hyperparameters
    from gapsearch.spec import load_study

    todo = plan(dataset)
    if not todo:
        return 0
    quiet_keras()
    with tempfile.TemporaryDirectory(prefix=f"gapsearch-curves-{dataset}-") as folder:
        study_file = Path(folder) / "study.yaml"
        study_file.write_text(yaml.safe_dump(study_body(dataset), sort_keys=False))
        spec = load_study(study_file)
        data = load_data(spec)
        header, _ = read_table(dataset)
        if header is None:
            _append(dataset, _header(dataset, spec, data))
        trained = 0
        length = sequence_length(spec, data)  # the same for every run
        for config, seed in todo:
            if time.perf_counter() > deadline:
                break
            hp = hyperparameters(spec.fixed, config).model_copy(update={"sequence_length": length})
            (name, arrays), *_ = data.runs(hp.max_tokens, length)
            run = TrainingRun(name=name, seed=seed, data=arrays)
            marks: list[float] = []
            costs: dict[str, float] = {}
            load_before = load_average()
            started = time.perf_counter()
            result = fit_run(
                hp,
                run,
                n_classes=len(data.info.class_names),
                task=data.info.task,
                monitor=spec.monitored,
                metrics=spec.compiled_metrics,
                latency=False,  # as a trial measures it: only a study with latency_ms among its costs times it
                confusion=True,  # as a trial's first run: its confusion counts are an artifact
                report=lambda epoch, value, marks=marks: marks.append(time.perf_counter()),
                on_costs=lambda measured, costs=costs: costs.update(measured.values()),
            )
            ends = [started, *marks]
            record = {
                "kind": "run",
                "key": config_key(config),
                "config": config,
                "seed": seed,
                "params": int(costs.get("params", 0)),
                "flops": int(costs.get("flops", 0)),
                "seconds": [round(b - a, 4) for a, b in itertools.pairwise(ends)],
                "history": {
                    metric: [round(float(v), 6) for v in values]
                    for metric, values in result.history.items()
                    if metric in ("loss", "accuracy", "val_loss", "val_accuracy")
                },
                "load": [load_before, load_average()],
            }
            _append(dataset, record)
            trained += 1
            done = len(configurations()) * len(SEEDS) - len(todo) + trained
            print(
                f"{dataset} {done}/{len(configurations()) * len(SEEDS)} seed {seed} {record['key']}: "
                f"val_accuracy {max(record['history']['val_accuracy']):.4f} in {sum(record['seconds']):.1f}s",
                flush=True,
            )
        return trained


def sequence_length(spec: Any, data: Any) -> int:
    """The tokens kept per text: the study's ``sequence_length``, or with ``auto`` the training lengths'
    percentile, as a trial resolves it."""
    fixed = spec.fixed.get("sequence_length", "auto")
    return int(fixed) if fixed != "auto" else data.info.sequence_length(spec.data.sequence_length_percentile)


def _header(dataset: str, spec: Any, data: Any) -> dict[str, Any]:
    return {
        "kind": "header",
        "dataset": dataset,
        "grid": GRID,
        "fixed": {**FIXED, **BY_DATASET.get(dataset, {})},
        "epochs": EPOCHS,
        "seeds": list(SEEDS),
        "grid_digest": _grid_digest(dataset),
        "study": study_body(dataset) | {"data": _relative_data(dataset)},
        "counts": dict(data.info.counts),
        "sequence_length": sequence_length(spec, data),
        "metric": "val_accuracy",
        "machine": machine(),
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def _relative_data(dataset: str) -> dict[str, Any]:
    """The data section with paths from the checkout's root (``../shared/...``), as the table records it."""
    text = json.dumps(data_section(dataset)).replace(str(ROOT.parent) + os.sep, "../").replace(str(ROOT) + os.sep, "")
    return json.loads(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", action="append", choices=("mr", "sst5", "imdb"))
    parser.add_argument("--minutes", type=float, default=None, help="Stop starting runs after this many minutes.")
    args = parser.parse_args()
    deadline = time.perf_counter() + (args.minutes * 60 if args.minutes else float("inf"))
    for dataset in args.dataset or ["mr", "sst5", "imdb"]:
        build(dataset, deadline=deadline)
        header, runs = read_table(dataset)
        print(f"{table_path(dataset).relative_to(ROOT)}: {len(runs)} of {len(configurations()) * len(SEEDS)} runs")


if __name__ == "__main__":
    main()
