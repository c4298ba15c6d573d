"""The data page's section on pre-trained vectors, rendered from ``results/vectors_read.json`` (reading the GloVe
file, first and cached) and ``results/vectors_help.json`` (CNN-rand, static and non-static on MR, before and
after each change); nothing typed by hand."""

from __future__ import annotations

import json
from typing import Any

from gapsearch.stats import summarize
from tests.benchmarks._common import RESULTS, ROOT

START, END = "<!-- vectors:start -->", "<!-- vectors:end -->"
PAGE = ROOT / "docs" / "pages" / "data.md"
VARIANTS = {"rand": "CNN-rand", "static": "CNN-static", "nonstatic": "CNN-non-static"}


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def results_exist() -> bool:
    return _load("vectors_read") is not None or _load("vectors_help") is not None


def _where(result: dict[str, Any]) -> str:
    m = result["machine"]
    load = (
        f"load average {result['load_average_before']} before, {result['load_average_after']} after; "
        if ("load_average_before" in result)
        else ""
    )
    return f"{m['cpu']}, {m['cpu_count']} cores, {load}finished {result['finished_at']}"


def _mean_interval(summary: dict[str, Any], scale: float = 100.0, signed: bool = False) -> str:
    form = "{:+.1f}" if signed else "{:.1f}"
    text = form.format(scale * summary["mean"])
    if summary.get("ci_low") is not None:
        text += f" [{form.format(scale * summary['ci_low'])}, {form.format(scale * summary['ci_high'])}]"
    return text


def read_lines(result: dict[str, Any]) -> list[str]:
    """First and cached reads of the GloVe file, before and now."""
    labels = {
        "before": f"before (`{result['before']['commit']}`: every line split into its fields, the file hashed "
        "in every process, the matrix keyed by the data too)",
        "now": f"now (`{result['now']['commit']}`: lines scanned as bytes, only kept words parsed; the hash kept "
        "in the cache)",
    }
    lines = [
        "| code | first read: hash, read, look up the first fold's vocabulary | each further vocabulary "
        "(another fold or `max_tokens`) | cached: a new process, all 10 folds |",
        "|---|---|---|---|",
    ]
    for side, label in labels.items():
        figures = result["summary"][side]
        lines.append(
            f"| {label} | {figures['first_seconds']:.2f} s | {figures['further_vocabulary_seconds']:.3f} s "
            f"| {figures['cached_seconds']:.3f} s |"
        )
    megabytes = result["vectors_bytes"] / 1e6
    lines += [
        "",
        f"{result['what']}; {megabytes:.0f} MB; medians of {result['rounds']} rounds, the two codes taking "
        f"turns. MR's texts: {result['coverage']}. Measured by `python -m tests.benchmarks.vectors_read` on "
        f"{_where(result)}.",
    ]
    return lines


def help_lines(result: dict[str, Any]) -> list[str]:
    """CNN-rand, static and non-static per step, with non-static's paired difference from rand."""
    rows = {(row["step"], row["variant"]): row for row in result["rows"]}
    lines = [
        "| step | what the step changes | CNN-rand | CNN-static | CNN-non-static | non-static minus rand |",
        "|---|---|---|---|---|---|",
    ]
    for step, what in result["steps"].items():
        cells = [
            _mean_interval(rows[step, variant]["summary"]) if (step, variant) in rows else "(as after)"
            for variant in VARIANTS
        ]
        # An ablation that changes only the vectors leaves CNN-rand as after: paired with after's, same seeds.
        rand = rows.get((step, "rand"), rows.get(("after", "rand")))
        nonstatic = rows.get((step, "nonstatic"))
        shown = ""
        if rand and nonstatic:
            differences = [v - r for v, r in zip(nonstatic["values"], rand["values"], strict=True)]
            shown = _mean_interval(summarize(differences).as_dict(), signed=True)
        lines.append(f"| {step} | {what} | {' | '.join(cells)} | {shown} |")
    coverage = next(
        (row["coverage"] for row in result["rows"] if row["step"] == "after" and row["coverage"]), "not measured"
    )
    loads = [row["load_before"] for row in result["rows"]] + [result["rows"][-1]["load_after"]]
    lines += [
        "",
        f"In percent, {result['measure']}; non-static minus rand paired by seed. {result['what']}. Before is "
        f"`{result['before']['commit']}`, after `{result['after']['commit']}`; the ablations patch one piece of "
        f"the after code each. After: {coverage}. Measured by `python -m tests.benchmarks.vectors_help` on "
        f"{result['machine']['cpu']}, {result['machine']['cpu_count']} cores (load average from "
        f"{min(load[0] for load in loads)} to {max(load[0] for load in loads)}), finished {result['finished_at']}.",
    ]
    return lines


def block() -> str:
    """The marked block of docs/pages/data.md."""
    lines: list[str] = []
    read = _load("vectors_read")
    if read:
        lines += ["**Reading the file.**", "", *read_lines(read), ""]
    help_ = _load("vectors_help")
    if help_:
        lines += ["**What the vectors buy on MR.**", "", *help_lines(help_)]
    return "\n".join(lines).rstrip("\n") + "\n"
