"""The starting portfolio: configurations that did well across gapsearch's benchmark data sets, tried first.

With ``portfolio: N`` in the study file, a new study queues the first N entries of the portfolio that fit
its search space before its sampler takes over, after any warm start, once per study (the study attribute
``portfolio`` records it). An entry is reduced to the parameters the study searches (what the study fixes
stays fixed), fitted to the space as a warm start's sets are (:func:`~gapsearch.search.warm_start.fit_sets`:
a value outside it skips the entry) and queued once; a parameter the entry does not name is sampled.

The entries are ``portfolio.json`` beside this module, written by ``python -m tests.benchmarks.portfolio``
from the learning-curve tables (greedily: each entry the configuration that most lowers the mean, over the
data sets, of the best regret among the entries so far); the file names the tables it was built from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from gapsearch.search.warm_start import WarmStart, fit_sets
from gapsearch.study_attrs import PORTFOLIO_DONE

if TYPE_CHECKING:
    from gapsearch.spec.study import StudySpec

SOURCE = "gapsearch portfolio"


@cache
def shipped() -> dict[str, Any]:
    """``portfolio.json`` as shipped: ``entries`` (best first, each with its ``params``) and where they come from."""
    return json.loads(resources.files(__package__).joinpath("portfolio.json").read_text(encoding="utf-8"))


def plan_portfolio(spec: StudySpec, entries: Sequence[Mapping[str, Any]] | None = None) -> WarmStart | None:
    """The portfolio's entries (the shipped ones unless ``entries`` are given) fitted to ``spec``'s space;
    None when the study asks for none (``portfolio: 0``). Nothing is written."""
    if spec.portfolio == 0:
        return None
    entries = shipped()["entries"] if entries is None else entries
    labelled = [
        (f"{SOURCE} entry {index}", {k: v for k, v in entry["params"].items() if k in spec.search_space})
        for index, entry in enumerate(entries, start=1)
    ]
    sets, notes = fit_sets([(label, p) for label, p in labelled if p], spec, top=spec.portfolio, prefix="portfolio")
    return WarmStart(SOURCE, "", sets, notes, done_key=PORTFOLIO_DONE, title="portfolio")


__all__ = ["PORTFOLIO_DONE", "plan_portfolio", "shipped"]
