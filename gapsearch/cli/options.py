"""What the commands share: the options defined once, and the few steps every adapter starts with."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from gapsearch.search.warm_start import WarmStart
    from gapsearch.spec.study import StudySpec

storage_option = click.option(
    "--storage",
    metavar="URL",
    help="Study database URL; overrides GAPSEARCH_STORAGE and the study file's `storage`.",
)
study_argument = click.argument("study_file", metavar="STUDY.yaml", type=click.Path(path_type=Path))
by_option = click.option(
    "--by",
    metavar="OBJECTIVE",
    help="With several objectives: the Pareto-optimal trial best in this objective; default: the monitored metric.",
)
progress_option = click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
model_argument = click.argument("model_file", metavar="MODEL", type=click.Path(path_type=Path))
texts_argument = click.argument("texts", nargs=-1)
input_option = click.option(
    "--input", "input_file", metavar="FILE", help="Read one text per line from FILE ('-' for stdin)."
)


def load(study_file: Path) -> StudySpec:
    """The study file, validated once (exit 2 with every problem it has)."""
    from gapsearch.spec import load_study

    return load_study(study_file)


def storage_url(option: str | None, spec: StudySpec) -> str:
    from gapsearch.storage.database import study_storage_url

    return study_storage_url(option, spec)


def debug_of(ctx: click.Context) -> bool:
    """Whether ``gapsearch --debug`` was given (an option of the group, read from a command's context)."""
    root = ctx.find_root()
    return bool(root.params.get("debug"))


def echo_warm_start(warm_start: WarmStart) -> None:
    for line in (*warm_start.notes, warm_start.summary()):
        click.echo(line)
