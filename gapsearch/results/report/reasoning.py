"""The headline's reasoning: what the report concludes from the results and how sure it is.

:func:`conclude` decides, as plain data (:class:`Conclusion`): the winning combination, the runner-up,
the margin, Welch's interval of their difference and how far it can be trusted. :func:`headline` puts
that conclusion into the report's plain-text sentences. Nothing here reads the study or writes HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gapsearch.results.report.results import Cell, StudyResults, TrialRow
from gapsearch.stats import Difference, Summary, difference

MIN_FOR_INTERVAL = 2
#: Below this many trials in either of two combinations, a clear difference is called a hint, not proof.
MIN_FOR_CONFIDENCE = 3

#: How sure the study is that the winner beats the runner-up: ``single`` (only one combination was
#: tried), ``too_few`` (no interval: fewer than MIN_FOR_INTERVAL trials in one of them), ``hint`` (the
#: interval excludes zero but rests on fewer than MIN_FOR_CONFIDENCE trials), ``sure`` (it excludes zero
#: with enough trials) or ``undecided`` (it includes zero).
Certainty = Literal["single", "too_few", "hint", "sure", "undecided"]


@dataclass(frozen=True)
class Conclusion:
    """What the report concludes, before any wording."""

    winner: Cell
    runner_up: Cell | None
    margin: float | None  # how far the winner's mean is ahead of the runner-up's (always >= 0)
    difference: Difference | None  # winner minus runner-up, Welch's 95% interval
    certainty: Certainty
    best_trial: TrialRow | None  # the trial every command chooses; None when none kept every bound of constraints
    by_pooling: list[tuple[Any, Summary]]  # best first
    by_dimension: list[tuple[Any, Summary]]  # best first
    fixed: list[str]  # of pooling and embedding_dim, those the study file fixed


def conclude(results: StudyResults) -> Conclusion:
    """Which combination won, by how much, and how sure the study is of it."""
    winner = results.cells[0]
    runner_up = results.cells[1] if len(results.cells) > 1 else None
    diff = None if runner_up is None else difference(winner.summary, runner_up.summary)
    certainty: Certainty
    if runner_up is None:
        certainty = "single"
    elif diff is None:
        certainty = "too_few"
    elif diff.excludes_zero and min(winner.summary.n, runner_up.summary.n) < MIN_FOR_CONFIDENCE:
        certainty = "hint"
    elif diff.excludes_zero:
        certainty = "sure"
    else:
        certainty = "undecided"
    return Conclusion(
        winner=winner,
        runner_up=runner_up,
        margin=None if runner_up is None else abs(winner.summary.mean - runner_up.summary.mean),
        difference=diff,
        certainty=certainty,
        best_trial=results.best,
        by_pooling=results.by("pooling"),
        by_dimension=results.by("embedding_dim"),
        fixed=[f for f in ("pooling", "embedding_dim") if f not in results.searched],
    )


def _num(value: float) -> str:
    return f"{value:.4f}"


def _count(n: int, word: str = "trial") -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _cost(cell: Cell) -> str:
    parts = []
    if cell.params_total is not None:
        parts.append(f"{cell.params_total:,.0f} parameters")
    if cell.seconds_per_epoch is not None:
        parts.append(f"{cell.seconds_per_epoch:.2f} s per epoch")
    return " and ".join(parts) if parts else "an unknown cost"


def _ratios(winner: Cell, other: Cell) -> str:
    """``" (4.1x the parameters, 1.6x the time per epoch)"`` of the winner against another combination."""
    parts = []
    if winner.params_total and other.params_total:
        parts.append(f"{winner.params_total / other.params_total:.1f}× the parameters")
    if winner.seconds_per_epoch and other.seconds_per_epoch:
        parts.append(f"{winner.seconds_per_epoch / other.seconds_per_epoch:.1f}× the time per epoch")
    return f" (the winner has {', '.join(parts)})" if parts else ""


def _pruned(results: StudyResults) -> list[str]:
    """What pruning left out of the comparison, said before it; nothing when no trial was pruned."""
    pruning = results.pruning
    if pruning is None or not pruning.pruned:
        return []
    completed, tried = results.combinations
    if results.at_epoch is not None:
        n = len(results.at_epoch.values)
        return [
            f"{_count(completed, 'combination')} completed; {tried - completed} more were tried and pruned "
            f"{pruning.where}.",
            f"So the combinations are compared at {results.at_epoch.at}, the last epoch all {n} completed and pruned "
            "trials reached: a value there says how fast a combination learns, not how well it ends.",
        ]
    if results.few_completed:
        return [
            f"The study cannot compare poolings or dimensions from its completed trials: "
            f"{_count(completed, 'combination')} completed; {tried - completed} more were tried and pruned "
            f"{pruning.where}."
        ]
    return [
        f"{pruning.pruned} of {pruning.total} trials were pruned {pruning.where}; the means here are over the "
        f"{_count(pruning.completed, 'completed trial')} only."
    ]


def _compared(results: StudyResults) -> list[str]:
    """The stored paired comparisons in one sentence each, and the one to run when pruning left too little."""
    sentences = []
    for comparison in results.comparisons:
        best = comparison.reference
        sentences.append(
            f"gapsearch compare trained each value of {comparison.param} to the end with "
            f"{len(comparison.plan.seeds)} paired seeds, the rest from trial #{comparison.plan.base_trial}: "
            f"{comparison.param}={best.value} did best (mean {comparison.metric} {_num(best.summary.mean)}); "
            "its table is below."
        )
    pruning, hint = results.pruning, results.hint
    most_pruned = pruning is not None and pruning.pruned > pruning.completed
    settled = {comparison.param for comparison in results.comparisons}
    if hint is not None and hint.param not in settled and (most_pruned or results.few_completed):
        sentences.append(f"To compare {hint.param} fairly: {hint.command}.")
    return sentences


@dataclass(frozen=True)
class Headline:
    """The report's answer: a title sentence, then the sentences that qualify it."""

    title: str
    sentences: list[str]
    difference: Difference | None = None
    conclusion: Conclusion | None = None


def headline(results: StudyResults) -> Headline:
    """Which pooling and dimension won, by how much, at what cost, and how sure the study is, in plain words."""
    answer = conclude(results)
    label = results.metric_label
    winner, runner_up, diff = answer.winner, answer.runner_up, answer.difference
    best = answer.best_trial
    best_line = (
        "No completed trial kept every bound of constraints, so none is the single best."
        if best is None
        else f"The single best trial is #{best.number} ({label} {_num(best.value)})."
    )
    pruned, compared = _pruned(results), _compared(results)
    if runner_up is None or answer.margin is None:
        why = f" ({' and '.join(answer.fixed)} fixed in the study file)" if answer.fixed else ""
        single = ["The study cannot compare poolings or dimensions: only one combination was tried."]
        return Headline(
            title=f"Every completed trial used {winner.pooling} pooling with embedding dimension "
            f"{winner.embedding_dim}{why}: mean {label} {_num(winner.summary.mean)} over "
            f"{_count(winner.summary.n)}.",
            sentences=[*(pruned if results.few_completed else single), *compared, best_line],
            conclusion=answer,
        )
    title = (
        f"{winner.pooling.capitalize()} pooling with embedding dimension {winner.embedding_dim} did best: "
        f"mean {label} {_num(winner.summary.mean)} over {_count(winner.summary.n)}."
    )
    if results.at_epoch is not None:
        title = (
            f"At {results.at_epoch.at}, {winner.pooling} pooling with embedding dimension {winner.embedding_dim} "
            f"led: mean {label} {_num(winner.summary.mean)} over {_count(winner.summary.n)}."
        )
    direction_word = "above" if results.maximize else "below"
    sentences = [
        *pruned,
        f"That is {_num(answer.margin)} {direction_word} the next best combination, {runner_up.name} "
        f"({_num(runner_up.summary.mean)} over {_count(runner_up.summary.n)}).",
        f"The winner costs {_cost(winner)}; the runner-up {_cost(runner_up)}{_ratios(winner, runner_up)}.",
    ]
    if answer.certainty == "too_few" or diff is None:
        sentences.append(
            f"Too few trials to be sure: the winner has {_count(winner.summary.n)} and the runner-up "
            f"{_count(runner_up.summary.n)}, and an interval needs at least {MIN_FOR_INTERVAL} per combination. "
            "Run more trials (n_trials) before trusting this ranking."
        )
    elif answer.certainty == "hint":
        sentences.append(
            f"A hint rather than proof: the 95% interval of the difference, [{diff.low:+.4f}, {diff.high:+.4f}], "
            f"excludes zero (Welch's t interval), but it rests on only {_count(winner.summary.n)} and "
            f"{_count(runner_up.summary.n)}; run more trials to confirm it."
        )
    elif answer.certainty == "sure":
        sentences.append(
            f"The study is fairly sure of this: the 95% interval of the difference, "
            f"[{diff.low:+.4f}, {diff.high:+.4f}], excludes zero (Welch's t interval over the trials of each)."
        )
    else:
        sentences.append(
            f"The study cannot tell these two apart yet: the 95% interval of the difference, "
            f"[{diff.low:+.4f}, {diff.high:+.4f}], includes zero (Welch's t interval over the trials of each)."
        )
    if len(answer.by_pooling) > 1:
        sentences.append(
            "Over all dimensions, by pooling: "
            + ", ".join(f"{p}: {_num(s.mean)} ({_count(s.n)})" for p, s in answer.by_pooling)
            + "."
        )
    if len(answer.by_dimension) > 1:
        sentences.append(
            "Over all poolings, by embedding dimension: "
            + ", ".join(f"dimension {d}: {_num(s.mean)} ({_count(s.n)})" for d, s in answer.by_dimension)
            + "."
        )
    sentences += [*compared, best_line]
    return Headline(title=title, sentences=sentences, difference=diff, conclusion=answer)
