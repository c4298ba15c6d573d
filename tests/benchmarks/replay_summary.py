"""What the replays come to: per data set and searcher, anytime regret with intervals, the time to come within
the target, the chance of being within it at each budget's time; the choice of defaults; the JSON and plots.

Every budget B is scored at the time random search with full training needs for B trials (the median over
its replays of the end of its B-th trial). A searcher that takes a trial budget (``n_trials``,
``max_trials``) runs B trials there, as a user who sets B runs it; KerasTuner's Hyperband takes none and
runs its own brackets.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from tests.benchmarks.replay import (
    BUDGETS,
    TARGET_POINTS,
    KerasTunerSearcher,
    Replay,
    Searcher,
    Table,
    bootstrap_median,
    chance_within,
    median_time,
    score,
    wilson,
)

RANDOM = "kerastuner random search (full training)"
OPTUNA = "optuna keras example (TPE, median pruner)"


def takes_budget(searcher: Searcher) -> bool:
    return not (isinstance(searcher, KerasTunerSearcher) and searcher.kind == "hyperband")


def budget_seconds(replays: list[Replay]) -> dict[int, float]:
    """Each budget's clock: the median end of random search's B-th full trial."""
    return {b: float(np.median([r.ends[b - 1] for r in replays if len(r.ends) >= b])) for b in BUDGETS}


def summarize(
    table: Table,
    rows: Mapping[str, Mapping[str, Any]],
    times: np.ndarray,
    kept: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One data set's figures for every searcher in ``rows`` (``{"replays": [...], "searcher": ...}``).

    ``kept``: an earlier summary of the same table, replays and clock (see :func:`reusable`), whose searchers'
    figures stand for those not in ``rows``; random search's there gives the budgets' clock when it is not
    replayed again."""
    kept_searchers = dict(kept["searchers"]) if kept else {}
    if RANDOM in rows:
        clocks = budget_seconds(rows[RANDOM]["replays"])
    elif kept is not None and RANDOM in kept_searchers:
        clocks = {int(b): float(s) for b, s in kept["budget_seconds"].items()}
    else:
        raise ValueError(f"the budgets' clock is random search's: replay {RANDOM!r} too")
    quality = table.quality()
    out: dict[str, Any] = {
        "best_quality": round(float(quality.max()), 4),
        "configurations": len(table.configs),
        "runs": sum(len(seeds) for seeds in table.values),  # of the table as it stood when the replays ran
        "seeds_per_configuration": sorted({len(seeds) for seeds in table.values}),
        "full_trial_seconds": round(table.full_trial_seconds(), 2),
        "budget_seconds": {str(b): round(s, 1) for b, s in clocks.items()},
        "times": [round(float(t), 1) for t in times],
        "searchers": {name: entry for name, entry in kept_searchers.items() if name not in rows},
    }
    for name, row in rows.items():
        replays, searcher = row["replays"], row["searcher"]
        anytime = score(table, replays, times)
        first = anytime.first_within
        reached = np.isfinite(first)
        mean = anytime.regret.mean(axis=0)
        half = 1.96 * anytime.regret.std(axis=0, ddof=1) / math.sqrt(len(replays)) if len(replays) > 1 else 0 * mean
        budgets = {}
        for b, clock in clocks.items():
            limited = score(table, replays, times, max_trials=b if takes_budget(searcher) else None)
            chance = chance_within(limited, clock)
            hits = round(chance * len(replays))
            budgets[str(b)] = {
                "seconds": round(clock, 1),
                "chance": round(chance, 4),
                "interval": [round(v, 4) for v in wilson(hits, len(replays))],
                "trials_median": float(np.median(limited.trials)),
            }
        out["searchers"][name] = {
            "tool": searcher.tool,
            "settings": getattr(searcher, "settings", {}),
            "described": searcher.describe(),
            "overhead": dataclasses.asdict(searcher.overhead),
            "replays": len(replays),
            "trials_median": float(np.median(anytime.trials)),
            "pruned_share": round(anytime.pruned_share, 4),
            "epochs_per_trial": round(anytime.epochs_per_trial, 3),
            "time_to_target": {
                "median": _finite(median_time(first)),
                "interval": [_finite(v) for v in bootstrap_median(first)],
                "reached_share": round(float(reached.mean()), 4),
            },
            "budgets": budgets,
            "curve": {
                "mean": [round(float(v), 3) for v in mean],
                "low": [round(float(v), 3) for v in mean - half],
                "high": [round(float(v), 3) for v in mean + half],
            },
        }
    for entry in out["searchers"].values():
        mine = entry["time_to_target"]["median"]
        for other, key in ((RANDOM, "time_to_target_ratio_to_random"), (OPTUNA, "time_to_target_ratio_to_optuna")):
            theirs = out["searchers"].get(other, {}).get("time_to_target", {}).get("median")
            entry[key] = None if mine is None or not theirs else round(mine / theirs, 3)
    return out


def reusable(earlier: Mapping[str, Any] | None, table: Table, times: np.ndarray, replays: int) -> dict[str, Any] | None:
    """An earlier summary (``results/replay.json``'s for this data set) whose figures still hold: the same
    table (its runs), the same number of replays and the same clock; else None."""
    if not earlier or earlier.get("runs") != sum(len(seeds) for seeds in table.values):
        return None
    if earlier.get("times") != [round(float(t), 1) for t in times]:
        return None
    if any(entry.get("replays") != replays for entry in earlier.get("searchers", {}).values()):
        return None
    return dict(earlier)


def same_searcher(entry: Mapping[str, Any], searcher: Searcher) -> bool:
    """Whether a kept entry is ``searcher``'s: the same description (every setting that sets searchers apart,
    as the study file resolves it) and overhead. A searcher that queues a portfolio never is, since its entries
    change when another table grows."""
    import json

    if getattr(searcher, "queued", ()):
        return False
    mine = {
        "described": searcher.describe(),
        "overhead": dataclasses.asdict(searcher.overhead),
    }
    theirs = {key: entry.get(key) for key in mine}
    return json.dumps(mine, sort_keys=True, default=str) == json.dumps(theirs, sort_keys=True, default=str)


def _finite(value: float) -> float | None:
    return None if not math.isfinite(value) else round(value, 1)


def plot(dataset: str, figures: Mapping[str, Any], path: Any, chosen: str) -> None:
    """Mean regret against the simulated clock (log scale), with 95% intervals: gapsearch's current defaults,
    the candidate the rule chose, and the other tools (every searcher's figures are in the table)."""
    from gapsearch.plots import new_figure

    shown = ["gapsearch: defaults", f"gapsearch: {chosen}", *(n for n in figures["searchers"] if ":" not in n)]
    figure = new_figure(7.5, 4.8)
    axes = figure.add_subplot()
    times = np.asarray(figures["times"]) / 60
    for index, name in enumerate(dict.fromkeys(shown)):
        entry, color = figures["searchers"][name], f"C{index}"
        label = name if name != f"gapsearch: {chosen}" else f"{name} (chosen)"
        axes.plot(times[1:], entry["curve"]["mean"][1:], label=label, color=color, linewidth=1.5)
        axes.fill_between(times[1:], entry["curve"]["low"][1:], entry["curve"]["high"][1:], color=color, alpha=0.12)
    axes.set_xscale("log")
    for budget, seconds in figures["budget_seconds"].items():
        axes.axvline(seconds / 60, color="grey", linestyle=":", linewidth=0.8)
        axes.annotate(f"{budget} full trials", (seconds / 60, 1.0), xycoords=("data", "axes fraction"),
                      fontsize=7, color="grey", rotation=90, va="top", ha="right")  # fmt: skip
    axes.axhline(TARGET_POINTS, color="black", linestyle="--", linewidth=0.8)
    axes.set_xlabel("simulated minutes, log scale (recorded epoch seconds + each tool's overhead)")
    axes.set_ylabel("regret (points of validation accuracy)")
    axes.set_title(f"{dataset}: regret of the configuration each search would choose (mean, 95% interval)")
    axes.legend(fontsize=7, loc="lower left")
    axes.grid(True, alpha=0.3)
    figure.savefig(path, dpi=100)


def write(results: Mapping[str, Mapping[str, Any]], *, replays: int) -> None:
    """``results/replay.json``: every data set's figures, the defaults chosen, and the leave-one-out check."""
    from tests.benchmarks._common import ROOT, write_results
    from tests.benchmarks.replay import measured_overheads
    from tests.benchmarks.replay_candidates import CANDIDATES, choose, leave_one_out

    by_dataset = {dataset: figures["searchers"] for dataset, figures in results.items()}
    choice = choose(by_dataset, list(by_dataset))
    images = ROOT / "docs" / "pages" / "images"
    for dataset, figures in results.items():
        plot(dataset, figures, images / f"replay-{dataset}.png", choice["chosen"])
    write_results(
        "replay",
        {
            "target_points": TARGET_POINTS,
            "budgets": list(BUDGETS),
            "replays": replays,
            "overheads_measured": bool(measured_overheads()),
            "candidates": CANDIDATES,
            "datasets": dict(results),
            "choice": choice,
            "leave_one_out": leave_one_out(by_dataset),
        },
        indent=None,  # every searcher's anytime curve on every data set: 2 MB indented, 0.7 MB on one line
    )
