"""The benchmarks page's section on a worker's memory over a long study (results/soak.json) and its plot."""

from __future__ import annotations

import json
from typing import Any

from tests.benchmarks._common import RESULTS, ROOT

PLOT = ROOT / "docs" / "pages" / "images" / "soak.png"


def _load() -> dict[str, Any] | None:
    path = RESULTS / "soak.json"
    return json.loads(path.read_text()) if path.exists() else None


def _machine(result: dict[str, Any]) -> str:
    m = result["machine"]
    v = m["versions"]
    return (
        f"{m['cpu']}, {m['cpu_count']} cores; TensorFlow {v['tensorflow']}, Keras {v['keras']}, Optuna {v['optuna']}, "
        f"Keras backend {m['keras_backend']}; load average {result['load_average_before']} before, "
        f"{result['load_average_after']} after; finished {result['finished_at']}"
    )


def section() -> list[str]:
    """(j): the worker's memory after 50 and after 500 trials, with and without recycling, and the target."""
    result = _load()
    if not result:
        return []
    first, last = result["checkpoints"]
    target = result["target"]
    study = result["study"]
    parts = [
        "**(j) A worker's memory over a long study** (`python -m tests.benchmarks.soak`): "
        f"{result['what']}. The two sides ran {result['sides_ran']}, with the same study seed; the study "
        f"(synthetic data, TPE after 5 random trials and successive halving, gapsearch's defaults):",
        "",
        "```yaml",
        *study.rstrip("\n").splitlines(),
        "```",
        "",
        f"| side | worker processes | trials complete / pruned | memory after trial {first} | after trial {last} "
        f"| {last} against {first} | highest | wall time |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for name, side in result["sides"].items():
        at = side["rss_mib_at"]
        states = side["states"]
        parts.append(
            f"| {name} | {side['processes']} | {states.get('COMPLETE', 0)} / {states.get('PRUNED', 0)} "
            f"| {at[str(first)]:.0f} MiB | {at[str(last)]:.0f} MiB | {at[str(last)] / at[str(first)] - 1:+.1%} "
            f"| {side['peak_rss_mib']:.0f} MiB | {side['seconds'] / 60:.0f} min |"
        )
    verdict = "met" if target["met"] else "not met"
    parts += [
        "",
        f"Target: {target['rule']}: {verdict} ({target['ratio'] - 1:+.1%}).",
        "",
        f"![the worker's resident memory after each trial, with and without recycling]"
        f"({PLOT.relative_to(ROOT / 'docs' / 'pages')})",
        "",
        f"Machine: {_machine(result)}; {result['seconds'] / 60:.0f} min in all.",
        "",
    ]
    return parts


def plot() -> None:
    """The worker's resident memory after each trial, one line per side, for the benchmarks page."""
    result = _load()
    if not result:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    colors = {0: "tab:gray", 1: "tab:blue"}
    for index, (name, side) in enumerate(result["sides"].items()):
        points = [(trials, mib) for trials, _, mib, _ in side["samples"] if mib is not None]
        axes.plot([t for t, _ in points], [m for _, m in points], color=colors.get(index), linewidth=1, label=name)
    for checkpoint in result["checkpoints"]:
        axes.axvline(checkpoint, color="black", linewidth=0.5, linestyle=":")
    axes.set_xlabel("finished trials")
    axes.set_ylabel("worker's resident memory (MiB)")
    axes.set_title("gapsearch run, one worker: memory after each trial")
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(PLOT, dpi=90)
    plt.close(figure)
