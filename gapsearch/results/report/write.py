"""Writing the report: collect, conclude, render, and put ``report.html`` and its PNG files in a folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gapsearch.errors import UserError
from gapsearch.results.report.reasoning import Headline, headline
from gapsearch.results.report.render import figures, render_html
from gapsearch.results.report.results import collect

if TYPE_CHECKING:
    import optuna

    from gapsearch.spec.study import StudySpec


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    figures: list[Path]
    headline: Headline


def write_study_report(spec: StudySpec, storage_url: str, output: Path) -> ReportFiles:
    """``gapsearch report``: the report of the study ``spec`` names, read from ``storage_url``."""
    from gapsearch.masking import mask_url
    from gapsearch.storage.database import load_existing_study

    return write_report(load_existing_study(storage_url, spec.name), spec, output, storage=mask_url(storage_url))


def write_report(study: optuna.Study, spec: StudySpec, output: Path, *, storage: str) -> ReportFiles:
    """Write ``report.html`` and one PNG per figure into ``output`` (created if missing)."""
    results = collect(study, spec)
    answer = headline(results)
    shown, notes = figures(results)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"-o: cannot create the folder {output}: {error.strerror}") from None
    paths = []
    for item in shown:
        path = output / item.name
        path.write_bytes(item.png)
        paths.append(path)
    page = output / "report.html"
    page.write_text(render_html(results, answer, shown, notes, storage), encoding="utf-8")
    return ReportFiles(page, paths, answer)
