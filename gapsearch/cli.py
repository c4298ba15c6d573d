"""The command line: a thin adapter that parses options, calls the library, and maps errors to exit codes.

Heavy libraries (Keras, TensorFlow) are imported only by the commands that train.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from gapsearch import __version__
from gapsearch.errors import GapsearchError


class _ErrorBoundary(click.Group):
    """Turns GapsearchError into one line per problem and its exit code; a traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GapsearchError as error:
            if ctx.params.get("debug"):
                traceback.print_exc()
            for line in str(error).splitlines():
                click.echo(f"error: {line}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; the running trial was recorded as FAIL and a rerun continues the study", err=True)
            ctx.exit(130)


storage_option = click.option(
    "--storage",
    metavar="URL",
    help="Study database URL; overrides GAPSEARCH_STORAGE and the study file's `storage`.",
)
study_argument = click.argument("study_file", metavar="STUDY.yaml", type=click.Path(path_type=Path))


def _load(study_file: Path):  # noqa: ANN202 - StudySpec, imported lazily
    from gapsearch.spec import load_study

    return load_study(study_file)


def _storage_url(option: str | None, spec: Any) -> str:
    from gapsearch.storage import resolve_storage_url

    return resolve_storage_url(option, spec.storage)


@click.group(cls=_ErrorBoundary, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and Optuna's own log.")
@click.version_option(__version__, prog_name="gapsearch")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Search embedding dimension, global pooling and filters of Keras text classifiers with Optuna.

    Example: gapsearch run studies/quickstart.yaml
    """
    ctx.ensure_object(dict)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(name)s: %(message)s")


@main.command()
@study_argument
@storage_option
@click.option(
    "--n-trials", type=click.IntRange(min=1), help="Finished trials the study should hold (overrides n_trials)."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Start no new trial after this many seconds.",
)
@click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
@click.pass_context
def run(
    ctx: click.Context,
    study_file: Path,
    storage: str | None,
    n_trials: int | None,
    timeout: float | None,
    progress: bool,
) -> None:
    """Run trials until the study holds its budget of finished trials.

    Rerunning the same file continues the same study; once the budget is met it does nothing.

    Example: gapsearch run studies/quickstart.yaml --storage sqlite:///gapsearch.db
    """
    from gapsearch.console import TrialProgress, best_summary
    from gapsearch.data.report import data_line
    from gapsearch.runner import run_study

    spec = _load(study_file)
    url = _storage_url(storage, spec)
    _quiet_optuna(ctx.parent.params.get("debug", False) if ctx.parent else False)
    display = TrialProgress(spec.metric, enabled=progress)
    try:
        outcome = run_study(
            spec,
            storage_url=url,
            n_trials=n_trials,
            timeout=timeout,
            callbacks=[display],
            on_start=display.start,
            on_data=lambda data: click.echo(data_line(spec, data), err=True),  # stdout: one line per trial
        )
    finally:
        display.close()
    ran = outcome.finished_after - outcome.finished_before
    if ran == 0 and outcome.finished_before >= outcome.budget:
        click.echo(
            f"study {outcome.study_name} already holds {outcome.finished_before} finished trials "
            f"(budget {outcome.budget}); nothing to do"
        )
    else:
        click.echo(
            f"study {outcome.study_name}: {outcome.finished_after}/{outcome.budget} finished trials "
            f"in {outcome.storage}"
        )
    if outcome.best_trial is not None:
        click.echo(best_summary(outcome.best_trial, spec.metric))


@main.command()
@study_argument
@storage_option
def validate(study_file: Path, storage: str | None) -> None:
    """Check a study file and print the study it resolves to; exit 2 with the errors if it is wrong.

    Example: gapsearch validate studies/quickstart.yaml
    """
    from gapsearch.data.report import describe_task
    from gapsearch.spec.describe import describe_study
    from gapsearch.storage import mask_url

    spec = _load(study_file)
    click.echo(describe_study(spec, mask_url(_storage_url(storage, spec))))
    click.echo(f"task       {describe_task(spec.data, spec.base_dir, spec.seed)}")


@main.command()
@study_argument
@click.option("--clear", is_flag=True, help="Remove the study's cache folder first.")
def data(study_file: Path, clear: bool) -> None:
    """Build the study's vectorized-data cache and describe the data.

    Prints the task, examples per class and split, text lengths, and for every max_tokens and
    sequence_length the study uses: the vocabulary size, out-of-vocabulary and truncation rates.

    Example: gapsearch data studies/mr.yaml
    """
    from gapsearch.data.cache import clear_cache
    from gapsearch.data.report import data_report

    spec = _load(study_file)
    if clear:
        click.echo(f"removed {clear_cache(spec.data, spec.base_dir)} cache entries")
    click.echo(data_report(spec))


@main.command()
@study_argument
@storage_option
@click.option("--trial", "trial_number", type=click.IntRange(min=0), help="Trial number; default: the best trial.")
@click.option("--with-validation", is_flag=True, help="Also train on the validation split.")
def evaluate(study_file: Path, storage: str | None, trial_number: int | None, with_validation: bool) -> None:
    """Train the chosen configuration again and report its metrics on the test split.

    The test split never chose anything: the configuration and epochs come from the search. The
    metrics are stored on the study (user attribute test_metrics).

    Example: gapsearch evaluate studies/sst2.yaml --trial 3
    """
    from gapsearch.evaluation import evaluate_study, format_result
    from gapsearch.runtime import import_keras

    spec = _load(study_file)
    url = _storage_url(storage, spec)
    import_keras()
    click.echo(format_result(evaluate_study(spec, url, trial_number=trial_number, include_validation=with_validation)))


@main.command()
def schema() -> None:
    """Print the JSON Schema of the study file, for editors.

    Example: gapsearch schema > study.schema.json
    """
    from gapsearch.spec.study import StudySpec

    click.echo(json.dumps(StudySpec.model_json_schema(), indent=2))


@main.command()
@study_argument
@storage_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def trials(study_file: Path, storage: str | None, fmt: str) -> None:
    """List the study's trials: number, state, value, seconds, parameters and costs.

    Example: gapsearch trials studies/quickstart.yaml --format csv
    """
    from gapsearch.console import render_records, trial_records
    from gapsearch.storage import load_existing_study

    spec = _load(study_file)
    study = load_existing_study(_storage_url(storage, spec), spec.name)
    click.echo(render_records(trial_records(study.get_trials(deepcopy=False)), fmt))


@main.command()
@study_argument
@storage_option
def best(study_file: Path, storage: str | None) -> None:
    """Show the best trial: its value, parameters and what it cost.

    Example: gapsearch best studies/quickstart.yaml
    """
    from gapsearch.console import best_summary
    from gapsearch.errors import StorageError
    from gapsearch.runner import best_trial
    from gapsearch.storage import load_existing_study

    spec = _load(study_file)
    study = load_existing_study(_storage_url(storage, spec), spec.name)
    trial = best_trial(study)
    if trial is None:
        raise StorageError(f"study {spec.name!r} has no completed trial yet")
    click.echo(best_summary(trial, spec.metric))


def _quiet_optuna(debug: bool) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.INFO if debug else optuna.logging.ERROR)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
