"""The documentation's benchmark tables and plot, from ``tests/benchmarks/results/*.json``.

Rewrites the part of docs/pages/benchmarks.md between ``<!-- benchmarks:start -->`` and
``<!-- benchmarks:end -->``, the README's recorded quickstart output between ``<!-- quickstart:start -->`` and
``<!-- quickstart:end -->``, and draws docs/pages/images/mo_pruning.png (``make bench`` runs it last);
``--print`` prints the tables instead and writes nothing.

    python -m tests.benchmarks.report [--print]
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from gapsearch.spec.hyperparameters import AUTO_STEPS_PER_EXECUTION
from tests.benchmarks._common import RESULTS, ROOT

START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
#: The page whose marked block holds the tables.
PAGE = ROOT / "docs" / "pages" / "benchmarks.md"
#: The README's screenful of output, from results/quickstart_output.json (tests/benchmarks/quickstart_output.py).
README = ROOT / "README.md"
QUICKSTART_START, QUICKSTART_END = "<!-- quickstart:start -->", "<!-- quickstart:end -->"


def quickstart_block() -> str:
    """The README's block of `make run` output, as the last recorded run printed it."""
    result = _load("quickstart_output")
    if not result:
        raise SystemExit("results/quickstart_output.json is missing: python -m tests.benchmarks.quickstart_output")
    return f"```\n{result['output'].rstrip()}\n```\n\n{_recorded(result)}\n"


def _recorded(result: dict[str, Any]) -> str:
    """The line under a recorded run: which command recorded it, on what machine, under what load, when."""
    m = result["machine"]
    return (
        f"Recorded by `{result['command'].split('# or: ')[-1]}` on {m['cpu']}, {m['cpu_count']} cores, Keras backend "
        f"{m['keras_backend']}; load average (1, 5, 15 min) {result['load_before']} before, {result['load_after']} "
        f"after; finished {result['finished_at']}."
    )


EXPLAIN_PAGE = ROOT / "docs" / "pages" / "explain.md"
EXPLAIN_START, EXPLAIN_END = "<!-- explain-example:start -->", "<!-- explain-example:end -->"


def explain_example_block(*, whole: bool) -> str:
    """The SST-2 explain example (results/explain_example.json): every command with what it printed
    (``whole``, for the explain page), or the last one alone (for the README)."""
    result = _load("explain_example")
    if not result:
        raise SystemExit("results/explain_example.json is missing: python -m tests.benchmarks.explain_example")
    steps = result["steps"] if whole else result["steps"][-1:]
    body = "\n".join(f"$ {step['command']}\n{step['output'].rstrip()}" for step in steps)
    return f"```console\n{body}\n```\n\n{_recorded(result)}\n"


ACCURACY_START, ACCURACY_END = "<!-- accuracy:start -->", "<!-- accuracy:end -->"
#: The pages that show the accuracy table (results/accuracy.json, tests/benchmarks/accuracy.py).
ACCURACY_PAGES = (README, ROOT / "docs" / "pages" / "data.md")


def accuracy_block() -> str:
    """The shipped studies' accuracy against Kim's CNN-rand, as the last accuracy benchmark measured it."""
    result = _load("accuracy")
    if not result:
        raise SystemExit("results/accuracy.json is missing: python -m tests.benchmarks.accuracy")
    lines = [
        "| set | study, searched parameters pinned to (or searched) | measured | accuracy | 95% interval "
        "| reference | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        if row["pinned"]:
            pinned = ", ".join(f"{key} {value}" for key, value in row["pinned"].items())
        else:
            best = ", ".join(f"{key} {value}" for key, value in row["best_params"].items())
            pinned = f"searched as shipped, {row['trials']} trials; the best on validation: {best}"
        interval = f"{row['ci95'][0]:.1f} to {row['ci95'][1]:.1f}" if "ci95" in row else "one run"
        verdict = "at or above" if row["meets_reference"] else "**below**"
        lines.append(
            f"| {row['dataset']} | `{row['study']}`, {pinned} | {row['measure']} | {row['accuracy']:.1f}% "
            f"| {interval} | {row['reference']:.1f}% ({row['reference_name']}): {verdict} | {row['seconds']:.0f} |"
        )
    m = result["machine"]
    loads = "; ".join(
        f"{row['dataset']} {row['load_before']} before, {row['load_after']} after" for row in result["rows"]
    )
    lines += [
        "",
        f"Measured by `python -m tests.benchmarks.accuracy` (part of `make bench`) on {m['cpu']}, "
        f"{m['cpu_count']} cores, Keras backend {m['keras_backend']}, finished {result['finished_at']}; "
        f"load average (1, 5, 15 min): {loads}.",
    ]
    return "\n".join(lines) + "\n"


POOLINGS_START, POOLINGS_END = "<!-- poolings:start -->", "<!-- poolings:end -->"
SEED_ARTICLE_START, SEED_ARTICLE_END = "<!-- seed-article:start -->", "<!-- seed-article:end -->"


def pooling_block() -> str:
    """Every pooling on MR and SST-2 (results/poolings.json) and IMDB (benchmark (d), masked), with intervals."""
    from tests.benchmarks.poolings import POOLINGS as names

    columns: list[tuple[str, dict[str, dict[str, Any]]]] = []
    notes = []
    poolings = _load("poolings")
    for row in (poolings or {}).get("rows", []):
        results = {r["value"]: {**r, "params": r["costs"].get("params")} for r in row["compare"]["results"]}
        columns.append((row["dataset"].upper().replace("SST2", "SST-2"), results))
        notes.append(
            f"{row['dataset']}: `{row['study']}` with embedding_dim {row['pinned']['embedding_dim']}, "
            f"{row['measure']}, {len(row['compare']['seeds'])} paired seeds (`gapsearch compare --param pooling`), "
            f"{row['seconds']:.0f} s, load {row['load_before']} before, {row['load_after']} after"
        )
    masking = _load("masked_pooling")
    if masking and "rows" in masking:
        chosen = masking["attention_defaults"]["from"]
        imdb = {
            name: {**masking["rows"][name]["masked"], "params": masking["rows"][name]["params"]}
            for name in names
            if name in masking["rows"]
        }
        imdb["attention"] = {**masking["rows"][chosen]["masked"], "params": masking["rows"][chosen]["params"]}
        columns.append(("IMDB", imdb))
        notes.append(
            f"IMDB: benchmark (d), masked, attention with its defaults ({chosen}); {masking['what']}; "
            f"{masking['seconds']:.0f} s, load {masking['load_average_before']} before, "
            f"{masking['load_average_after']} after"
        )
    if not columns:
        raise SystemExit("no pooling results: python -m tests.benchmarks.poolings and tests.benchmarks.masked_pooling")
    lines = [
        "| pooling | " + " | ".join(f"{name} accuracy [95% CI] | {name} parameters" for name, _ in columns) + " |",
        "|---|" + "---|---|" * len(columns),
    ]
    for pooling in names:
        cells = []
        for _, results in columns:
            result = results.get(pooling)
            cells += [_mean_ci(result), f"{result['params']:,}"] if result else ["not run", ""]
        lines.append(f"| {pooling} | " + " | ".join(cells) + " |")
    machine = (poolings or masking)["machine"]
    lines += ["", "Measured on " + f"{machine['cpu']}, {machine['cpu_count']} cores. " + "; ".join(notes) + "."]
    return "\n".join(lines) + "\n"


def seed_article_block() -> str:
    """The articles' claims and what `gapsearch compare` on studies/seed-article.yaml measured of them."""
    result = _load("seed_article")
    if not result:
        raise SystemExit("results/seed_article.json is missing: python -m tests.benchmarks.seed_article")
    dims = result["compare"]["embedding_dim"]["results"]
    pools = result["compare"]["pooling"]["results"]
    lines = [
        f"`studies/seed-article.yaml` (SST-2, validation on its dev set), {result['seeds']} paired seeds, "
        f"the other parameters from trial {result['base_trial']} (average pooling):",
        "",
        "| model | val_accuracy [95% CI] | parameters | seconds per epoch | train-val gap |",
        "|---|---|---|---|---|",
    ]
    for label, rows in (("embedding_dim", dims), ("pooling", pools)):
        for row in sorted(rows, key=lambda r: str(r["value"]).zfill(4)):
            lines.append(
                f"| {label} {row['value']} | {_mean_ci(row)} | {row['costs']['params']:,} "
                f"| {row['mean_seconds_per_epoch']:.1f} | {row['mean_gap']:+.4f} |"
            )
    from tests.benchmarks.seed_article import verdicts

    # Decided again from the stored comparisons, by the benchmark's own rules.
    v = verdicts({int(row["value"]): row for row in dims}, {row["value"]: row for row in pools})
    gain = v["64_bottlenecks"]["difference_256_minus_64"]
    over = v["512_costs_more_and_overfits"]
    costs_more, overfits = over["costs_more"], over["overfits"]
    flat = v["average_matches_flatten_with_fewer_parameters"]
    said = {True: "holds", False: "does not hold"}
    by_pooling = {row["value"]: row["costs"]["params"] for row in pools}
    extra = by_pooling["flatten"] - by_pooling["average"]
    lines += [
        "",
        f"- *64 dimensions are a bottleneck, 256 does better*: {said[v['64_bottlenecks']['holds']]}. 256 minus 64: "
        f"{_mean_ci(gain, points=True)} points (paired, 95% CI).",
        f"- *512 costs more*: {said[costs_more]}. It has {over['params_ratio_512_to_256']:.2f}x the parameters of "
        f"256 and takes {over['seconds_per_epoch_ratio_512_to_256']:.2f}x the seconds per epoch.",
        f"- *512 overfits* (no better accuracy, a wider train-val gap): {said[overfits]}. 512 minus 256: "
        f"{_mean_ci(over['difference_512_minus_256'], points=True)} points; its train-val gap is "
        f"{100 * over['gap_512_minus_256']:+.2f} points wider.",
        f"- *Global average pooling matches flattening with far fewer parameters*: {said[flat['holds']]}. "
        f"Flatten minus average: {_mean_ci(flat['difference_flatten_minus_average'], points=True)} points; "
        f"flatten adds {extra:,} parameters, a weight per position and map in the output layer where average "
        f"pooling has one per map ({flat['params_ratio_flatten_to_average']:.3f}x the whole model's, most of "
        "which is the embedding).",
        "",
        "Measured by `python -m tests.benchmarks.seed_article` (part of `make bench`): "
        + "; ".join(f"`{c}`" for c in result["commands"])
        + f". {_machine(result)}; {result['seconds']:.0f} s in all.",
    ]
    return "\n".join(lines) + "\n"


def _replace_block(path: Path, start: str, end: str, text: str) -> None:
    content = path.read_text()
    if start not in content or end not in content:
        raise SystemExit(f"{path.relative_to(ROOT)} has no {start} ... {end} section to fill")
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{text}{end}{tail}")


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _machine(result: dict[str, Any]) -> str:
    m = result["machine"]
    v = m["versions"]
    return (
        f"{m['cpu']}, {m['cpu_count']} cores; TensorFlow {v['tensorflow']}, Keras {v['keras']}, "
        f"Optuna {v['optuna']}, KerasTuner {v['keras-tuner']}; load average {result['load_average_before']} "
        f"before, {result['load_average_after']} after; finished {result['finished_at']}"
    )


def _mean_ci(summary: dict[str, Any], *, points: bool = False) -> str:
    """``0.8512 [0.8421, 0.8603]``, or in points (``+0.41 [-0.52, +1.34]``); without an interval, the mean alone."""
    scale, form = (100.0, "{:+.2f}") if points else (1.0, "{:.4f}")
    text = form.format(scale * summary["mean"])
    if summary.get("ci_low") is not None:
        text += f" [{form.format(scale * summary['ci_low'])}, {form.format(scale * summary['ci_high'])}]"
    return text


def _span(quartiles: list[float]) -> str:
    return f"{quartiles[0]:.3f} to {quartiles[1]:.3f}"


def tables() -> str:
    parts: list[str] = []
    overhead = _load("trial_overhead")
    if overhead:
        o = overhead["overhead"]
        parts += [
            "**(a) Per-trial overhead** (`python -m tests.benchmarks.trial_overhead`): "
            f"{overhead['what']}; {overhead['rounds']} rounds.",
            "",
            "| side | seconds per trial (median) | ratio to bare `model.fit` (median of the rounds) "
            "| middle half of the rounds' ratios |",
            "|---|---|---|---|",
            "| bare `model.fit` script (gapsearch's builder: `steps_per_execution: auto`, "
            f"{AUTO_STEPS_PER_EXECUTION} steps per call here) | {o['bare_seconds']:.2f} | 1.000 | |",
            f"| gapsearch trial, defaults (the same {AUTO_STEPS_PER_EXECUTION} steps per call) "
            f"| {o['gapsearch_seconds']:.2f} | {o['ratio']:.3f} | {_span(o['ratio_quartiles'])} |",
            f"| gapsearch trial at one step per call (`{overhead['one_step_options']}`, Keras' default) "
            f"| {o['gapsearch_one_step_seconds']:.2f} | {o['ratio_one_step']:.3f} "
            f"| {_span(o['ratio_one_step_quartiles'])} |",
            "",
            "Ratio in each round, defaults: " + ", ".join(f"{r:.3f}" for r in o["round_ratios"]) + "; "
            "at one step per call: "
            + ", ".join(f"{r:.3f}" for r in o["round_ratios_one_step"])
            + ". "
            + (
                "Both gapsearch trials reached the same val_accuracy in every round." if o["val_accuracy_equal"] else ""
            ),
            "",
            "CPU time of the process (all its threads), which other work on the machine does not "
            f"lengthen: gapsearch at its defaults used {o['cpu_ratio']:.3f} times the bare script's "
            f"(median of the rounds; middle half {_span(o['cpu_ratio_quartiles'])}).",
            "",
            "Of a gapsearch trial, everything but `model.fit` (sampling, run attributes, building the model, "
            f"costs, artifacts, SQLite writes, freeing memory) took {o['gapsearch_outside_fit_seconds']:.2f} s "
            "(median).",
            "",
            "**Fast-trial options**, each a gapsearch trial of the same model, each side in its own process "
            f"({overhead['option_rounds']} rounds):",
            "",
            "| study options | seconds per trial (median) | against the defaults | val_accuracy of the trials |",
            "|---|---|---|---|",
        ]
        for side, row in overhead["options"].items():
            label = "defaults" if side == "gapsearch" else f"`{side}`"
            accuracies = ", ".join(f"{v:.3f}" for v in row["val_accuracy"])
            parts.append(f"| {label} | {row['seconds']:.2f} | {row['ratio_to_default']:.3f} | {accuracies} |")
        parts += ["", f"Machine: {_machine(overhead)}.", ""]
    search = _load("kerastuner_search")
    if search:
        parts += [
            "**(b) gapsearch against KerasTuner** (`python -m tests.benchmarks.kerastuner_search`): "
            f"{search['what']}. gapsearch's study sets `{search['gapsearch_speed_options']}` and keeps its "
            f"default median pruner; {search['rounds']} rounds of random search, "
            f"{search.get('hyperband_rounds', search['rounds'])} of Hyperband.",
            "",
            "| search | gapsearch seconds | KerasTuner seconds | time ratio | gapsearch best val_accuracy "
            "| KerasTuner best val_accuracy | difference (points) | epochs trained (gapsearch / KerasTuner) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        rows = [
            ("random_search", "random_search_runs", "gapsearch", "random", "grid"),
            ("random_search_with_repeats", "random_search_runs", "gapsearch_random_sampler", "random", "random"),
            ("hyperband", "hyperband_runs", "gapsearch", "Hyperband", "grid"),
        ]
        for key, runs_key, ours, name, sampler in rows:
            if key not in search:
                continue
            s, runs = search[key], search[runs_key]
            label = f"{name}, {runs['kerastuner'][0]['trials']} trials, gapsearch `sampler: {sampler}`"
            if key != "hyperband":  # Hyperband runs a combination again, with more epochs, by design
                combinations = "/".join(str(r["combinations"]) for r in (runs[ours][0], runs["kerastuner"][0]))
                label += f" ({combinations} combinations tried)"
            epochs = " / ".join(",".join(str(r["epochs_trained"]) for r in runs[side]) for side in (ours, "kerastuner"))
            parts.append(
                f"| {label} | {s['gapsearch_seconds']:.1f} | {s['kerastuner_seconds']:.1f} | {s['time_ratio']:.3f} "
                f"| {s['gapsearch_best_val_accuracy']:.4f} | {s['kerastuner_best_val_accuracy']:.4f} "
                f"| {s['accuracy_difference_points']:+.2f} | {epochs} |"
            )
        ratios = search["random_search"].get("round_ratios")
        if ratios:
            parts += ["", "Time ratio of each random-search round: " + ", ".join(f"{r:.3f}" for r in ratios) + "."]
        space = search["space"]
        parts += [
            "",
            f"Combinations tried: distinct ({', '.join(space)}) of the first round, gapsearch / KerasTuner. "
            "KerasTuner's RandomSearch never repeats one, nor does `sampler: grid` (it visits the "
            f"{math.prod(len(values) for values in space.values())} in an order shuffled from the seed); "
            "`sampler: random` draws each parameter independently.",
        ]
        parts += ["", f"Machine: {_machine(search)}.", ""]
    commits = _load("commits")
    if commits:
        parts += [
            "**Before and after, by commit** (`python -m tests.benchmarks.commits "
            + " ".join(row["commit"] for row in commits["commits"])
            + "`): "
            f"{commits['what']}; {commits['rounds']} rounds.",
            "",
            "| commit | change | seconds (median) | against the first | seconds of each round "
            "| best val_accuracy | epochs trained |",
            "|---|---|---|---|---|---|---|",
        ]
        first = commits["commits"][0]["seconds"]
        for row in commits["commits"]:
            parts.append(
                f"| {row['commit']} | {_shortened(row['subject'])} | {row['seconds']:.1f} "
                f"| {row['seconds'] / first:.3f} "
                f"| {', '.join(f'{v:.1f}' for v in row['round_seconds'])} "
                f"| {', '.join(f'{v:.4f}' for v in row['best_val_accuracy'])} "
                f"| {', '.join(str(v) for v in row['epochs_trained'])} |"
            )
        parts += ["", f"Machine: {_machine(commits)}.", ""]
    masking = _load("masked_pooling")
    if masking and "rows" in masking:
        chosen = masking["attention_defaults"]
        parts += [
            "**(d) Masked against unmasked pooling** (`python -m tests.benchmarks.masked_pooling`): "
            f"{masking['what']}. Means with 95% t-intervals over the seeds; the difference is paired by seed.",
            "",
            "| pooling | parameters | masked | unmasked (`mask_padding: false`) | masked minus unmasked (points) |",
            "|---|---|---|---|---|",
        ]
        from tests.benchmarks.masked_pooling import POOLINGS

        rank = {name: index for index, name in enumerate(POOLINGS)}  # then the attention variants, by name
        for name, row in sorted(masking["rows"].items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])):
            mark = " (the defaults)" if name == chosen["from"] else ""
            parts.append(
                f"| {name}{mark} | {row['params']:,} | {_mean_ci(row['masked'])} | {_mean_ci(row['unmasked'])} "
                f"| {_mean_ci(row['masked_minus_unmasked'], points=True)} |"
            )
        by_name = masking["rows"]
        former = by_name.get("attention heads=1 null=false")
        parts += [
            "",
            "Masked attention with its defaults, minus unmasked attention with the same settings: "
            f"{_mean_ci(by_name[chosen['from']]['masked_minus_unmasked'], points=True)} points (paired by seed)"
            + (
                f"; with the former defaults (one head, no null slot): "
                f"{_mean_ci(former['masked_minus_unmasked'], points=True)} points"
                if former
                else ""
            )
            + ". An unmasked attention can put weight on padding, that is on nothing; `attention_null` gives a "
            "masked one the same way out, and several heads let it weigh the text in several ways at once.",
            "",
            f"Attention's defaults are the masked variant with the highest mean: `attention_heads: "
            f"{chosen['attention_heads']}`, `attention_null: {str(chosen['attention_null']).lower()}`.",
            "",
            f"Machine: {_machine(masking)}.",
            "",
        ]
    cache = _load("data_cache")
    if cache:
        parts += [
            "**(c) Data preparation, cold against cached** (`python -m tests.benchmarks.data_cache`): "
            f"{cache['what']}; median of {cache['repeats']}.",
            "",
            "| preparation | seconds (median) | share of cold |",
            "|---|---|---|",
            f"| cold: read, tokenize, build the vocabulary, vectorize, write the cache | {cache['cold_median']:.2f} "
            "| 100% |",
            f"| cached: fingerprint, memory-map, verify checksums | {cache['cached_median']:.3f} "
            f"| {cache['cached_over_cold']:.1%} |",
            "",
            f"Machine: {_machine(cache)}.",
            "",
        ]
    parts += _checkpoint_table()
    parts += _mo_pruning()
    parts += _gpu()
    return "\n".join(parts).rstrip() + "\n"


def _checkpoint_table() -> list[str]:
    """(e) What a trial's per-epoch checkpoint costs (tests/benchmarks/checkpoints.py)."""
    result = _load("checkpoints")
    if not result:
        return []
    parts = [
        f"**(e) Checkpoints of running trials** (`python -m tests.benchmarks.checkpoints`): {result['what']}.",
        "",
        "| quickstart model | parameters | disk per checkpoint | writing one (median) | seconds per epoch "
        "without / with checkpoints (median) |",
        "|---|---|---|---|---|",
    ]
    for name, row in result["models"].items():
        parts.append(
            f"| {name} ({', '.join(f'{k} {v}' for k, v in row['hyperparameters'].items())}) | {row['params']:,} "
            f"| {row['checkpoint_bytes'] / 1e6:.2f} MB | {row['save_seconds_median']:.3f} s "
            f"| {row['epoch_seconds_without']:.3f} / {row['epoch_seconds_with']:.3f} |"
        )
    return [*parts, "", f"Machine: {_machine(result)}.", ""]


def _gpu() -> list[str]:
    """(g) The GPU check (tests/benchmarks/gpu.py), or the statement that no GPU figure exists yet."""
    result = _load("gpu")
    title = "**(g) On a GPU** (`KERAS_BACKEND=torch python -m tests.benchmarks.gpu`)"
    if not result:
        return [
            f"{title}: no GPU figure exists yet. No GPU machine has run the check; every figure above is "
            "from CPUs. `python -m tests.benchmarks.gpu --dry-run` runs it end to end on any machine.",
            "",
        ]
    from tests.benchmarks.gpu import table

    return [
        f"{title}: IMDB, {result['seconds_per_side']:.0f} s of `gapsearch run` a side; one worker against four "
        "sharing the GPU (`--gpus 0 --trials-per-gpu 4`), float32 against `mixed_precision: bfloat16`.",
        "",
        table(result["sides"]),
        "",
        f"Machine: {_machine(result)}.",
        "",
    ]


MO_PRUNING_PLOT = PAGE.parent / "images" / "mo_pruning.png"


def _mo_pruning() -> list[str]:
    result = _load("mo_pruning")
    if not result:
        return []
    rows = result["per_seed"]
    parts = [
        "**(f) Pruning two objectives** (`python -m tests.benchmarks.mo_pruning`): "
        f"{result['what']}; seeds {', '.join(map(str, result['seeds']))}. Hypervolume: {result['hypervolume']} "
        f"({result['reference_params']} parameters).",
        "",
        "| seed | epochs trained, no pruner / cost_aware | trials pruned | final hypervolume, no pruner / cost_aware "
        "| no pruner's hypervolume at cost_aware's epochs | epochs to the no-pruner final hypervolume "
        "(no pruner / cost_aware) | same front | seconds, no pruner / cost_aware |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        reach = " / ".join(
            "not measured" if key not in row else "never" if row[key] is None else str(row[key])
            for key in ("epochs_to_final_hypervolume_no_pruner", "epochs_to_final_hypervolume_cost_aware")
        )
        parts.append(
            f"| {row['seed']} | {row['epochs_no_pruner']} / {row['epochs_cost_aware']} | {row['pruned']} "
            f"| {row['hypervolume_no_pruner']:.4f} / {row['hypervolume_cost_aware']:.4f} "
            f"| {row['hypervolume_no_pruner_at_cost_aware_epochs']:.4f} | {reach} "
            f"| {'yes' if row['same_front'] else 'no'} "
            f"| {row['seconds_no_pruner']:.1f} / {row['seconds_cost_aware']:.1f} |"
        )
    parts += [
        "",
        f"![hypervolume against epochs trained, per seed]({MO_PRUNING_PLOT.relative_to(PAGE.parent)})",
        "",
        f"Machine: {_machine(result)}.",
        "",
    ]
    return parts


def _plot_mo_pruning(result: dict[str, Any]) -> None:
    """Hypervolume against epochs trained, one line per side and seed, drawn for the benchmarks page."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    colors = {"no pruner": "tab:gray", "cost_aware": "tab:blue"}
    for side, runs in result["runs"].items():
        for index, run in enumerate(runs):
            epochs = [0] + [at for at, _ in run["curve"]]
            volumes = [0.0] + [hv for _, hv in run["curve"]]
            axes.step(
                epochs,
                volumes,
                where="post",
                color=colors.get(side),
                alpha=0.85,
                linestyle=("-", "--", ":")[index % 3],
                label=f"{side}, seed {run['seed']}",
            )
    axes.set_xlabel("epochs trained (all trials, pruned ones included)")
    axes.set_ylabel("hypervolume of the front (normalized)")
    axes.set_ylim(bottom=0.4)
    axes.legend(fontsize=8, loc="lower right")
    axes.set_title("MR, val_accuracy and params: hypervolume per epoch trained")
    figure.tight_layout()
    figure.savefig(MO_PRUNING_PLOT, dpi=100)
    plt.close(figure)


def main() -> None:
    text = tables()
    if "--print" in sys.argv:
        print(text)
        return
    _replace_block(PAGE, START, END, text)
    _replace_block(README, QUICKSTART_START, QUICKSTART_END, quickstart_block())
    _replace_block(ROOT / "docs" / "pages" / "index.md", QUICKSTART_START, QUICKSTART_END, quickstart_block())
    _replace_block(README, EXPLAIN_START, EXPLAIN_END, explain_example_block(whole=False))
    _replace_block(EXPLAIN_PAGE, EXPLAIN_START, EXPLAIN_END, explain_example_block(whole=True))
    if _load("accuracy"):
        for path in ACCURACY_PAGES:
            _replace_block(path, ACCURACY_START, ACCURACY_END, accuracy_block())
    if _load("poolings") or _load("masked_pooling"):
        _replace_block(README, POOLINGS_START, POOLINGS_END, pooling_block())
    if _load("seed_article"):
        _replace_block(README, SEED_ARTICLE_START, SEED_ARTICLE_END, seed_article_block())
    mo_pruning = _load("mo_pruning")
    if mo_pruning:
        _plot_mo_pruning(mo_pruning)
    print(f"{PAGE.relative_to(ROOT)}: benchmark tables updated; README.md: the quickstart's output")


def _shortened(text: str, limit: int = 90) -> str:
    """``text`` cut at a word before ``limit`` characters."""
    return text if len(text) <= limit else text[: text.rfind(" ", 0, limit)] + " ..."


if __name__ == "__main__":
    main()
