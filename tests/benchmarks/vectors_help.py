"""Pre-trained vectors on MR: CNN-rand, CNN-static and CNN-non-static, before and after each change.

The shipped MR model (``studies/mr.yaml``: widths 3, 4 and 5 with 100 maps each, dropout 0.5, max-norm 3,
Adam, batch 50, 6 epochs with patience 2) at 50 dimensions with max pooling, on one stratified 10% validation
split of MR (seed 1), each variant trained with the same 3 seeds (the seeds ``repeats: 3`` gives a trial),
scored by its best epoch's validation accuracy. The test split is not read (MR has none).
``embedding: {vectors: ../shared/vectors/glove.6B.50d.txt.gz, trainable: false}`` is static, ``true``
non-static; rand has no ``embedding``.

Each step trains in a fresh process:

- ``before``: the code of ``--before`` (the last commit before the fix), checked out in a temporary worktree:
  the vectors enter the embedding at the file's own scale.
- ``after``: this checkout: the vectors enter at unit length (``LookedUpVectors.unit_length``).
- Ablations on this checkout, one change at a time, each patched into the product for the run only:
  ``keras_scale`` (the vectors scaled so their standard deviation is that of Keras' default embedding
  initializer, uniform(-0.05, 0.05), instead of unit length), ``oov_keras`` (words without a vector start
  as Keras' uniform(-0.05, 0.05) instead of Kim's noise of the vectors' variance) and ``clitics`` (the text
  tokenized as GloVe's was: ``don't`` as ``do n't``, ``film's`` as ``film 's``; rand too, since it changes the
  vocabulary).

Writes ``results/vectors_help.json``; ``python -m tests.benchmarks.report`` renders it on docs/pages/data.md.

    python -m tests.benchmarks.vectors_help [--before COMMIT] [--only before,after,...] [--epochs 6]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

# Only names the --before commit's tests/benchmarks/_common.py has too: a side imports this module there.
from tests.benchmarks._common import DATASETS, ROOT, load_average, run_script, write_results

VECTORS = ROOT.parent / "shared" / "vectors" / "glove.6B.50d.txt.gz"
#: The last commit whose embedding started from the vectors at the file's scale.
BEFORE = "73f503d"
SEEDS = 3
VARIANTS = ("rand", "static", "nonstatic")
#: Each step: where its code comes from, which variants it trains, and what it changes.
STEPS: dict[str, dict[str, Any]] = {
    "before": {"tree": "before", "variants": VARIANTS, "what": "the vectors at the file's scale (the code before)"},
    "after": {"tree": "here", "variants": VARIANTS, "what": "the vectors at unit length (this checkout)"},
    "keras_scale": {
        "tree": "here",
        "variants": ("static", "nonstatic"),
        "what": "the vectors scaled to the standard deviation of Keras' random embedding, uniform(-0.05, 0.05), "
        "in place of unit length",
    },
    "oov_keras": {
        "tree": "here",
        "variants": ("static", "nonstatic"),
        "what": "words without a vector start as Keras' uniform(-0.05, 0.05) in place of Kim's noise of the "
        "vectors' variance",
    },
    "clitics": {
        "tree": "here",
        "variants": VARIANTS,
        "what": "the text tokenized as GloVe's was (do n't, film 's, we 're) on top of unit length",
    },
}


def study(epochs: int) -> dict[str, Any]:
    """The shipped MR study with one 10% validation split in place of its folds, 50 dimensions, max pooling."""
    import yaml

    spec = yaml.safe_load((ROOT / "studies" / "mr.yaml").read_text().replace("../../shared/datasets", str(DATASETS)))
    for key in ("folds", "inner_validation_split"):
        spec["data"].pop(key, None)
    spec["data"]["validation_split"] = 0.1
    spec["model"].update({"embedding_dim": 50, "pooling": "max", "epochs": epochs})
    spec["search_space"] = {}
    return spec


# The ablations: each replaces one piece of this checkout's product in the side's process only.


def _keras_scale() -> None:
    import numpy as np

    from gapsearch.data.vectors import LookedUpVectors

    unit_length = LookedUpVectors.unit_length
    target = 0.05 / np.sqrt(3.0)  # the standard deviation of uniform(-0.05, 0.05)

    def scaled(self: LookedUpVectors) -> LookedUpVectors:
        unit = unit_length(self)
        return LookedUpVectors((unit.matrix * (target / unit.scale)).astype(np.float32), unit.found, target)

    LookedUpVectors.unit_length = scaled  # type: ignore[method-assign]


def _oov_keras() -> None:
    import numpy as np

    from gapsearch.data.vectors import LookedUpVectors

    unit_length = LookedUpVectors.unit_length

    def keras_noise(self: LookedUpVectors) -> LookedUpVectors:
        unit = unit_length(self)  # the builder draws the rows without a vector from uniform(+-scale * sqrt(3))
        return LookedUpVectors(unit.matrix, unit.found, 0.05 / np.sqrt(3.0))

    LookedUpVectors.unit_length = keras_noise  # type: ignore[method-assign]


def _clitics() -> None:
    import re

    import gapsearch.data.dataset as dataset
    import gapsearch.data.text as text

    clitic = re.compile(r"(?<=[^\W_])(n't|'(?:s|re|ve|ll|d|m))\b")
    # data.text's punctuation rule, keeping the apostrophe that starts a detached clitic ('s).
    punctuation = re.compile(r"[^\w\s']|_|(?<![^\W_])'(?!(?:s|re|ve|ll|d|m)\b)|'(?![^\W_])")

    def standardize(raw: str, settings: Any) -> str:
        if settings.strip_markup:
            raw = text._MARKUP.sub(" ", raw)
        if settings.lowercase:
            raw = raw.lower()
        raw = clitic.sub(r" \1", raw.replace("\u2019", "'"))
        return punctuation.sub(" ", raw) if settings.strip_punctuation else raw

    text.standardize = standardize
    dataset.standardize = standardize  # type: ignore[attr-defined]


ABLATIONS = {"keras_scale": _keras_scale, "oov_keras": _oov_keras, "clitics": _clitics}


def train_side(config: dict[str, Any]) -> dict[str, Any]:
    """One variant of one step, its seeds in turn, with the gapsearch its PYTHONPATH names (a side process).

    Everything it reads comes in ``config`` (the study, the vectors' path): the side may run another commit's
    ``tests`` package, in a worktree away from ``../shared``.
    """
    from gapsearch.runtime import import_keras

    import_keras()
    import gapsearch
    from gapsearch.data.cache import StudyData
    from gapsearch.search.runs import fit_run, repeated
    from gapsearch.spec.hyperparameters import Hyperparameters
    from gapsearch.spec.study import StudySpec

    if config["step"] in ABLATIONS:
        ABLATIONS[config["step"]]()
    raw, path = config["study"], Path(config["vectors"])
    model = dict(raw["model"])
    if config["variant"] != "rand":
        model["embedding"] = {"vectors": str(path), "trainable": config["variant"] == "nonstatic"}
    spec = StudySpec.model_validate({**raw, "data": {**raw["data"], "cache_dir": config["cache"]}, "model": model})
    data = StudyData(spec.data, Path(config["cache"]), spec.seed)
    hp = Hyperparameters.model_validate(model, strict=False)
    run_data = data.run(data.info.run_names[0], hp.max_tokens, int(hp.sequence_length))
    vectors = None if hp.embedding is None else data.vectors(run_data.vocabulary, path)
    values, epochs, seconds = [], [], []
    for run in repeated("validation", run_data, spec.seed, config["seeds"]):
        started = time.perf_counter()
        result = fit_run(
            hp,
            run,
            n_classes=len(data.info.class_names),
            task=data.info.task,
            monitor=spec.monitored,
            metrics=["accuracy"],
            latency=False,
            vectors=vectors,
        )
        values.append(result.best_value)
        epochs.append(result.best_epoch)
        seconds.append(round(time.perf_counter() - started, 1))
    return {
        "values": values,
        "seeds": [run.seed for run in repeated("validation", run_data, spec.seed, config["seeds"])],
        "best_epochs": epochs,
        "seconds": seconds,
        "coverage": None if vectors is None else data.vectors_coverage(path),
        "vocabulary": run_data.vocabulary_size,
        "gapsearch": str(Path(gapsearch.__file__).parent.parent),
    }


def _summary(values: list[float]) -> dict[str, Any]:
    from gapsearch.stats import summarize

    return summarize(values).as_dict()


def main() -> None:
    import contextlib

    from tests.benchmarks._common import git, run_side_in, worktree_at

    parser = argparse.ArgumentParser(description="CNN-rand, static and non-static on MR, before and after")
    parser.add_argument("--before", default=BEFORE, help="the commit whose code is the 'before' step")
    parser.add_argument("--only", default=",".join(STEPS), help="comma-separated steps to run")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seeds", type=int, default=SEEDS)
    args = parser.parse_args()
    steps = args.only.split(",")
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise SystemExit(f"--only: no step {sorted(unknown)}; the steps are {', '.join(STEPS)}")
    if not VECTORS.is_file():
        raise SystemExit(f"{VECTORS} is missing: the GloVe 6B 50d file this benchmark reads")
    before = git("rev-parse", "--short", args.before)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gapsearch-vectors-help-") as tmp, contextlib.ExitStack() as stack:
        trees = {"here": ROOT, "before": Path(tmp) / "before"}
        if "before" in steps:
            stack.enter_context(worktree_at(before, trees["before"]))
        for step in steps:
            tree = trees[STEPS[step]["tree"]]
            for variant in STEPS[step]["variants"]:
                load_before = load_average()
                config = {
                    "step": step,
                    "variant": variant,
                    "study": study(args.epochs),
                    "vectors": str(VECTORS),
                    "seeds": args.seeds,
                    # The cache keys hold the settings, not the code: each tree and tokenization its own.
                    "cache": str(Path(tmp) / f"cache-{STEPS[step]['tree']}-{step == 'clitics'}"),
                }
                result = run_side_in(tree, Path(__file__).resolve(), "train", config)
                summary = _summary(result["values"])
                print(
                    f"{step:12} {variant:9} {summary['mean']:.4f} [{summary['ci_low']:.4f}, "
                    f"{summary['ci_high']:.4f}] {[round(v, 4) for v in result['values']]} "
                    f"epochs {result['best_epochs']} ({result['coverage'] or 'no vectors'})",
                    flush=True,
                )
                rows.append(
                    {
                        "step": step,
                        "variant": variant,
                        **result,
                        "summary": summary,
                        "load_before": load_before,
                        "load_after": load_average(),
                    }
                )
    by = {(row["step"], row["variant"]): row for row in rows}
    differences = {
        f"{step}: {variant} - rand": _summary(
            [v - r for v, r in zip(by[step, variant]["values"], by[step, "rand"]["values"], strict=True)]
        )
        for step, variant in by
        if variant != "rand" and (step, "rand") in by
    }
    write_results(
        "vectors_help",
        {
            "what": "studies/mr.yaml's model at 50 dimensions with max pooling on one stratified 10% validation "
            f"split of MR (seed 1), {args.seeds} seeds per variant (the same seeds for every variant and step), "
            f"{args.epochs} epochs with the study's patience, best-epoch validation accuracy; vectors "
            f"{VECTORS.name}",
            "measure": "validation accuracy (best epoch), mean and 95% t-interval over the seeds",
            "before": {"commit": before, "subject": git("log", "-1", "--format=%s", before)[:200]},
            "after": {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain"))},
            "steps": {step: STEPS[step]["what"] for step in steps},
            "rows": rows,
            "paired_differences": differences,
        },
    )


if __name__ == "__main__":
    run_script(main, {"train": train_side})
