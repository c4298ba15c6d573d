"""(d) Every pooling, masked and unmasked, on IMDB; and attention pooling's defaults chosen by measurement.

IMDB's long reviews of very varied length are where masking matters most. A sample of IMDB's
*train* file is split by gapsearch (``validation_split``, stratified, a function of the study's
seed): the test file is not read, so nothing here is chosen on it. For each seed two grid
studies run:

- ``poolings``: average, max, gem, mixed and flatten, each with ``mask_padding`` true and false;
- ``attention``: attention pooling with ``attention_heads`` 1 and 4 and ``attention_null`` false and
  true, each with ``mask_padding`` true and false.

Every text is padded to ``sequence_length`` (no length buckets), as a plain Keras model sees it,
so unmasked models really pool over padding. Each configuration's figure is its best-epoch
val_accuracy; means and 95% t-intervals run over the seeds, and masked-minus-unmasked
differences are paired by seed (the same split, the same data). The masked attention variant
with the highest mean becomes the default of ``attention_heads`` and ``attention_null``
(``tests/test_docs.py`` checks that the code's defaults are the ones measured best).

    python -m tests.benchmarks.masked_pooling [--quick]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.benchmarks._common import load_average, prepare_imdb, quiet_keras, write_results

MODEL = {
    "max_tokens": 20000,
    "sequence_length": 400,
    "embedding_dim": 32,
    "filters": 32,
    "attention_units": 32,
    "batch_size": 32,
    "epochs": 3,
    "patience": 0,
    "length_buckets": 0,
}
POOLINGS = ("average", "max", "gem", "mixed", "flatten")
HEADS, NULLS = (1, 4), (False, True)
VALIDATION_SPLIT = 0.25


def sample_tsv(source: Path, out: Path, n: int, seed: int) -> Path:
    """``n`` rows of ``source`` (a TSV with a header), chosen at random from ``seed``."""
    header, *rows = source.read_text(encoding="utf-8").splitlines()
    chosen = np.random.default_rng(seed).choice(len(rows), size=n, replace=False)
    out.write_text("\n".join([header, *(rows[i] for i in sorted(chosen))]) + "\n", encoding="utf-8")
    return out


def study_text(train: Path, name: str, seed: int, space: list[str], fixed: dict[str, Any], size: int) -> str:
    lines = [
        f"name: {name}",
        "metric: val_accuracy",
        "direction: maximize",
        f"n_trials: {size}",
        f"seed: {seed}",
        "sampler: {type: grid}",
        "pruner: {type: none}",
        f"data: {{format: tsv, train: {train}, validation_split: {VALIDATION_SPLIT}, text: text, label: label}}",
        "model:",
        *(f"  {key}: {value}" for key, value in {**MODEL, **fixed}.items()),
        "search_space:",
        *(f"  {line}" for line in space),
    ]
    return "\n".join(lines) + "\n"


def configuration(params: dict[str, Any]) -> str:
    """A trial's configuration without its masking, e.g. ``attention heads=4 null=true``."""
    if "pooling" in params:
        return str(params["pooling"])
    return f"attention heads={params['attention_heads']} null={str(params['attention_null']).lower()}"


def summarized(values: list[float]) -> dict[str, Any]:
    from gapsearch.stats import summarize

    return {"runs": [round(v, 4) for v in values], **summarize(values).as_dict()}


def main() -> None:
    quiet_keras()
    import optuna

    from gapsearch.spec import load_study
    from gapsearch.workers.launch import run_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    quick = "--quick" in sys.argv
    n_reviews, seeds = (800, [1, 2]) if quick else (6000, [1, 2, 3])
    studies = {
        "poolings": ([f"pooling: [{', '.join(POOLINGS)}]", "mask_padding: [true, false]"], {}, 2 * len(POOLINGS)),
        "attention": (
            [
                f"attention_heads: [{', '.join(map(str, HEADS))}]",
                f"attention_null: [{', '.join(str(n).lower() for n in NULLS)}]",
                "mask_padding: [true, false]",
            ],
            {"pooling": "attention"},
            2 * len(HEADS) * len(NULLS),
        ),
    }
    values: dict[str, dict[bool, list[float]]] = {}
    params: dict[str, int] = {}
    load_before = load_average()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gapsearch-bench-") as tmp:
        folder = Path(tmp)
        train = sample_tsv(prepare_imdb(folder, "train"), folder / "train.tsv", n_reviews, seed=0)
        url = f"sqlite:///{folder / 'masking.db'}"
        for seed in seeds:
            for kind, (space, fixed, size) in studies.items():
                path = folder / f"{kind}-{seed}.yaml"
                path.write_text(study_text(train, f"{kind}-{seed}", seed, space, fixed, size))
                run_study(load_study(path), storage_url=url)
                for trial in optuna.load_study(study_name=f"{kind}-{seed}", storage=url).get_trials(deepcopy=False):
                    name, masked = configuration(trial.params), bool(trial.params["mask_padding"])
                    values.setdefault(name, {True: [], False: []})[masked].append(float(trial.value))
                    params[name] = int(trial.user_attrs["params_total"])
                    print(f"  seed {seed} {name} mask_padding={str(masked).lower()}: {trial.value:.4f}", flush=True)
    rows = {}
    for name, by_mask in values.items():
        differences = [a - b for a, b in zip(by_mask[True], by_mask[False], strict=True)]
        rows[name] = {
            "params": params[name],
            "masked": summarized(by_mask[True]),
            "unmasked": summarized(by_mask[False]),
            "masked_minus_unmasked": summarized(differences),
        }
        print(f"(d) {name}: masked {rows[name]['masked']['mean']:.4f}, unmasked {rows[name]['unmasked']['mean']:.4f}")
    attention = [name for name in rows if name.startswith("attention ")]
    chosen = max(attention, key=lambda name: rows[name]["masked"]["mean"])
    heads, null = chosen.removeprefix("attention heads=").split(" null=")
    write_results(
        "masked_pooling",
        {
            "what": f"IMDB, {n_reviews} reviews sampled from train.parquet, {int(100 * VALIDATION_SPLIT)}% of them "
            f"held out for validation by gapsearch (stratified, by the study seed); each padded to "
            f"{MODEL['sequence_length']} tokens; best-epoch val_accuracy over seeds {seeds}; the test file is not read",
            "model": MODEL,
            "seeds": seeds,
            "seconds": round(time.perf_counter() - started, 1),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "rows": rows,
            "attention_defaults": {"attention_heads": int(heads), "attention_null": null == "true", "from": chosen},
        },
    )


if __name__ == "__main__":
    main()
