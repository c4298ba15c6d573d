"""The benchmarks page's section on the learning-curve replays, rendered from ``results/replay.json`` and the
tables of ``results/curves/`` (nothing typed by hand): what the tables hold, each searcher's figures per data
set, the plots, the defaults the rule chose and its leave-one-dataset-out check, and the targets' verdicts."""

from __future__ import annotations

from typing import Any

from tests.benchmarks.curves import EPOCHS, GRID, SEEDS, configurations, read_table

START, END = "<!-- replay:start -->", "<!-- replay:end -->"
DATASETS = ("mr", "sst5", "imdb")
NAMES = {"mr": "MR", "sst5": "SST-5", "imdb": "IMDB (sample)"}
#: Issue 36's targets for gapsearch's defaults, against random search with full training and Optuna's example.
TIME_TO_TARGET = {"random": 0.3, "optuna": 0.6}


def _load() -> dict[str, Any] | None:
    import json

    from tests.benchmarks._common import RESULTS

    path = RESULTS / "replay.json"
    return json.loads(path.read_text()) if path.exists() else None


def _seconds(value: float | None) -> str:
    if value is None:
        return "not reached"
    return f"{value / 60:.1f} min"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _chance(entry: dict[str, Any]) -> str:
    low, high = entry["interval"]
    return f"{entry['chance']:.2f} [{low:.2f}, {high:.2f}]"


def tables_status() -> list[str]:
    """What each learning-curve table holds so far."""
    total = len(configurations()) * len(SEEDS)
    lines = [
        f"The grid: {' x '.join(str(len(v)) for v in GRID.values())} = {len(configurations())} configurations "
        f"({', '.join(f'`{k}` {v}' for k, v in GRID.items())}), {len(SEEDS)} seeds each, {EPOCHS} epochs, every "
        "epoch's validation accuracy and seconds recorded.",
        "",
        "| data set | runs | training / validation texts | sequence length | machine |",
        "|---|---|---|---|---|",
    ]
    for dataset in DATASETS:
        header, runs = read_table(dataset)
        if header is None:
            lines.append(f"| {NAMES[dataset]} | 0 of {total} | - | - | - |")
            continue
        counts = header["counts"]
        machine = header["machine"]
        lines.append(
            f"| {NAMES[dataset]} | {len(runs)} of {total} | {counts['train']} / {counts.get('validation', '-')} | "
            f"{header['sequence_length']} | {machine['cpu_count']} cores, {machine['keras_backend']} |"
        )
    return lines


def dataset_table(dataset: str, figures: dict[str, Any], budgets: list[int]) -> list[str]:
    """One data set's row per searcher."""
    head = " | ".join(f"within 0.5 at {b} full trials" for b in budgets)
    lines = [
        f"**{NAMES[dataset]}**, replayed on the table's first {figures['runs']} runs "
        f"({' or '.join(map(str, figures['seeds_per_configuration']))} seeds per configuration): best seed-mean "
        f"{figures['best_quality']:.4f} over {figures['configurations']} "
        f"configurations; a full trial takes {figures['full_trial_seconds']:.1f} s on average; the budgets' "
        "clocks (random search's B full trials): "
        + ", ".join(f"{b}: {_seconds(s)}" for b, s in figures["budget_seconds"].items())
        + ".",
        "",
        f"| searcher | trials | pruned | epochs per trial | time to within 0.5 [95%] (reached) | vs random | "
        f"vs Optuna's example | {head} |",
        "|---|---|---|---|---|---|---|" + "---|" * len(budgets),
    ]
    for name, row in figures["searchers"].items():
        reach = row["time_to_target"]
        low, high = reach["interval"]
        lines.append(
            f"| {name} | {row['trials_median']:.0f} | {row['pruned_share']:.0%} | {row['epochs_per_trial']:.2f} | "
            f"{_seconds(reach['median'])} [{_seconds(low)}, {_seconds(high)}] ({reach['reached_share']:.0%}) | "
            f"{_ratio(row['time_to_target_ratio_to_random'])} | {_ratio(row['time_to_target_ratio_to_optuna'])} | "
            + " | ".join(_chance(row["budgets"][str(b)]) for b in budgets)
            + " |"
        )
    return lines


def verdicts(result: dict[str, Any]) -> list[str]:
    """The targets for the chosen defaults, per data set and as medians over the data sets."""
    from tests.benchmarks.replay_summary import OPTUNA, RANDOM

    chosen = f"gapsearch: {result['choice']['chosen']}"
    lines = [f"Targets for the chosen defaults (`{result['choice']['chosen']}`):", ""]
    for dataset, figures in result["datasets"].items():
        row = figures["searchers"][chosen]
        parts = [
            _time_verdict(row, figures["searchers"][other], which, bound)
            for (which, bound), other in zip(TIME_TO_TARGET.items(), (RANDOM, OPTUNA), strict=True)
        ]
        for b in result["budgets"]:
            mine = row["budgets"][str(b)]["chance"]
            others = [figures["searchers"][name]["budgets"][str(b)]["chance"] for name in (RANDOM, OPTUNA)]
            verdict = "met" if mine >= max(others) else "not met"
            parts.append(f"{b} trials {verdict} ({mine:.2f} against {max(others):.2f})")
        lines.append(f"- {NAMES[dataset]}: " + "; ".join(parts) + ".")
    return lines


def _time_verdict(row: dict[str, Any], other: dict[str, Any], which: str, bound: float) -> str:
    """The time-to-target target against ``other``: its ratio, or who never came within the target."""
    mine, theirs = row["time_to_target"]["median"], other["time_to_target"]["median"]
    if mine is None:
        return f"time against {which}: not met (gapsearch's median search never came within 0.5)"
    if theirs is None:
        return f"time against {which}: met ({_seconds(mine)}; {which}'s median search never came within 0.5)"
    ratio = mine / theirs
    return f"time against {which}: {'met' if ratio <= bound else 'not met'} ({ratio:.2f} of its time, target {bound})"


def replay_block() -> str:
    """The section between :data:`START` and :data:`END` of the benchmarks page."""
    result = _load()
    lines = tables_status()
    if result is None:
        lines += ["", "No replay has been run yet (`python -m tests.benchmarks.replay`)."]
        return "\n".join(lines) + "\n"
    budgets = result["budgets"]
    lines += [
        "",
        f"Each searcher was replayed {result['replays']} times per data set (one study seed per replay, a table "
        f"seed drawn per trial). Regret is the chosen configuration's seed-mean validation accuracy below the grid's "
        f"best, in points; 'within 0.5' means a regret of at most {result['target_points']} points. Per-trial "
        "overheads "
        + (
            "measured by `python -m tests.benchmarks.replay_overheads`"
            if result["overheads_measured"]
            else "not yet measured (0)"
        )
        + ".",
    ]
    for dataset, figures in result["datasets"].items():
        plot = f"![Regret against the simulated clock on {NAMES[dataset]}](images/replay-{dataset}.png)"
        lines += ["", *dataset_table(dataset, figures, budgets), "", plot]
    lines += ["", *verdicts(result), "", *held_out(result)]
    return "\n".join(lines) + "\n"


def held_out(result: dict[str, Any]) -> list[str]:
    """The leave-one-dataset-out check: each data set scored with the candidate chosen on the others."""
    checked = result["leave_one_out"]
    if not checked:
        return [
            "These verdicts are on the data the choice was made on. The leave-one-dataset-out check (the "
            "candidate chosen on the other data sets, scored on the one left out) needs a second table; gapsearch's "
            "defaults are not changed until it has been made."
        ]
    lines = ["Leave-one-dataset-out (the candidate chosen on the other data sets, scored on the one left out):", ""]
    for dataset, check in checked.items():
        budgets = check["figures"]["budgets"]
        lines.append(
            f"- {NAMES[dataset]}: `{check['chosen_on_others']}`; time to within 0.5 "
            f"{_seconds(check['figures']['time_to_target']['median'])} "
            f"({_ratio(check['figures']['time_to_target_ratio_to_random'])} of random search's); within 0.5 at "
            + ", ".join(f"{b} full trials {_chance(entry)}" for b, entry in budgets.items())
            + "."
        )
    return lines
