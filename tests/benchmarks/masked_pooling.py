"""(d) Masked against unmasked pooling on IMDB (long reviews of very varied length).

A gapsearch grid study over pooling (average, max, attention) x ``mask_padding`` (true, false),
repeated with several seeds. Every text is padded to ``sequence_length`` (no length buckets), as a
plain Keras model would see it, so the unmasked models really pool over padding: the padding's
embedding and the convolution's ``relu(bias)`` at padded steps. The validation split is a
sample of IMDB's test file, the training split a sample of its train file.

    python -m tests.benchmarks.masked_pooling [--quick]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

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
POOLINGS = ("average", "max", "attention")


def sample_tsv(source: Path, out: Path, n: int, seed: int) -> Path:
    """``n`` rows of ``source`` (a TSV with a header), chosen at random from ``seed``."""
    header, *rows = source.read_text(encoding="utf-8").splitlines()
    chosen = np.random.default_rng(seed).choice(len(rows), size=n, replace=False)
    out.write_text("\n".join([header, *(rows[i] for i in sorted(chosen))]) + "\n", encoding="utf-8")
    return out


def study_text(train: Path, validation: Path, name: str, seed: int) -> str:
    lines = [
        f"name: {name}",
        "metric: val_accuracy",
        "direction: maximize",
        f"n_trials: {len(POOLINGS) * 2}",
        f"seed: {seed}",
        "sampler: {type: grid}",
        "pruner: {type: none}",
        f"data: {{format: tsv, train: {train}, validation: {validation}, text: text, label: label}}",
        "model:",
        *(f"  {key}: {value}" for key, value in MODEL.items()),
        "search_space:",
        f"  pooling: [{', '.join(POOLINGS)}]",
        "  mask_padding: [true, false]",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    quiet_keras()
    import optuna

    from gapsearch.spec import load_study
    from gapsearch.workers.launch import run_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    quick = "--quick" in sys.argv
    n_train, n_validation, seeds = (600, 300, [1]) if quick else (6000, 3000, [1, 2])
    accuracies: dict[str, list[float]] = {}
    load_before = load_average()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gapsearch-bench-") as tmp:
        folder = Path(tmp)
        train = sample_tsv(prepare_imdb(folder, "train"), folder / "train.tsv", n_train, seed=0)
        validation = sample_tsv(prepare_imdb(folder, "test"), folder / "validation.tsv", n_validation, seed=0)
        for seed in seeds:
            path = folder / f"study-{seed}.yaml"
            path.write_text(study_text(train, validation, f"masking-{seed}", seed))
            url = f"sqlite:///{folder / 'masking.db'}"
            run_study(load_study(path), storage_url=url)
            for trial in optuna.load_study(study_name=f"masking-{seed}", storage=url).get_trials(deepcopy=False):
                key = f"{trial.params['pooling']} mask_padding={str(trial.params['mask_padding']).lower()}"
                accuracies.setdefault(key, []).append(float(trial.value))
                print(f"  seed {seed} {key}: val_accuracy {trial.value:.4f}", flush=True)
    rows = {}
    for pooling in POOLINGS:
        masked = statistics.fmean(accuracies[f"{pooling} mask_padding=true"])
        unmasked = statistics.fmean(accuracies[f"{pooling} mask_padding=false"])
        rows[pooling] = {
            "masked_val_accuracy": round(masked, 4),
            "unmasked_val_accuracy": round(unmasked, 4),
            "masked_minus_unmasked_points": round(100 * (masked - unmasked), 2),
        }
        print(f"(d) {pooling}: masked {masked:.4f}, unmasked {unmasked:.4f}")
    write_results(
        "masked_pooling",
        {
            "what": f"IMDB, {n_train} training reviews (train.parquet) and {n_validation} validation reviews "
            f"(test.parquet), each padded to {MODEL['sequence_length']} tokens; best-epoch val_accuracy, "
            f"mean over seeds {seeds}",
            "model": MODEL,
            "seeds": seeds,
            "seconds": round(time.perf_counter() - started, 1),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "pooling": rows,
            "runs": accuracies,
        },
    )


if __name__ == "__main__":
    main()
