"""The documentation's benchmark tables and plot, from ``tests/benchmarks/results/*.json``.

Rewrites the part of docs/pages/benchmarks.md between ``<!-- benchmarks:start -->`` and
``<!-- benchmarks:end -->``, the README's two blocks (the recorded quickstart output between
``<!-- quickstart:start -->`` and ``<!-- quickstart:end -->``, and the shipped studies' answer between
``<!-- answer:start -->`` and ``<!-- answer:end -->``), every other ``<!-- NAME:start -->`` block of the docs
pages (speed, accuracy, poolings and the articles' claims on the benchmarks page, workers, a worker's memory
from report_soak, the default pruner's reason on study-file.md, the explain example, the objectives page's
worked examples, pre-trained vectors on data.md), and draws the plots under docs/pages/images/ (``make bench``
runs it last);
``--print`` prints the benchmarks page's tables instead and writes nothing.

    python -m tests.benchmarks.report [--print]
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any

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


def explain_example_block() -> str:
    """The SST-2 explain example (results/explain_example.json): every command with what it printed."""
    result = _load("explain_example")
    if not result:
        raise SystemExit("results/explain_example.json is missing: python -m tests.benchmarks.explain_example")
    return _commands_block(result["steps"], result)


def _commands_block(steps: list[dict[str, Any]], result: dict[str, Any]) -> str:
    """Recorded commands with what each printed, and the line saying where and when they ran."""
    body = "\n".join(f"$ {step['command']}\n{step['output'].rstrip()}" for step in steps)
    seconds = "; ".join(f"`{step['command']}` {step['seconds']:.0f} s" for step in steps)
    return f"```console\n{body}\n```\n\n{_recorded(result)} Wall time: {seconds}.\n"


OBJECTIVES_PAGE = ROOT / "docs" / "pages" / "objectives.md"
PARETO_START, PARETO_END = "<!-- pareto-example:start -->", "<!-- pareto-example:end -->"
MR_COMPARE_START, MR_COMPARE_END = "<!-- mr-compare-example:start -->", "<!-- mr-compare-example:end -->"
MR_READING_START, MR_READING_END = "<!-- mr-compare-reading:start -->", "<!-- mr-compare-reading:end -->"


def _objectives_examples() -> dict[str, Any]:
    result = _load("objectives_examples")
    if not result:
        raise SystemExit("results/objectives_examples.json is missing: python -m tests.benchmarks.objectives_examples")
    return result


def pareto_example_block() -> str:
    """quickstart-pareto run and its front listed (results/objectives_examples.json), and what the front shows:
    the most accurate trial of all against the front's most accurate one."""
    result = _objectives_examples()
    trials = result["pareto_trials"]
    metric, cost = list(trials[0]["values"])
    bound = result["pareto_bounds"][cost]["max"]
    top = max(trials, key=lambda t: t["values"][metric])  # the first of equals, by trial number
    front = [t for t in trials if t["number"] in result["pareto_front"]]
    best = max(front, key=lambda t: (t["values"][metric], -t["values"][cost]))
    ties = [t["number"] for t in trials if t["values"][metric] == top["values"][metric] and t is not top]
    tied = f" (trial{'s' if len(ties) > 1 else ''} {', '.join(map(str, ties))} as accurate)" if ties else ""
    if top["feasible"]:
        reading = f"Trial {top['number']} is the most accurate of the {len(trials)}{tied}, and within the bound."
    else:
        below = top["values"][metric] - best["values"][metric]
        reading = (
            f"Trial {top['number']} is among the most accurate of the {len(trials)}{tied}, but at "
            f"{top['values'][cost]:.0f} {cost} it breaks the {bound:.0f} bound; on the front, trial "
            f"{best['number']} is {'as accurate' if below == 0 else f'{below:.4f} below it'} at "
            f"{best['values'][cost] / top['values'][cost]:.2f} of its size."
        )
    return _commands_block(result["examples"]["pareto"], result) + f"\n{reading}\n"


def mr_compare_example_block() -> str:
    """The MR pooling comparison as run and printed (results/objectives_examples.json)."""
    result = _objectives_examples()
    return _commands_block(result["examples"]["compare"], result)


def mr_compare_reading() -> str:
    """What the recorded MR comparison says about Zhang & Wallace's finding (1-max pooling best), figures and
    verdicts read from the stored comparison."""
    from gapsearch.stats import paired_p_value, summarize

    result = _objectives_examples()
    compared = result["comparison"]
    runs = {str(value["value"]): value for value in compared["results"]}
    maximum, average = runs["max"]["runs"], runs["average"]["runs"]
    difference = summarize([m - a for m, a in zip(maximum, average, strict=True)])
    p_value = paired_p_value(maximum, average)
    p_text = "p not defined" if p_value is None else f"p = {p_value:.2f}"
    mean, low, high = (100 * v for v in (difference.mean, difference.low, difference.high))
    interval = f"{low:+.2f} to {high:+.2f} points"
    if low <= 0 <= high:
        verdict = (
            f"max pooling does not beat average pooling: max minus average is {mean:+.2f} points on average, "
            f"the 95% interval of the paired difference ({interval}) holds zero, and {p_text}. So this setting "
            "does not reproduce the finding. It does not refute it either: the interval still allows max pooling "
            f"to be ahead by up to {high:.2f} points, or behind by up to {-low:.2f} points."
        )
    elif low > 0:
        verdict = (
            f"max pooling beats average pooling by {mean:.2f} points (the 95% interval of the paired difference, "
            f"{interval}, excludes zero; {p_text}): this setting reproduces the finding."
        )
    else:
        verdict = (
            f"average pooling beats max pooling by {-mean:.2f} points (max minus average: {interval}, excluding "
            f"zero; {p_text}): this setting contradicts the finding."
        )
    spread = 100 * statistics.fmean(value["std"] for value in compared["results"])
    single = 100 * (result["search"]["max"] - result["search"]["average"])
    noise = math.sqrt(2) * spread
    search = (
        f"The single runs of the search had max pooling {single:+.2f} points against average pooling. With a spread "
        f"of about {spread:.2f} points from seed to seed (the mean standard deviation), the gap between two single "
        f"runs varies by about {noise:.2f} points ({spread:.2f} times the square root of 2) by chance alone"
        + (", so that gap says little by itself" if abs(single) <= 2 * noise else "")
        + ", which is the variance Zhang & Wallace warned about."
    )
    best = str(compared["best"])
    attention = runs["attention"]
    if best == "attention":
        others = "Attention pooling has the best mean of the three."
    else:
        d = attention["difference"]
        within = d["ci_low"] <= 0 <= d["ci_high"]
        others = (
            f"Attention pooling is {100 * d['mean']:+.2f} points against {best} pooling (interval "
            f"{100 * d['ci_low']:+.2f} to {100 * d['ci_high']:+.2f}, p = {attention['p_value']:.2f}): "
            + ("within seed noise." if within else "outside seed noise.")
        )
    rows = result["counts"]["validation"]
    return (
        "What it shows about the published finding. Zhang & Wallace (2015) found 1-max pooling better than the "
        "other pooling strategies they tried for CNN sentence classifiers, average pooling among them and MR among "
        f"their datasets. Here, {verdict} {search} {others} On this validation split of {rows} sentences, one "
        f"sentence is worth {100 / rows:.2f} points.\n"
    )


ACCURACY_START, ACCURACY_END = "<!-- accuracy:start -->", "<!-- accuracy:end -->"
#: The pages that show the accuracy table (results/accuracy.json, tests/benchmarks/accuracy.py).
ACCURACY_PAGES = (PAGE, ROOT / "docs" / "pages" / "data.md")


def accuracy_block() -> str:
    """The shipped studies' accuracy against Kim's CNN-rand, as the last accuracy benchmark measured it, with how
    many times each row read its test set and what was chosen between the readings (results/test_readings.json)."""
    from tests.benchmarks import readings

    result = _load("accuracy")
    if not result:
        raise SystemExit("results/accuracy.json is missing: python -m tests.benchmarks.accuracy")
    ledger = readings.by_case()
    lines = [
        "| set | study, searched parameters pinned to (or searched) | measured | accuracy | 95% interval "
        "| reference | test readings | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        read = ledger.get(readings.case_of(row), [])
        if not readings.shows(row, read):
            raise SystemExit(
                f"results/test_readings.json's last readings of {readings.case_of(row)} are not "
                f"results/accuracy.json's {row.get('seed_values', row['accuracy'])}: record them "
                "(tests.benchmarks.readings)"
            )
        if row["pinned"]:
            pinned = ", ".join(f"{key} {_shown(value)}" for key, value in row["pinned"].items())
            if row.get("chosen_on_validation"):
                pinned += f" ({row['chosen_on_validation']})"
        else:
            best = ", ".join(f"{key} {value}" for key, value in row["best_params"].items())
            pinned = f"searched as shipped, {row['trials']} trials; the best on validation: {best}"
        interval = f"{row['ci95'][0]:.1f} to {row['ci95'][1]:.1f}" if "ci95" in row else "one run"
        verdict = "at or above" if row["meets_reference"] else "**below**"
        lines.append(
            f"| {row['dataset']} | `{row['study']}`, {pinned} | {row['measure']} | {row['accuracy']:.1f}% "
            f"| {interval} | {row['reference']:.1f}% ({row['reference_name']}): {verdict} | {len(read)} "
            f"| {row['seconds']:.0f} |"
        )
    m = result["machine"]
    # `--only` reruns some rows: each row says where and when it ran (rows written before rows recorded it do not).
    loads = "; ".join(
        f"{row.get('case', row['dataset'])} "
        + (f"on {row['cpu']}, {row['finished_at']}, " if "cpu" in row else "(machine not recorded per row), ")
        + f"{row['load_before']} before, {row['load_after']} after"
        for row in result["rows"]
    )
    lines += [
        "",
        f"Measured by `python -m tests.benchmarks.accuracy` (part of `make bench`; last written on {m['cpu']}, "
        f"{m['cpu_count']} cores, Keras backend {m['keras_backend']}, {result['finished_at']}); "
        f"load average (1, 5, 15 min): {loads}.",
        "",
        *_test_readings(result["rows"], ledger),
        *_vectors(result["rows"]),
    ]
    return "\n".join(lines) + "\n"


def _shown(value: Any) -> str:
    """A pinned value as a study file writes it (a mapping in YAML's flow style)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_shown(item)}" for key, item in value.items()) + "}"
    return str(value).lower() if isinstance(value, bool) else str(value)


#: Done-when of issue 37: non-static at least this many points above the same study's rand, per set.
VECTORS_TARGETS = {"mr": 1.0, "sst2": 0.5}


def _vectors(rows: list[dict[str, Any]]) -> list[str]:
    """Rand, static and non-static per set (the ``<set>-rand50``, ``-static``, ``-nonstatic`` rows): each with its
    interval, each pre-trained row's difference from rand paired by fold or by seed, and Kim's figures."""
    from gapsearch.stats import summarize
    from tests.benchmarks.accuracy import KIM_VECTORS, VARIANTS, VECTOR_STUDIES

    by_case = {row.get("case"): row for row in rows}
    sets = [prefix for prefix, _, _ in VECTOR_STUDIES if f"{prefix}-rand50" in by_case]
    if not sets:
        return []

    def runs(row: dict[str, Any]) -> list[float]:
        if "fold_values" in row:
            return [100 * v for v in row["fold_values"]]
        return row.get("seed_values", [row["accuracy"]])

    def cell(values: list[float]) -> str:
        s = summarize(values)
        return f"{s.mean:.1f} [{s.low:.1f}, {s.high:.1f}]" if s.low is not None else f"{s.mean:.1f} (one run)"

    names = {"mr": "MR", "sst2": "SST-2", "sst5": "SST-5", "sst5-phrases": "SST-5, trained on phrases"}
    lines = [
        "",
        "Pre-trained vectors: each set's shipped study, pinned as above at 50 dimensions (GloVe's), trained with "
        "no vectors (rand), with `model.embedding: {vectors: ../../shared/vectors/glove.6B.50d.txt.gz, "
        "trainable: false}` (static) and with `trainable: true` (non-static); the same seeds, folds and epochs "
        "rule (chosen on validation). Mean and 95% interval: MR over its 10 folds, SST-2 and SST-5 over seeds 1, 2 "
        "and 3 (SST-5 trained on phrases: one run, the study's seed); each difference is paired (by fold, by seed). "
        "Kim's figures (word2vec, 300 dimensions; rand 300 dimensions too) for scale:",
        "",
        "| set | rand | static | non-static | static minus rand | non-static minus rand | validation accuracy "
        "(the dev set): rand / static / non-static | Kim: rand / static / non-static |",
        "|---|---|---|---|---|---|---|---|",
    ]
    said = []
    for name in sets:
        rand = by_case[f"{name}-rand50"]
        cells, differences = [], []
        for variant in VARIANTS:
            row = by_case.get(f"{name}-{variant}")
            cells.append(cell(runs(row)) if row else "not run")
            if variant != "rand50":
                if row is None:
                    differences.append("not run")
                    continue
                paired = [a - b for a, b in zip(runs(row), runs(rand), strict=True)]
                differences.append(("+" if summarize(paired).mean >= 0 else "") + cell(paired))
                target = VECTORS_TARGETS.get(name)
                if variant == "nonstatic" and target is not None:
                    mean = summarize(paired).mean
                    verdict = "met" if mean >= target else "**not met**"
                    said.append(
                        f"{names[name]} non-static minus rand {mean:+.2f} against at least +{target}: {verdict}"
                    )
        kim = " / ".join(f"{v:.1f}" for v in KIM_VECTORS[name.split("-")[0]])
        rows_here = [by_case.get(f"{name}-{variant}") for variant in VARIANTS]
        dev = " / ".join(
            f"{row['validation_accuracy']:.1f}" if row and "validation_accuracy" in row else "-" for row in rows_here
        )
        dev = "(MR's inner splits choose epochs per fold)" if name == "mr" else dev
        lines.append(f"| {names[name]} | {' | '.join(cells)} | {' | '.join(differences)} | {dev} | {kim} |")
    lines += [
        "",
        "Issue 37's targets: "
        + "; ".join(
            said
            + [
                f"{names[name]} non-static against rand (at least +{target}): not run"
                for name, target in VECTORS_TARGETS.items()
                if not any(part.startswith(names[name] + " ") for part in said)
            ]
        )
        + ".",
        "",
        "The comparison with Kim is one of scale, not of like with like: his vectors are word2vec's, 300 "
        "dimensions trained on about 100 billion words of Google News with case kept; these are GloVe 6B's, 50 "
        "dimensions trained on 6 billion tokens of Wikipedia 2014 and Gigaword 5, lowercased. Fewer dimensions "
        "from a smaller corpus carry less about each word, and at 50 dimensions the convolution sees a sixth of "
        "Kim's input width (his rand row is 300 dimensions too), so smaller gains over rand than Kim's are "
        "expected; within each set here the three rows differ only in how the embedding starts and whether it "
        "trains.",
    ]
    return lines


def _test_readings(rows: list[dict[str, Any]], ledger: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What chose what, row by row: each row's test readings in order, what changed between them and on what it
    was chosen, and how often each set's test set was read (results/test_readings.json)."""
    from tests.benchmarks import readings

    def shown(value: Any) -> str:
        return "its default" if value is None else str(value)

    def figures(entries: list[dict[str, Any]], reference: float) -> str:
        said = []
        for entry in entries:
            details = []
            if entry.get("best_params"):
                details.append("the search's best: " + ", ".join(f"{k} {v}" for k, v in entry["best_params"].items()))
            if entry["accuracy"] < reference:
                details.append(f"below {reference:.1f}")
            shown_details = f" ({'; '.join(details)})" if details else ""
            said.append(f"{entry['accuracy']:.2f} at `{entry['commit'][:7]}`{shown_details}")
        return ", ".join(said)

    lines = [
        "How often each row read its test set (MR: its held-out folds), and what was chosen on what. A pinned "
        "value was chosen on validation data or fixed in the benchmark, never on a test figure; but where a reading "
        "fell below the reference, what to choose next followed it:",
        "",
    ]
    per_set: dict[str, int] = {}
    for row in rows:
        case = readings.case_of(row)
        entries = ledger[case]
        per_set[row["dataset"]] = per_set.get(row["dataset"], 0) + len(entries)
        runs = readings.stretches(entries)
        kind = "pinned" if row["pinned"] else "searched as shipped"
        said = [f"- `{case}` ({kind}), {len(entries)} {'reading' if len(entries) == 1 else 'readings'}: "]
        chosen_on = dict(
            part.split(" from ", 1) for part in (row.get("chosen_on_validation") or "").split("; ") if " from " in part
        )
        for index, (changed, stretch) in enumerate(runs):
            if index:
                what = []
                for key, (old, new) in changed.items():
                    if key == "search_space":
                        what.append("the search space changed in the study file")
                        continue
                    if key.startswith("product:"):
                        change = readings.PRODUCT_CHANGES[int(key.removeprefix("product:"))]
                        what.append(f"{change['what']} (at `{change['commit'][:7]}`; chosen on {change['chosen_on']})")
                        continue
                    why = f"chosen from {chosen_on[key]}" if key in chosen_on else "in the study file"
                    what.append(f"{key} {shown(old)} to {shown(new)} ({why})")
                said.append(f"; then {'; '.join(what)}: ")
            said.append(figures(stretch, row["reference"]))
        unchanged = [key for key in row["pinned"] if all(key not in changed for changed, _ in runs)]
        if unchanged:
            before = ", ".join(
                f"{key} {_shown(row['pinned'][key])}" + (f" (chosen from {chosen_on[key]})" if key in chosen_on else "")
                for key in unchanged
            )
            said.append(f". Pinned before this row's first reading: {before}")
        lines.append("".join(said) + ".")
    names = {"mr": "MR's folds", "sst2": "SST-2's", "sst5": "SST-5's", "imdb": "IMDB's"}
    everything = readings.load()
    reconstructed = sum(entry["reconstructed"] for entry in everything)
    lines += [
        "",
        "Test sets read by this benchmark, its rows together: "
        + ", ".join(f"{names.get(dataset, dataset)} {count}" for dataset, count in per_set.items())
        + f". {reconstructed} of the {len(everything)} readings are reconstructed from git history (each commit of "
        f"`results/accuracy.json` up to `{readings.RECONSTRUCTED_UNTIL[:7]}` in which a row appeared or was run "
        "again); runs never committed left no trace there, so those counts are a lower bound. The benchmark "
        "records every later reading as it takes it, with the study file's sha256 and the commit "
        "(`results/test_readings.json`). `tests/test_accuracy.py` reads MR's first fold and SST-2's and IMDB's test "
        "sets too, on shorter runs, as quality anchors that choose nothing; they are not counted here.",
    ]
    return lines


POOLINGS_START, POOLINGS_END = "<!-- poolings:start -->", "<!-- poolings:end -->"
SEED_ARTICLE_START, SEED_ARTICLE_END = "<!-- seed-article:start -->", "<!-- seed-article:end -->"


def pooling_block() -> str:
    """Every pooling on MR, SST-2 and SST-5 (results/poolings.json) and IMDB (benchmark (d), masked), with intervals."""
    from tests.benchmarks.poolings import POOLINGS as names

    columns: list[tuple[str, dict[str, dict[str, Any]]]] = []
    notes = []
    poolings = _load("poolings")
    for row in (poolings or {}).get("rows", []):
        results = {r["value"]: {**r, "params": r["costs"].get("params")} for r in row["compare"]["results"]}
        columns.append((row["dataset"].upper().replace("SST", "SST-"), results))
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


SPEED_START, SPEED_END = "<!-- speed:start -->", "<!-- speed:end -->"


def speed_block() -> str:
    """The benchmarks page's summary of speed: (a) against a plain Keras script, (b) against KerasTuner, (b3)
    against Optuna alone, the learning-curve replays, and the GPU line."""
    overhead, search = _load("trial_overhead"), _load("kerastuner_search")
    if not overhead:
        raise SystemExit("results/trial_overhead.json is needed: python -m tests.benchmarks.trial_overhead")
    o = overhead["overhead"]
    sides = o["sides"]
    names = list(sides)
    gapsearch, plain = sides[names[-1]], sides[names[0]]
    difference = o["accuracy_difference"]
    lines = [
        f"- **A trial against a plain Keras script** (the same model and arrays, {overhead['model']['epochs']} epochs "
        f"of MR, {overhead['rounds']} rounds taking turns): a gapsearch trial at its defaults took "
        f"{gapsearch['ratio_to_plain']:.3f} of the plain script's time "
        f"(middle half {_span(gapsearch['ratio_quartiles'])}) and "
        f"{o['gapsearch_ratio_to_plain_same_settings']:.3f} of the same script given gapsearch's settings; "
        f"val_accuracy {_mean_ci(gapsearch['val_accuracy'])} against {_mean_ci(plain['val_accuracy'])}, "
        f"a difference of {_mean_ci(difference, points=True)} points paired by seed. The settings that differ "
        "are listed under benchmark (a) below.",
    ]
    if not search:
        lines.append(
            "- **Against KerasTuner RandomSearch**: no figure yet; `python -m tests.benchmarks.kerastuner_search` "
            "has not finished a run of its rewritten form."
        )
    summary = search["summary"] if search else {}
    if search:
        lines.append(_defaults_of_b(search))
    for row, label in KERASTUNER_ROWS.items():
        r = summary.get(row)
        if r:
            lines.append(
                f"- **Against KerasTuner RandomSearch, {label}** ({r['cells']} "
                f"search{'es' if r['cells'] > 1 else ''} of "
                f"{search['cells'][row][0]['n_trials']} trials a side): gapsearch took {r['time_ratio_median']:.3f} "
                f"of KerasTuner's wall time (median; {_span(r['time_ratio_range'])}){_pruned(r, search, row)}; "
                f"its chosen configurations, trained again on new seeds, scored "
                f"{r['retrained_difference_points_median']:+.2f} points against KerasTuner's (median over the "
                f"searches; mean {_mean_ci(r['retrained_difference'], points=True)}"
                f"{_within_noise(r['retrained_difference'])}; "
                f"{_by_dataset(search['cells'][row])}); it reached KerasTuner's final best in "
                f"{r['reached_kerastuner_best']} of {r['cells']} searches{_to_best(r)}."
                + (_ceiling_summary(search["cells"][row]) if row == "default" else "")
            )
    alone = _load("optuna_alone")
    if alone:
        r = alone["summary"]
        lines.append(
            f"- **Against Optuna alone** (a hand-written objective with optuna-integration's KerasPruningCallback, "
            f"{r['cells']} seeds of one space): gapsearch took {r['time_ratio_median']:.3f} of its wall time "
            f"(median; {_span(r['time_ratio_range'])}), its chosen configuration "
            f"{r['retrained_difference_points_median']:+.2f} points against Optuna's, trained again on new seeds "
            "(benchmark (b3))."
        )
    from tests.benchmarks.report_replay import readme_line

    replay = readme_line()
    if replay:
        lines.append(replay)
    gpu = _load("gpu")
    lines.append(
        "- **On a GPU**: no GPU figure exists yet; no GPU machine has run `python -m tests.benchmarks.gpu`."
        if not gpu
        else f"- **On a GPU**: see benchmark (g) below ({_machine(gpu)})."
    )
    return "\n".join(lines) + (
        f"\n\nMeasured by `python -m tests.benchmarks.trial_overhead` ({_machine(overhead)}) and "
        f"`python -m tests.benchmarks.kerastuner_search` ({_machine(search) if search else 'not yet run'}), with "
        "`python -m tests.benchmarks.optuna_alone` and `python -m tests.benchmarks.pruners`, all part of "
        "`make bench`.\n"
    )


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


ANSWER_START, ANSWER_END = "<!-- answer:start -->", "<!-- answer:end -->"


def answer_block() -> str:
    """The README's answer of the shipped studies: which pooling (results/poolings.json, masked_pooling.json),
    how sure (the poolings within seed noise of the best), which embedding dimension (seed_article.json) and the
    test accuracy against the published figure (accuracy.json); the full tables are on the benchmarks page."""
    from gapsearch.stats import summarize
    from tests.benchmarks.poolings import POOLINGS

    poolings, masking, article, accuracy = (
        _load(name) for name in ("poolings", "masked_pooling", "seed_article", "accuracy")
    )
    if not (poolings and masking and article and accuracy):
        raise SystemExit("the answer needs results/poolings, masked_pooling, seed_article and accuracy .json")
    # Per set: (best pooling, its mean, the poolings whose paired difference to it holds 0 in its 95% interval).
    sets: dict[str, tuple[str, float, list[str]]] = {}
    for row in poolings["rows"]:
        results = row["compare"]["results"]
        best = next(r for r in results if r["value"] == row["compare"]["best"])
        noise = [r["value"] for r in results if r["difference"] and _within_noise(r["difference"])]
        sets[row["dataset"]] = (best["value"], best["mean"], noise)
    chosen = masking["attention_defaults"]["from"]  # attention as it ships: its defaults
    imdb = {name: masking["rows"][chosen if name == "attention" else name]["masked"] for name in POOLINGS}
    best_name = max(imdb, key=lambda name: imdb[name]["mean"])
    noise = []
    for name, result in imdb.items():
        paired = summarize([a - b for a, b in zip(result["runs"], imdb[best_name]["runs"], strict=True)])
        if name != best_name and paired.low is not None and paired.low <= 0 <= paired.high:
            noise.append(name)
    sets["imdb"] = (best_name, imdb[best_name]["mean"], noise)
    names = {"mr": "MR", "sst2": "SST-2", "sst5": "SST-5", "imdb": "IMDB"}
    # Test accuracy per set: the study searched as shipped where it was, else its one pinned configuration.
    tested: dict[str, dict[str, Any]] = {}
    for row in accuracy["rows"]:
        if row["dataset"] not in tested or not row["pinned"]:
            tested[row["dataset"]] = row

    from tests.benchmarks import readings

    read = [entry["dataset"] for entry in readings.load()]

    def test_cell(row: dict[str, Any]) -> str:
        interval = f" [{row['ci95'][0]:.1f}, {row['ci95'][1]:.1f}]" if "ci95" in row else ""
        how = "searched" if not row["pinned"] else ("10-fold" if "10-fold" in row["measure"] else "pinned")
        how += "" if interval else ", one run"
        times = read.count(row["dataset"])
        how += f"; its test {'folds' if 'ci95' in row else 'set'} read {'once' if times == 1 else f'{times} times'}"
        return f"{row['accuracy']:.1f}%{interval} ({how}); {row['reference_name']} {row['reference']:.1f}%"

    order = [d for d in names if d in sets]
    seeds = sorted({len(row["compare"]["seeds"]) for row in poolings["rows"]} | {len(masking["seeds"])})
    lines = [
        f"| validation accuracy, {'/'.join(map(str, seeds))} paired seeds | "
        + " | ".join(names[d] for d in order)
        + " |",
        "|---|" + "---|" * len(order),
        "| the best pooling | " + " | ".join(f"{sets[d][0]} {sets[d][1]:.4f}" for d in order) + " |",
        "| within seed noise of it | " + " | ".join(", ".join(sets[d][2]) or "none" for d in order) + " |",
        "| **test accuracy** of the shipped study, and the reference | "
        + " | ".join(test_cell(tested[d]) if d in tested else "not run" for d in order)
        + " |",
    ]
    dims = {int(r["value"]): r for r in article["compare"]["embedding_dim"]["results"]}
    from tests.benchmarks.seed_article import verdicts

    v = verdicts(dims, {r["value"]: r for r in article["compare"]["pooling"]["results"]})
    gain = v["64_bottlenecks"]["difference_256_minus_64"]
    over = v["512_costs_more_and_overfits"]
    searched = ", ".join(
        f"{row['best_params']['embedding_dim']} on {names[row['dataset']]}"
        for row in tested.values()
        if not row["pinned"] and "embedding_dim" in row["best_params"]
    )
    lines += [
        "",
        f"Which embedding dimension, on SST-2 with average pooling ({article['seeds']} paired seeds): 256 against 64, "
        f"{_mean_ci(gain, points=True)} points{_within_noise(gain)}; 512 against 256, "
        f"{_mean_ci(over['difference_512_minus_256'], points=True)} points"
        f"{_within_noise(over['difference_512_minus_256'])}, at {over['params_ratio_512_to_256']:.2f}x the "
        f"parameters and {over['seconds_per_epoch_ratio_512_to_256']:.2f}x the seconds per epoch. The shipped "
        f"searches chose embedding_dim {searched}. Seed noise: the 95% interval of the paired difference to the "
        "best holds zero. "
        "Rendered by `python -m tests.benchmarks.report` from `tests/benchmarks/results/`; every table, with its "
        "machine and load, is on [Benchmarks](docs/pages/benchmarks.md#which-pooling).",
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


def overhead_section(overhead: dict[str, Any]) -> list[str]:
    """(a): a gapsearch trial against the plain Keras script, in time and in accuracy (results/trial_overhead.json)."""
    o = overhead["overhead"]
    same = ", ".join(overhead["same_settings"])
    parts = [
        "**(a) A gapsearch trial against a plain Keras script** (`python -m tests.benchmarks.trial_overhead`): "
        f"{overhead['what']}; {overhead['rounds']} rounds. The second plain side is the same script given "
        f"gapsearch's {same}. Every setting that differs between the plain script and the gapsearch trial:",
        "",
        "| setting | plain Keras script | gapsearch trial (defaults) |",
        "|---|---|---|",
        *(f"| {name} | {row['plain']} | {row['gapsearch']} |" for name, row in overhead["differences"].items()),
        "",
        "| side | seconds per trial (median) | ratio to the plain script (median of the rounds) "
        "| middle half of the rounds' ratios | val_accuracy, mean [95% interval] over the rounds' seeds |",
        "|---|---|---|---|---|",
    ]
    for side, row in o["sides"].items():
        parts.append(
            f"| {side} | {row['seconds']:.2f} | {row['ratio_to_plain']:.3f} | {_span(row['ratio_quartiles'])} "
            f"| {_mean_ci(row['val_accuracy'])} |"
        )
    difference = o["accuracy_difference"]
    parts += [
        "",
        f"Against the plain script given the same settings, the gapsearch trial took "
        f"{o['gapsearch_ratio_to_plain_same_settings']:.3f} of its time (middle half "
        f"{_span(o['gapsearch_ratio_to_plain_same_settings_quartiles'])}). Of a gapsearch trial, everything but "
        f"`model.fit` took {o['gapsearch_outside_fit_seconds']:.2f} s (median). Its val_accuracy minus the plain "
        f"script's, paired by seed: {_mean_ci(difference, points=True)} points "
        f"({'not below' if (difference.get('ci_high') or 0) >= 0 else 'below'} the plain script's).",
        "",
        "**gapsearch's speed options**, each a gapsearch trial of the same model, each in its own process "
        f"({overhead['option_rounds']} rounds of {overhead['timed_trials_per_process']} timed trials):",
        "",
        "| study options | seconds per trial (median) | against the defaults | val_accuracy of the trials |",
        "|---|---|---|---|",
    ]
    for side, row in overhead["options"].items():
        label = side if side == "defaults" else f"`{side}`"
        accuracies = ", ".join(f"{v:.3f}" for v in row["val_accuracy"])
        parts.append(f"| {label} | {row['seconds']:.2f} | {row['ratio_to_default']:.3f} | {accuracies} |")
    return [*parts, "", f"Machine: {_machine(overhead)}.", ""]


KERASTUNER_PLOT = PAGE.parent / "images" / "kerastuner_search.png"
#: Targets of the default-against-default row (issue "fast, strong defaults").
KERASTUNER_TARGETS = {"time_ratio": 0.5, "retrained_points": -0.2, "time_to_best": 0.3}
KERASTUNER_ROWS = {
    "default": "default against default",
    "equal_compute": "at equal compute",
    "two_workers": "gapsearch with two workers",
}


def _by_dataset(cells: list[dict[str, Any]], tool: str | None = None) -> str:
    """Each dataset's mean retrained val_accuracy over its cells and seeds: one tool's, or both tools'."""
    parts = []
    for dataset in dict.fromkeys(c["dataset"] for c in cells):
        mean = {
            t: statistics.fmean(v for c in cells if c["dataset"] == dataset for v in c[t]["retrained"])
            for t in ("gapsearch", "kerastuner")
        }
        parts.append(
            f"{dataset} {mean[tool]:.4f}"
            if tool
            else f"{dataset} {mean['gapsearch']:.4f} against {mean['kerastuner']:.4f}"
        )
    return ", ".join(parts)


def _defaults_of_b(search: dict[str, Any]) -> str:
    """Which search settings benchmark (b)'s gapsearch side ran with, against the product's defaults now."""
    from tests.benchmarks.kerastuner_search import search_defaults
    from tests.benchmarks.replay import flow
    from tests.benchmarks.replay_candidates import SH1, TPE

    now = search_defaults()
    ran = search.get("gapsearch_defaults")
    if ran == now:
        return "- Benchmark (b) below ran with gapsearch's current search defaults."
    when = search["finished_at"]
    if ran is None:
        return (
            f"- Benchmark (b) below ran with the search defaults of {when}, before the learning-curve replays "
            f"changed them (`sampler: {flow(TPE)}`, `pruner: {flow(SH1)}`); it has not been run again with the "
            "current ones."
        )
    return f"- Benchmark (b) below ran with the search defaults of {when} ({ran}), not the current ones ({now})."


def _pruned(row: dict[str, Any], search: dict[str, Any], kind: str) -> str:
    """What a time ratio rests on: how many of each search's trials gapsearch pruned (median)."""
    pruned = row.get("gapsearch_pruned_median")
    if pruned is None:
        return ""
    n_trials = search["cells"][kind][0]["n_trials"]
    return f", pruning a median {pruned:g} of its {n_trials} trials ({pruned / n_trials:.0%})"


def _within_noise(difference: dict[str, Any]) -> str:
    """ ", equal within noise" where the mean difference's interval holds 0."""
    low, high = difference.get("ci_low"), difference.get("ci_high")
    return ": equal within noise" if low is not None and low <= 0 <= high else ""


def _to_best(row: dict[str, Any]) -> str:
    """When gapsearch reached KerasTuner's final best: the median share of KerasTuner's time, or never."""
    ratio = row["time_to_kerastuner_best_ratio_median"]
    if ratio is None:
        return ", so in the median search it never did"
    return f", at a median {ratio:.3f} of KerasTuner's time"


def kerastuner_section(search: dict[str, Any]) -> list[str]:
    """(b): gapsearch against KerasTuner RandomSearch, default against default and at equal compute."""
    targets = KERASTUNER_TARGETS
    rows = KERASTUNER_ROWS
    spaces = "; ".join(
        f"*{name}*: " + ", ".join(f"`{key}` {_space_text(value)}" for key, value in space.items())
        for name, space in search["spaces"].items()
    )
    equal = search["equal_compute_settings"]
    parts = [
        "**(b) gapsearch against KerasTuner RandomSearch** (`python -m tests.benchmarks.kerastuner_search`): "
        f"{search['what']}. Both sides build gapsearch's model on the same arrays; fixed `{search['fixed']}`; "
        f"datasets {', '.join(search['datasets'])} (validation: MR 20% of its rows, SST-5 its dev set; no test "
        f"set read). Spaces: {spaces}.",
        "",
        "Default against default: `gapsearch run` with every other setting at gapsearch's default (TPE, the "
        "pruner chosen by (b2), length buckets, early stopping), and `RandomSearch(build, max_trials=N)` with "
        "KerasTuner's (no early stopping, Keras' validation batch of 32). In every row gapsearch also keeps what "
        "it keeps around each trial (its default artifacts, a checkpoint of the training state each epoch, the "
        "SQLite records) and samples with TPE against KerasTuner's random draws; TPE's first 10 trials are "
        "random, so at 10 trials both sides draw at random, from different streams. KerasTuner's `build(hp)` calls "
        "gapsearch's builder, so its models are compiled with gapsearch's 8 training steps per backend call, not "
        "Keras' 1 (in KerasTuner's favour; benchmark (a) shows what that saves). Settings that differ in the "
        "equal-compute "
        f"row: gapsearch `pruner: {equal['gapsearch']['pruner']}`, `{equal['gapsearch']['model']}`; KerasTuner "
        f"`validation_batch_size={equal['kerastuner_validation_batch_size']}`. "
        + (
            f"The two-workers row runs the default row's gapsearch studies of MR's first space again with "
            f"`{search['two_workers_settings']}` (gapsearch's default without a GPU is one worker; KerasTuner "
            "searches in one process), against the same cells' KerasTuner runs. "
            if "two_workers_settings" in search
            else ""
        )
        + "Each chosen configuration was "
        f"trained again on seeds {search['retrain_seeds']} the same way for both tools.",
        "",
        "| row | cells | wall time, gapsearch / KerasTuner (median, range) | retrained val_accuracy, gapsearch "
        "(mean by dataset) | retrained val_accuracy, KerasTuner (mean by dataset) "
        "| gapsearch minus KerasTuner, points (median; mean [95%]) "
        "| gapsearch reached KerasTuner's final best (cells; median share of KerasTuner's time) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row, label in rows.items():
        r = search["summary"].get(row)
        if not r:
            continue
        span = r["time_ratio_range"]
        parts.append(
            f"| {label} | {r['cells']} | {r['time_ratio_median']:.3f} ({span[0]:.3f} to {span[1]:.3f}) "
            f"| {_by_dataset(search['cells'][row], 'gapsearch')} | {_by_dataset(search['cells'][row], 'kerastuner')} "
            f"| {r['retrained_difference_points_median']:+.2f}; {_mean_ci(r['retrained_difference'], points=True)} "
            f"| {r['reached_kerastuner_best']} of {r['cells']}; {_share(r['time_to_kerastuner_best_ratio_median'])} |"
        )
    default = search["summary"]["default"]
    checks = [
        ("wall time at most 0.5 of KerasTuner's", default["time_ratio_median"] <= targets["time_ratio"]),
        (
            "retrained accuracy at least KerasTuner's minus 0.2 points",
            default["retrained_difference_points_median"] >= targets["retrained_points"],
        ),
        (
            "KerasTuner's final best reached within 0.3 of its time",
            default["time_to_kerastuner_best_ratio_median"] is not None
            and default["time_to_kerastuner_best_ratio_median"] <= targets["time_to_best"],
        ),
    ]
    parts += [
        "",
        "Targets of the default row (medians over the cells): "
        + "; ".join(f"{text}: {'met' if ok else 'not met'}" for text, ok in checks)
        + '. A cell where gapsearch never reached KerasTuner\'s final best counts as never; "never" in the '
        "table: more than half the cells did not reach it. "
        + _kerastuner_own_best(search["cells"]["default"], targets["time_to_best"])
        + " "
        + _ceiling_text(
            time_to_best_ceiling(search["cells"]["default"], targets["time_to_best"]),
            search["machine"]["cpu_count"],
            gpu_measured=_load("gpu") is not None,
        ),
        "",
        "![Best-so-far validation accuracy against wall time](images/kerastuner_search.png)",
        "",
        f"Machine: {_machine(search)}; {search['seconds']:.0f} s in all.",
        "",
    ]
    return parts


def _kerastuner_own_best(cells: list[dict[str, Any]], target: float) -> str:
    """For scale: when KerasTuner itself first reached its own final best, as a share of its wall time, and the
    pace that ``target`` (the time-to-best target, a share of KerasTuner's time) asks of draws as good."""
    from tests.benchmarks.kerastuner_search import first_reaching

    shares = sorted(
        first_reaching(c["kerastuner"]["curve"], c["kerastuner"]["best_val_accuracy"]) / c["kerastuner"]["seconds"]
        for c in cells
    )
    (n_trials,) = {c["n_trials"] for c in cells}
    return (
        f"For scale, KerasTuner itself first reached its own final best at a median {statistics.median(shares):.3f} "
        f"of its wall time ({shares[0]:.3f} to {shares[-1]:.3f} over the {len(shares)} default cells, read off its "
        "curves). With draws of the same quality, the best of a searcher's first k complete trials beats the best of "
        f"KerasTuner's {n_trials} with chance k/(k+{n_trials}), so to do so within {target} of KerasTuner's time in "
        f"most searches it must complete more than {n_trials} trials in that time: {1 / target:.1f} times "
        "KerasTuner's pace, or draw better."
    )


def time_to_best_ceiling(cells: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """What the time-to-best target asks of any searcher, read off the default cells.

    KerasTuner's final best is the highest of its trials. How often does one more run of a chosen configuration
    (the retrained runs, new seeds) reach it; how many complete trials did each tool finish within ``target`` of
    KerasTuner's time; and the chance that a searcher at KerasTuner's pace, training KerasTuner's chosen
    configuration in every one of those trials, reaches the final best in that time: ``1 - (1 - p) ** k``, with
    ``p`` that share of runs and ``k`` KerasTuner's median count of complete trials (lower median).
    """

    def reaching(tool: str) -> list[bool]:
        return [v >= c["kerastuner"]["best_val_accuracy"] for c in cells for v in c[tool]["retrained"]]

    def within(tool: str) -> list[int]:
        return [sum(s <= target * c["kerastuner"]["seconds"] for s, _ in c[tool]["curve"]) for c in cells]

    runs = {tool: reaching(tool) for tool in ("kerastuner", "gapsearch")}
    trials = {tool: within(tool) for tool in ("kerastuner", "gapsearch")}
    share = statistics.fmean(runs["kerastuner"])
    k = statistics.median_low(trials["kerastuner"])
    return {
        "target": target,
        "runs_reaching": {tool: [sum(hits), len(hits)] for tool, hits in runs.items()},
        "complete_trials_within": {
            tool: {"median": statistics.median_low(n), "range": [min(n), max(n)]} for tool, n in trials.items()
        },
        "oracle_chance": 1 - (1 - share) ** k,
    }


#: The searcher :func:`time_to_best_ceiling` gives the chance of: the best draws at KerasTuner's pace.
_ORACLE_SEARCHER = "A searcher at KerasTuner's pace that trained KerasTuner's chosen configuration in every trial"


def _ceiling_summary(cells: list[dict[str, Any]]) -> str:
    """The summary's sentence of :func:`time_to_best_ceiling`: the chance a searcher with the best draws would have."""
    target = KERASTUNER_TARGETS["time_to_best"]
    ceiling = time_to_best_ceiling(cells, target)
    return (
        f" {_ORACLE_SEARCHER} would have reached it within {target} of KerasTuner's time with chance "
        f"{ceiling['oracle_chance']:.2f} per search "
        "(the counts behind it: benchmark (b) below)."
    )


def _ceiling_text(ceiling: dict[str, Any], cores: int, *, gpu_measured: bool) -> str:
    reached, trials = ceiling["runs_reaching"], ceiling["complete_trials_within"]
    kt, ours = trials["kerastuner"], trials["gapsearch"]
    hits, n = reached["kerastuner"]
    return (
        "What the target asks of any searcher on this machine: KerasTuner's final best is the highest of its trials, "
        f"and its own chosen configuration, trained again on new seeds, reached it in {hits} of {n} runs "
        f"(gapsearch's chosen configuration: {reached['gapsearch'][0]} of {reached['gapsearch'][1]}). Within "
        f"{ceiling['target']} of KerasTuner's time KerasTuner completed a median {kt['median']} trials "
        f"({kt['range'][0]} to {kt['range'][1]}), gapsearch {ours['median']} ({ours['range'][0]} to "
        f"{ours['range'][1]}). {_ORACLE_SEARCHER} would reach the final best in that time with chance "
        f"1 - (1 - {hits}/{n})^{kt['median']} = "
        f"{ceiling['oracle_chance']:.2f} per search"
        + (", in fewer than half the searches" if ceiling["oracle_chance"] < 0.5 else "")
        + f": the target asks for more complete trials in that time than this machine's {cores} cores give, such as "
        f"several workers sharing a GPU (benchmark (g){'' if gpu_measured else ', not yet run'})."
    )


def _share(ratio: float | None) -> str:
    return "never" if ratio is None else f"{ratio:.3f}"


def optuna_alone_section(result: dict[str, Any]) -> list[str]:
    """(b3): gapsearch against a hand-written Optuna study of one space."""
    r = result["summary"]
    differences = "; ".join(
        f"{name}: Optuna alone {alone}, gapsearch {ours}" for name, (alone, ours) in result["differences"].items()
    )
    return [
        "**(b3) gapsearch against Optuna alone** (`python -m tests.benchmarks.optuna_alone`): "
        f"{result['what']}; fixed `{result['fixed']}`. The Optuna side is written as Optuna's documentation shows "
        "for Keras (an objective building a `keras.Sequential` from `trial.suggest_*`, optuna-integration's "
        "`KerasPruningCallback`, an in-memory study); each side's chosen configuration trained again on new seeds "
        f"as in (b). Settings that differ: {differences}.",
        "",
        "| side | wall time, median (s) | trials pruned (median) | retrained val_accuracy |",
        "|---|---|---|---|",
        *(
            f"| {label} | {r['seconds_median'][side]:.1f} | {r['pruned_median'][side]:g} "
            f"| {_mean_ci(r['retrained'][side])} |"
            for side, label in (("optuna", "Optuna alone"), ("gapsearch", "gapsearch"))
        ),
        "",
        f"gapsearch took {r['time_ratio_median']:.3f} of Optuna's wall time (median; {_span(r['time_ratio_range'])}); "
        f"its chosen configuration scored {r['retrained_difference_points_median']:+.2f} points against Optuna's "
        f"(median; mean {_mean_ci(r['retrained_difference'], points=True)}). "
        f"Machine: {_machine(result)}; {result['seconds']:.0f} s in all.",
        "",
    ]


STUDY_FILE_PAGE = PAGE.parent / "study-file.md"
PRUNER_CHOICE_START, PRUNER_CHOICE_END = "<!-- pruner-choice:start -->", "<!-- pruner-choice:end -->"


WORKERS_PAGE = PAGE.parent / "workers.md"
WORKERS_START, WORKERS_END = "<!-- workers:start -->", "<!-- workers:end -->"


def workers_block() -> str:
    """The tables of docs/pages/workers.md's benchmark section (results/workers.json)."""
    result = _load("workers")
    if not result:
        raise SystemExit("results/workers.json is needed: python -m tests.benchmarks.workers")
    counts = result["workers"]
    lines = [
        f"| database | {' | '.join(f'{w} worker' + ('s' if w > 1 else '') for w in counts)} |",
        "|---|" + "---:|" * len(counts),
        *(
            f"| {kind} | " + " | ".join(f"{rates[str(w)]:.1f}" for w in counts) + " |"
            for kind, rates in result["trivial_trials_per_second"].items()
        ),
    ]
    real = result["quickstart_8_trials_seconds"]
    if real:
        lines += [
            "",
            "And a real study, `gapsearch run studies/quickstart.yaml --n-trials 8 --workers N` on SQLite, wall time "
            "with start-up:",
            "",
            "| quickstart, 8 trials, SQLite | wall time |",
            "|---|---:|",
            *(f"| {w} worker{'s' if w != '1' else ''} | {seconds:.0f} s |" for w, seconds in real.items()),
        ]
    lines += ["", f"Measured on {_machine(result)}; {result['seconds']:.0f} s in all."]
    return "\n".join(lines) + "\n"


def pruners_section(result: dict[str, Any]) -> list[str]:
    """(b2): the candidates for the default pruner on (b)'s spaces and data, and the one chosen."""
    summary = result["summary"]
    parts = [
        f"**(b2) Pruners on (b)'s searches** (`python -m tests.benchmarks.pruners`; this chose the default pruner "
        "until the learning-curve replays, which choose it now, on other data than they are scored on): "
        f"{result['what']}. "
        "Each study's chosen configuration trained again on new seeds, as in (b). The choice: the shortest median "
        f"wall time among the candidates whose retrained accuracy is within {summary['tolerance_points']} points "
        "of no pruning's (medians over the cells, paired by cell).",
        "",
        "| pruner | settings | wall time against no pruning (median; each cell) | retrained val_accuracy minus no "
        "pruning's, points (median; each cell) | trials pruned (median) |",
        "|---|---|---|---|---|",
    ]
    for name, row in summary["candidates"].items():
        cells = ", ".join(f"{r:.3f}" for r in row["time_ratios"])
        points = ", ".join(f"{p:+.2f}" for p in row["retrained_points"])
        parts.append(
            f"| {name}{' (chosen)' if name == summary['chosen'] else ''} | `{result['candidates'][name]}` "
            f"| {row['time_ratio_to_none_median']:.3f} ({cells}) | {row['retrained_points_to_none_median']:+.2f} "
            f"({points}) | {row['pruned_median']:g} |"
        )
    return [*parts, "", f"Machine: {_machine(result)}; {result['seconds']:.0f} s in all.", ""]


def _space_text(value: Any) -> str:
    if isinstance(value, list):
        return "{" + ", ".join(map(str, value)) + "}"
    text = f"{value['low']} to {value['high']}"
    return text + (f" step {value['step']}" if "step" in value else "") + (" (log)" if value.get("log") else "")


def _plot_kerastuner(search: dict[str, Any]) -> None:
    """Best-so-far val_accuracy against seconds, one panel per space and dataset, both tools, every seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = search["cells"]["default"]
    panels = sorted({(c["space"], c["dataset"]) for c in cells})
    columns = len(search["datasets"])
    figure, grid = plt.subplots(
        math.ceil(len(panels) / columns),
        columns,
        figsize=(5 * columns, 3 * math.ceil(len(panels) / columns)),
        squeeze=False,
    )
    colors = {"gapsearch": "tab:blue", "kerastuner": "tab:orange"}
    for axes, (space, dataset) in zip(grid.flat, panels, strict=False):
        for c in (c for c in cells if (c["space"], c["dataset"]) == (space, dataset)):
            for tool, color in colors.items():
                times, best, values = [0.0], [], []
                for seconds, value in c[tool]["curve"]:
                    values.append(value)
                    times.append(seconds)
                    best.append(max(values))
                axes.step(times[1:], best, where="post", color=color, alpha=0.8, label=f"{tool}, seed {c['seed']}")
            axes.axvline(c["kerastuner"]["seconds"], color=colors["kerastuner"], alpha=0.3, linewidth=0.8)
            axes.axvline(c["gapsearch"]["seconds"], color=colors["gapsearch"], alpha=0.3, linewidth=0.8)
        axes.set_title(f"{dataset}, {space}", fontsize=9)
        axes.set_xlabel("seconds since the process started", fontsize=8)
        axes.set_ylabel("best val_accuracy so far", fontsize=8)
        handles, labels = axes.get_legend_handles_labels()
        keep = {label.split(",")[0]: h for h, label in zip(handles, labels, strict=True)}
        axes.legend(keep.values(), keep.keys(), fontsize=7, loc="lower right")
    figure.suptitle(
        "gapsearch (blue) against KerasTuner RandomSearch (orange), default against default; "
        "vertical lines: each search's end",
        fontsize=9,
    )
    figure.tight_layout()
    KERASTUNER_PLOT.parent.mkdir(exist_ok=True)
    figure.savefig(KERASTUNER_PLOT, dpi=90)
    plt.close(figure)


def tables() -> str:
    parts: list[str] = []
    overhead = _load("trial_overhead")
    if overhead:
        parts += overhead_section(overhead)
    search = _load("kerastuner_search")
    if search:
        parts += kerastuner_section(search)
    alone = _load("optuna_alone")
    if alone:
        parts += optuna_alone_section(alone)
    pruners = _load("pruners")
    if pruners:
        parts += pruners_section(pruners)
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
    parts += _vocabulary()
    parts += _optimizers()
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
    from tests.benchmarks import report_soak

    parts += report_soak.section()
    return "\n".join(parts).rstrip() + "\n"


def _vocabulary() -> list[str]:
    """IMDB's vocabulary sizes on validation (results/vocabulary.json), the one the accuracy benchmark pins marked."""
    return _validation_choice(
        "vocabulary",
        "(h) IMDB's vocabulary size",
        "The accuracy benchmark pins the best.",
        "The values are listed smallest first, and `gapsearch compare` keeps that order among equal means, so a tie "
        "goes to the smaller vocabulary: validation does not tell these sizes apart.",
    )


def _optimizers() -> list[str]:
    """SST-5's optimizer on its dev set (results/optimizers.json); studies/sst5.yaml ships the best."""
    import yaml

    model = yaml.safe_load((ROOT / "studies" / "sst5.yaml").read_text())["model"]
    shipped = f"`{model.get('optimizer', 'adam')}` ({model['epochs']} epochs, patience {model['patience']})"
    return _validation_choice(
        "optimizers",
        "(i) SST-5's optimizer",
        "`studies/sst5.yaml` changes its optimizer (Adam) only for a difference outside seed noise.",
        f"Validation does not tell these apart, so `studies/sst5.yaml` keeps {shipped}.",
    )


def _validation_choice(name: str, title: str, use: str, tie: str) -> list[str]:
    """A ``gapsearch compare`` of one parameter's values on validation (``results/NAME.json``): each value's
    accuracy over the seeds, its difference from the best, parameters and seconds per epoch, the best marked."""
    result = _load(name)
    if not result:
        return []
    row = result["rows"][0]
    compared = row["compare"]
    param = compared["param"]
    pinned = ", ".join(f"{key} {value}" for key, value in row["pinned"].items())
    lines = [
        f"**{title}** (`python -m tests.benchmarks.{name}`): `{row['study']}` with {pinned}, "
        f"`gapsearch compare --param {param} --seeds {len(compared['seeds'])}`, {row['measure']}; the test file "
        f"is not read. {use}",
        "",
        f"| {param} | val_accuracy [95% CI] | minus the best (points) | p (paired t) | parameters "
        "| seconds per epoch |",
        "|---|---|---|---|---|---|",
    ]
    for value in compared["results"]:
        mark = " (the best)" if str(value["value"]) == str(compared["best"]) else ""
        difference = "" if value["difference"] is None else _mean_ci(value["difference"], points=True)
        p_value = "" if value["p_value"] is None else f"{value['p_value']:.3f}"
        lines.append(
            f"| {value['value']}{mark} | {_mean_ci(value)} | {difference} | {p_value} "
            f"| {value['costs']['params']:,} | {value['mean_seconds_per_epoch']:.1f} |"
        )
    tied = [
        str(value["value"])
        for value in compared["results"]
        if value["difference"] is not None and value["difference"]["ci_low"] <= 0 <= value["difference"]["ci_high"]
    ]
    if tied:
        noise = f"Within seed noise of the best (the interval of the difference holds 0): {', '.join(tied)}."
        lines += ["", f"{noise} {tie}"]
    machine = {**result, "load_average_before": row["load_before"], "load_average_after": row["load_after"]}
    return [*lines, "", f"Machine: {_machine(machine)}; this run {row['seconds']:.0f} s.", ""]


def _checkpoint_table() -> list[str]:
    """(e) What a trial's per-epoch checkpoint costs (tests/benchmarks/checkpoints.py)."""
    result = _load("checkpoints")
    if not result:
        return []
    parts = [
        f"**(e) Checkpoints of running trials** (`python -m tests.benchmarks.checkpoints`): {result['what']}.",
        "",
        "| model | parameters | disk per checkpoint | the training waits per checkpoint (median) | seconds per epoch "
        "without / with checkpoints (median) |",
        "|---|---|---|---|---|",
    ]
    for name, row in result["models"].items():
        hyperparameters = ", ".join(f"{k} {v}" for k, v in row["hyperparameters"].items())
        # Results from before checkpoints were written in the background have no write time: the training
        # waited for the whole write.
        write = row.get("write_seconds_median")
        beside = "" if write is None else f" (written in {write:.3f} s beside the training)"
        parts.append(
            f"| {row.get('data', 'quickstart')} {name} ({hyperparameters}) | {row['params']:,} "
            f"| {row['checkpoint_bytes'] / 1e6:.2f} MB | {row['save_seconds_median']:.3f} s{beside} "
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
    _replace_block(EXPLAIN_PAGE, EXPLAIN_START, EXPLAIN_END, explain_example_block())
    _replace_block(OBJECTIVES_PAGE, PARETO_START, PARETO_END, pareto_example_block())
    _replace_block(OBJECTIVES_PAGE, MR_COMPARE_START, MR_COMPARE_END, mr_compare_example_block())
    _replace_block(OBJECTIVES_PAGE, MR_READING_START, MR_READING_END, mr_compare_reading())
    if _load("accuracy"):
        for path in ACCURACY_PAGES:
            _replace_block(path, ACCURACY_START, ACCURACY_END, accuracy_block())
    if _load("poolings") or _load("masked_pooling"):
        _replace_block(PAGE, POOLINGS_START, POOLINGS_END, pooling_block())
    if _load("seed_article"):
        _replace_block(PAGE, SEED_ARTICLE_START, SEED_ARTICLE_END, seed_article_block())
    if all(_load(name) for name in ("poolings", "masked_pooling", "seed_article", "accuracy")):
        _replace_block(README, ANSWER_START, ANSWER_END, answer_block())
    _replace_block(PAGE, SPEED_START, SPEED_END, speed_block())
    if _load("workers"):
        _replace_block(WORKERS_PAGE, WORKERS_START, WORKERS_END, workers_block())
    from tests.benchmarks import report_replay

    if _load("replay"):
        _replace_block(STUDY_FILE_PAGE, PRUNER_CHOICE_START, PRUNER_CHOICE_END, report_replay.search_defaults_block())

    _replace_block(PAGE, report_replay.START, report_replay.END, report_replay.replay_block())
    from tests.benchmarks import report_vectors

    if report_vectors.results_exist():
        _replace_block(report_vectors.PAGE, report_vectors.START, report_vectors.END, report_vectors.block())
    mo_pruning = _load("mo_pruning")
    if mo_pruning:
        _plot_mo_pruning(mo_pruning)
    search = _load("kerastuner_search")
    if search:
        _plot_kerastuner(search)
    from tests.benchmarks import report_soak

    report_soak.plot()
    print(f"{PAGE.relative_to(ROOT)}: benchmark tables updated; README.md: the quickstart's output and the answer")


def _shortened(text: str, limit: int = 90) -> str:
    """``text`` cut at a word before ``limit`` characters."""
    return text if len(text) <= limit else text[: text.rfind(" ", 0, limit)] + " ..."


if __name__ == "__main__":
    main()
