"""(e) Pruning a two-objective study on MR: hypervolume reached per epoch trained, with and without ``cost_aware``.

Each side is a study file run by ``gapsearch run`` in a fresh process, as a user runs it, on the
same data, splits and search space, with objectives val_accuracy (maximize) and params (minimize).
The sides differ in one setting only: ``pruner: {type: none}`` (what such a study had before) or
``pruner: {type: cost_aware}`` with its defaults. Both use ``sampler: random`` with the same seed,
so both sides train the same configurations with the same training seeds, in the same order; the
pruned side stops some of them early. The sides take turns, seed by seed.

After each finished trial, the hypervolume of the completed trials' front is taken against the
epochs trained so far (pruned trials' epochs included). The hypervolume is exact
(:mod:`tests.benchmarks._hypervolume`) over (1 - val_accuracy, params / reference params), with the
reference point at chance accuracy (0.5, MR is balanced) and the largest model of the search space
(its parameters measured on the built model), so 1.0 would be a perfect, free model.

    python -m tests.benchmarks.mo_pruning [--seeds 1 2 3] [--n-trials 16] [--epochs 6] [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gapsearch.trial_attrs import TrialResult
from tests.benchmarks._common import ROOT, load_average, prepare_mr, write_results
from tests.benchmarks._hypervolume import hypervolume_2d

SIDES = {"no pruner": "{type: none}", "cost_aware": "{type: cost_aware}"}
SPACE = {
    "embedding_dim": "[8, 16, 32, 64]",
    "filters": "[16, 32, 64]",
    "learning_rate": "{low: 1.0e-4, high: 1.0e-2, log: true}",
}
FIXED = {"max_tokens": 10000, "sequence_length": 56, "batch_size": 64, "patience": 0, "length_buckets": 4}
CHANCE = 0.5


def study_text(tsv: Path, name: str, *, seed: int, pruner: str, n_trials: int, epochs: int) -> str:
    lines = [
        f"name: {name}",
        "objectives:",
        "  - {metric: val_accuracy, direction: maximize}",
        "  - {metric: params, direction: minimize}",
        f"n_trials: {n_trials}",
        f"seed: {seed}",
        "sampler: {type: random}",
        f"pruner: {pruner}",
        f"data: {{format: tsv, train: {tsv}, text: text, label: label, validation_split: 0.2}}",
        "artifacts: {save_models: none}",
        "model:",
        *(f"  {key}: {value}" for key, value in {**FIXED, "epochs": epochs}.items()),
        "search_space:",
        *(f"  {key}: {value}" for key, value in SPACE.items()),
    ]
    return "\n".join(lines) + "\n"


def largest_model_params() -> int:
    """Parameters of the space's largest model (widest embedding, most filters), built by gapsearch's builder."""
    from gapsearch.runtime import import_keras

    import_keras()
    from gapsearch.models.builder import build_model
    from gapsearch.spec import Hyperparameters

    hp = Hyperparameters(**{**FIXED, "embedding_dim": 64, "filters": 64})
    return int(build_model(hp, vocabulary_size=FIXED["max_tokens"], n_classes=2, task="binary").count_params())


def run_side(folder: Path, tsv: Path, side: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run one side's study with the CLI and read its trials back with Optuna's API."""
    import optuna

    name = f"mr-{side.replace(' ', '-')}-seed{seed}"
    path = folder / f"{name}.yaml"
    path.write_text(study_text(tsv, name, seed=seed, pruner=SIDES[side], n_trials=args.n_trials, epochs=args.epochs))
    env = {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gapsearch", "run", path.name, "--no-progress"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{side}, seed {seed}: gapsearch run exited {done.returncode}\n{done.stderr[-4000:]}")
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{folder / 'gapsearch.db'}")
    trials = [
        {
            "number": t.number,
            "state": t.state.name,
            "params": t.params,
            "val_accuracy": t.values[0] if t.values else None,
            "model_params": TrialResult.read(t).costs.params,
            "epochs_run": TrialResult.read(t).epochs_run,
        }
        for t in sorted(study.trials, key=lambda t: t.number)
        if t.state.name in ("COMPLETE", "PRUNED")
    ]
    return {"seconds": seconds, "trials": trials}


def curve(trials: list[dict[str, Any]], reference_params: int) -> list[tuple[int, float]]:
    """(epochs trained so far, hypervolume of the completed trials' front) after each finished trial."""
    points, epochs, out = [], 0, []
    for trial in trials:
        epochs += trial["epochs_run"]
        if trial["state"] == "COMPLETE":
            points.append((1.0 - trial["val_accuracy"], trial["model_params"] / reference_params))
        out.append((epochs, hypervolume_2d(points, (1.0 - CHANCE, 1.0)) / (1.0 - CHANCE)))
    return out


def reached_by(points: list[tuple[int, float]], epochs: int) -> float:
    """The hypervolume a run had reached once it had trained ``epochs`` epochs (0 before its first trial)."""
    return max((hv for at, hv in points if at <= epochs), default=0.0)


def epochs_to_reach(points: list[tuple[int, float]], target: float) -> int | None:
    """The epochs a run had trained when its hypervolume first reached ``target`` (None: never)."""
    return next((at for at, hv in points if hv >= target - 1e-12), None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--n-trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 6 trials, 2 epochs (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.n_trials, args.epochs = args.seeds[:2], 6, 2
    before = load_average()
    reference_params = largest_model_params()
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        tsv = prepare_mr(folder)
        for seed in args.seeds:
            for side in SIDES:  # taking turns, seed by seed
                result = run_side(folder, tsv, side, seed, args)
                result["seed"] = seed
                result["curve"] = curve(result["trials"], reference_params)
                runs[side].append(result)
                pruned = sum(t["state"] == "PRUNED" for t in result["trials"])
                print(
                    f"seed {seed} {side}: {result['seconds']:.1f}s, {result['curve'][-1][0]} epochs, "
                    f"{pruned} pruned, hypervolume {result['curve'][-1][1]:.4f}",
                    flush=True,
                )
    per_seed = []
    for full, pruned in zip(runs["no pruner"], runs["cost_aware"], strict=True):
        budget = pruned["curve"][-1][0]
        per_seed.append(
            {
                "seed": full["seed"],
                "epochs_no_pruner": full["curve"][-1][0],
                "epochs_cost_aware": budget,
                "hypervolume_no_pruner": full["curve"][-1][1],
                "hypervolume_cost_aware": pruned["curve"][-1][1],
                "hypervolume_no_pruner_at_cost_aware_epochs": reached_by(full["curve"], budget),
                "epochs_to_final_hypervolume_no_pruner": epochs_to_reach(full["curve"], full["curve"][-1][1]),
                "epochs_to_final_hypervolume_cost_aware": epochs_to_reach(pruned["curve"], full["curve"][-1][1]),
                "pruned": sum(t["state"] == "PRUNED" for t in pruned["trials"]),
                "seconds_no_pruner": full["seconds"],
                "seconds_cost_aware": pruned["seconds"],
                "same_front": _front(full["trials"]) == _front(pruned["trials"]),
            }
        )
    write_results(
        "mo_pruning",
        {
            "what": f"MR (10662 sentences, 80/20 validation split), objectives val_accuracy (maximize) and params "
            f"(minimize), {args.n_trials} trials of sampler: random, {args.epochs} epochs each, search space "
            + ", ".join(f"{k} {v}" for k, v in SPACE.items())
            + "; fixed "
            + ", ".join(f"{k}={v}" for k, v in FIXED.items()),
            "sides": SIDES,
            "seeds": args.seeds,
            "n_trials": args.n_trials,
            "epochs": args.epochs,
            "hypervolume": "exact 2-D (tests/benchmarks/_hypervolume.py) over (1 - val_accuracy, params / "
            "reference params), reference (chance accuracy 0.5, the largest model's params), normalized to 1",
            "reference_params": reference_params,
            "runs": runs,
            "per_seed": per_seed,
            "load_average_before": before,
            "load_average_after": load_average(),
        },
    )


def _front(trials: list[dict[str, Any]]) -> list[int]:
    """The numbers of the completed trials no other completed trial beats in both objectives."""
    done = [t for t in trials if t["state"] == "COMPLETE"]

    def beaten(t: dict[str, Any]) -> bool:
        return any(
            o["val_accuracy"] >= t["val_accuracy"]
            and o["model_params"] <= t["model_params"]
            and (o["val_accuracy"], o["model_params"]) != (t["val_accuracy"], t["model_params"])
            for o in done
        )

    return sorted(t["number"] for t in done if not beaten(t))


if __name__ == "__main__":
    main()
