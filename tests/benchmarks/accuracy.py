"""Accuracy of the shipped study files against the published references (Kim 2014, CNN-rand).

Each dataset's study file is run as a user runs it, with its searched parameters pinned to one
configuration (so that no search chooses among the figures reported here) and the study's own
seed. Where a validation benchmark has compared values on a set, the pinned value is the one it
found best there (``CHOSEN_ON_VALIDATION``): the pooling on SST-2's and SST-5's dev sets
(``results/poolings.json``) and on IMDB's validation split (``results/masked_pooling.json``), and
IMDB's vocabulary size (``results/vocabulary.json``). MR's pooling stays max, since its pooling
figures are scored on the folds that MR's figure here reports; SST-5 trained on phrases keeps Kim's
max, since no validation benchmark has compared poolings with that training set.

Kim's CNN-static and non-static: for MR, SST-2, SST-5 and SST-5 on phrases, three cases each
(``<set>-rand50``, ``-static``, ``-nonstatic``, ``VECTOR_STUDIES``): the pinned study at 50 dimensions, the
GloVe 6B 50d file's, with no vectors, frozen vectors and fine-tuned ones; SST-2's and SST-5's sentence study
over seeds 1, 2 and 3 (``SEEDS``: one test reading per seed, the row their mean with its interval).

Each time a case reads its test set (MR: its held-out folds), the reading goes into the ledger
``results/test_readings.json`` (:mod:`tests.benchmarks.readings`), which the table counts per row.

MR is scored by its 10-fold cross-validation (each fold at the epoch its inner validation split
chose), the others by ``gapsearch run`` on train and validation, then ``gapsearch evaluate`` on the
test split, which chooses nothing. Writes ``results/accuracy.json``; ``python -m
tests.benchmarks.report`` renders its table onto docs/pages/benchmarks.md and docs/pages/data.md, and a
summary into the README.

    python -m tests.benchmarks.accuracy [--only mr,sst2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from tests.benchmarks import readings
from tests.benchmarks._common import RESULTS, ROOT, gapsearch_cli, load_average, machine, shipped_study, write_results

#: case: (study file, the pinned values of its searched parameters, Kim's CNN-rand accuracy or the target).
#: A case without pinned values runs its study's whole search, as shipped; the test set scores the best trial.
CASES: dict[str, tuple[str, dict, float]] = {
    "mr": ("mr.yaml", {"embedding_dim": 128, "pooling": "max"}, 76.1),
    "sst2": ("sst2.yaml", {"embedding_dim": 128, "pooling": "max"}, 82.7),
    "sst2-search": ("sst2.yaml", {}, 82.7),
    "sst5": ("sst5.yaml", {"embedding_dim": 128, "pooling": "max"}, 45.0),
    "sst5-search": ("sst5.yaml", {}, 45.0),
    "sst5-phrases": ("sst5-phrases.yaml", {"embedding_dim": 128, "pooling": "max"}, 45.0),
    "imdb": ("imdb.yaml", {"embedding_dim": 64, "pooling": "max"}, 88.0),
    "imdb-all": ("imdb.yaml", {"embedding_dim": 64, "pooling": "max"}, 88.0),
    "imdb-search": ("imdb.yaml", {}, 88.0),
}
REFERENCE = {name: "target" if name.startswith("imdb") else "Kim 2014 CNN-rand" for name in CASES}
#: The GloVe file as a study next to the shipped ones names it (resolved against studies/ when run).
VECTORS = "../../shared/vectors/glove.6B.50d.txt.gz"
#: Kim's CNN-rand, CNN-static and CNN-non-static (word2vec, 300 dimensions), per set: the scale for the
#: GloVe rows. Each set's three rows are the same pinned study at 50 dimensions (the vectors' own), same seeds:
#: rand has no ``embedding``, static has the vectors frozen, non-static fine-tuned.
KIM_VECTORS = {"mr": (76.1, 81.0, 81.5), "sst2": (82.7, 86.8, 87.2), "sst5": (45.0, 45.5, 48.0)}
#: case suffix: (embedding.trainable, None for no vectors; Kim's name of the row)
VARIANTS = {"rand50": (None, "CNN-rand"), "static": (False, "CNN-static"), "nonstatic": (True, "CNN-non-static")}
#: case: the seeds it trains (each a run of the study with that seed, each reading the test set once); the
#: row's figure is their mean, with its interval. A case not listed runs the study's own seed once.
SEEDS: dict[str, tuple[int, ...]] = {}
#: (the cases' prefix, study file, seeds; none: the study's own, once) of each set's rand, static and non-static.
VECTOR_STUDIES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("mr", "mr.yaml", ()),
    ("sst2", "sst2.yaml", (1, 2, 3)),
    ("sst5", "sst5.yaml", (1, 2, 3)),
    ("sst5-phrases", "sst5-phrases.yaml", ()),
)
for _prefix, _study, _seeds in VECTOR_STUDIES:
    _kims = KIM_VECTORS[_prefix.split("-")[0]]
    for (_variant, (_trainable, _kim_name)), _kim in zip(VARIANTS.items(), _kims, strict=True):
        _case = f"{_prefix}-{_variant}"
        _pinned: dict = {"embedding_dim": 50, "pooling": "max"}
        if _trainable is not None:
            _pinned["embedding"] = {"vectors": VECTORS, "trainable": _trainable}
        CASES[_case] = (_study, _pinned, _kim)
        REFERENCE[_case] = f"Kim 2014 {_kim_name} ({'' if _trainable is None else 'word2vec, '}300 dimensions)"
        if _seeds:
            SEEDS[_case] = _seeds
#: Cases whose final model ``gapsearch evaluate --with-validation`` trains on train and validation (at the
#: epochs validation chose): IMDB's validation is carved from its 25,000 training reviews, all of which the
#: published IMDB figures train on; SST's dev sets and MR's inner splits stay out of training.
WITH_VALIDATION = {"imdb-all"}
#: study file: for each parameter a validation benchmark chose with that study's training set, that
#: benchmark's results JSON and what it measured on. The pooling comes first: the vocabulary benchmark runs
#: with the pooling chosen here.
CHOSEN_ON_VALIDATION: dict[str, dict[str, tuple[str, str]]] = {
    "sst2.yaml": {"pooling": ("poolings", "SST-2's dev set")},
    "sst5.yaml": {"pooling": ("poolings", "SST-5's dev set")},
    "imdb.yaml": {
        "pooling": ("masked_pooling", "a validation split of IMDB's train"),
        "max_tokens": ("vocabulary", "a validation split of IMDB's train"),
    },
}


def validation_choice(name: str, only: str | None = None) -> tuple[dict, str | None]:
    """The values validation benchmarks found best for the case's set (``only``: that parameter alone), and
    where they came from; nothing for a set without one (or a benchmark that has not run yet)."""
    chosen: dict = {}
    sources = []
    for param, (benchmark, measured_on) in CHOSEN_ON_VALIDATION.get(CASES[name][0], {}).items():
        path = RESULTS / f"{benchmark}.json"
        if (only is not None and param != only) or not path.exists():
            continue
        result = json.loads(path.read_text())
        if benchmark == "masked_pooling":
            masked = {key: row["masked"]["mean"] for key, row in result["rows"].items()}
            best, seeds = max(masked, key=masked.get).split()[0], len(result["seeds"])
        else:
            row = next(r for r in result["rows"] if r["dataset"] == name.split("-")[0])
            best, seeds = row["compare"]["best"], len(row["compare"]["seeds"])
        chosen[param] = best
        sources.append(f"{param} from results/{benchmark}.json, the best on {measured_on}, {seeds} seeds")
    return chosen, "; ".join(sources) or None


def pinned_study(name: str, folder: Path, seed: int | None = None) -> Path:
    """The study file with its data and vectors paths made absolute and, where the case pins them, its searched
    parameters pinned (one trial); a case without pinned values keeps the study's search. ``seed`` replaces the
    study's seed."""
    study, pinned, _ = CASES[name]
    pinned = {**pinned, **validation_choice(name)[0]} if pinned else pinned
    spec = yaml.safe_load(shipped_study(study))
    if seed is not None:
        spec["seed"] = seed
    if pinned:
        spec["n_trials"] = 1
        spec.pop("search_space", None)
        spec.pop("sampler", None)
        spec["model"] = {**spec.get("model", {}), **pinned}
        if "embedding" in pinned:
            vectors = (ROOT / "studies" / pinned["embedding"]["vectors"]).resolve()
            spec["model"]["embedding"] = {**pinned["embedding"], "vectors": str(vectors)}
    path = folder / study
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def measure(name: str) -> dict:
    """The case's row: one run, or (a case with ``SEEDS``) one per seed and their mean with its interval."""
    from gapsearch.stats import summarize

    seeds = SEEDS.get(name)
    if not seeds:
        return _measure_once(name)
    started, load_before = time.perf_counter(), load_average()
    runs = [_measure_once(name, seed) for seed in seeds]
    summary = summarize([run["accuracy"] for run in runs])
    row = {
        **runs[-1],
        "measure": f"{runs[-1]['measure']}, mean over seeds {', '.join(map(str, seeds))}",
        "accuracy": round(summary.mean, 2),
        "ci95": [round(summary.low, 2), round(summary.high, 2)],
        "seeds": list(seeds),
        "seed_values": [run["accuracy"] for run in runs],
        "validation_accuracy": round(statistics.fmean(run["validation_accuracy"] for run in runs), 2),
        "test_metrics": [run["test_metrics"] for run in runs],
        "seconds": round(time.perf_counter() - started, 1),
        "load_before": load_before,
    }
    row.pop("seed")
    row["meets_reference"] = row["accuracy"] >= row["reference"]
    print(f"{name}: {row['accuracy']:.2f} {row['ci95']} over seeds {seeds}", flush=True)
    return row


def _measure_once(name: str, seed: int | None = None) -> dict:
    """One run of the case (``seed``: in place of the study's own), its test reading recorded in the ledger."""
    import optuna

    from gapsearch.stats import summarize

    _, pinned, reference = CASES[name]
    chosen, chosen_by = validation_choice(name) if pinned else ({}, None)
    pinned = {**pinned, **chosen}
    with tempfile.TemporaryDirectory(prefix=f"gapsearch-accuracy-{name}-") as folder:
        path = pinned_study(name, Path(folder), seed)
        spec = yaml.safe_load(path.read_text())
        started = time.perf_counter()
        load_before = load_average()
        gapsearch_cli("run", path.name, "--no-progress", cwd=Path(folder))
        folds = bool(spec["data"].get("folds"))
        if not folds:
            extra = ("--with-validation",) if name in WITH_VALIDATION else ()
            gapsearch_cli("evaluate", path.name, *extra, cwd=Path(folder))
        seconds = time.perf_counter() - started
        study = optuna.load_study(study_name=spec["name"], storage=f"sqlite:///{folder}/gapsearch.db")
        trial = study.best_trial
        row: dict = {
            "case": name,
            "dataset": name.split("-")[0],
            "trials": len(study.trials),
            "best_params": trial.params,
            "study": f"studies/{CASES[name][0]}",
            "pinned": pinned,
            "chosen_on_validation": chosen_by,
            "reference": reference,
            "reference_name": REFERENCE[name],
            "seconds": round(seconds, 1),
            "load_before": load_before,
            "load_after": load_average(),
            "cpu": machine()["cpu"],
            "finished_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            **({"seed": seed} if seed is not None else {}),
        }
        if folds:
            values = list(trial.user_attrs["run_values"].values())
            summary = summarize(values)
            row |= {
                "measure": f"{len(values)}-fold cross-validated accuracy (epochs chosen on each fold's inner split)",
                "accuracy": round(100 * summary.mean, 2),
                "ci95": [round(100 * summary.low, 2), round(100 * summary.high, 2)],
                "fold_values": [round(v, 4) for v in values],
                "best_epochs": trial.user_attrs.get("run_best_epochs"),
            }
        else:
            test = study.user_attrs["test_metrics"]
            test = test.get(str(trial.number), test) if isinstance(test, dict) else test
            row |= {
                "measure": (
                    "test accuracy (gapsearch evaluate --with-validation: trained on train + validation, "
                    "epochs chosen on validation)"
                    if name in WITH_VALIDATION
                    else "test accuracy (gapsearch evaluate; epochs chosen on validation)"
                ),
                "accuracy": round(100 * float(_accuracy(test)), 2),
                "validation_accuracy": round(100 * float(trial.value), 2),
                "test_metrics": test,
            }
        row["meets_reference"] = row["accuracy"] >= reference
        with _WRITING:
            readings.record(row)
        print(
            f"{name}{'' if seed is None else f' seed {seed}'}: {row['accuracy']:.2f} (reference {reference}) "
            f"in {seconds:.0f}s",
            flush=True,
        )
        return row


def _accuracy(test: dict) -> float:
    for key in ("accuracy", "test_accuracy"):
        if key in test:
            return float(test[key])
    for value in test.values():
        if isinstance(value, dict):
            return _accuracy(value)
    raise KeyError(f"no accuracy in {test}")


#: The ledger and results/accuracy.json are written by one case at a time (``--jobs`` runs cases in threads).
_WRITING = threading.Lock()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(CASES), help="comma-separated cases (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="cases run at once, each in its own processes")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    out = ROOT / "tests" / "benchmarks" / "results" / "accuracy.json"

    def one(name: str) -> None:
        row = measure(name)
        with _WRITING:  # each case's row is written as it finishes, the others' kept as they stand
            previous = {}
            if out.exists():
                previous = {r.get("case", r["dataset"]): r for r in json.loads(out.read_text()).get("rows", [])}
            previous[name] = row
            write_results("accuracy", {"rows": [previous[n] for n in CASES if n in previous]})

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for done in [pool.submit(one, name) for name in names]:
            done.result()


if __name__ == "__main__":
    main()
