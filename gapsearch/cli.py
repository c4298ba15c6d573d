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
    from gapsearch.runner import run_study

    spec = _load(study_file)
    url = _storage_url(storage, spec)
    _quiet_optuna(ctx.parent.params.get("debug", False) if ctx.parent else False)
    display = TrialProgress(spec.metric, enabled=progress)
    try:
        outcome = run_study(
            spec, storage_url=url, n_trials=n_trials, timeout=timeout, callbacks=[display], on_start=display.start
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
    from gapsearch.spec.describe import describe_study
    from gapsearch.storage import mask_url

    spec = _load(study_file)
    click.echo(describe_study(spec, mask_url(_storage_url(storage, spec))))


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


@main.command()
@click.argument("study_file", metavar="[STUDY.yaml]", required=False, type=click.Path(path_type=Path))
@storage_option
@click.option("--artifacts", metavar="STORE", help="Artifact folder or s3://BUCKET; default: the study file's.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (no authentication!).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0 picks a free port.")
def dashboard(study_file: Path | None, storage: str | None, artifacts: str | None, host: str, port: int) -> None:
    """Serve optuna-dashboard on the study database, with the trials' artifacts.

    Bound to 127.0.0.1 by default: the dashboard has no authentication.

    Example: gapsearch dashboard studies/quickstart.yaml --port 8080
    """
    from gapsearch.dashboard import DashboardTarget, resolve_artifacts, serve_dashboard
    from gapsearch.errors import UserError
    from gapsearch.storage import resolve_storage_url

    if study_file is None and storage is None:
        raise UserError("give a study file or --storage URL; for example: gapsearch dashboard study.yaml")
    spec = _load(study_file) if study_file is not None else None
    target = DashboardTarget(
        storage_url=resolve_storage_url(storage, spec.storage if spec is not None else None),
        artifacts=resolve_artifacts(artifacts, spec.artifacts if spec is not None else None),
        study_name=spec.name if spec is not None else None,
    )
    _quiet_optuna(False)
    serve_dashboard(target, host=host, port=port, echo=lambda line: click.echo(line, err=line.startswith("warning")))


@main.command()
@study_argument
@storage_option
@click.option("--trial", "which", default="best", show_default=True, metavar="N|best", help="The trial to export.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="The .keras file to write.")
@click.option(
    "--savedmodel",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Also write a TensorFlow SavedModel directory (string input) for serving; TensorFlow backend only.",
)
def export(study_file: Path, storage: str | None, which: str, output: Path, savedmodel: Path | None) -> None:
    """Write a trial's model as one .keras file that takes raw strings.

    Text settings, vocabulary and padding travel inside it. It reloads with keras.saving.load_model
    once gapsearch.models.text_classifier is imported.

    Example: gapsearch export studies/quickstart.yaml --trial best -o model.keras
    """
    from gapsearch.artifacts import open_artifact_store
    from gapsearch.export import export_model
    from gapsearch.storage import load_existing_study

    spec = _load(study_file)
    study = load_existing_study(_storage_url(storage, spec), spec.name)
    store = open_artifact_store(spec.artifacts, create=False)
    exported = export_model(study, store, which, output, savedmodel=savedmodel)
    from gapsearch.console import format_value

    click.echo(
        f"trial {exported.trial_number} ({spec.metric}={format_value(exported.value)}) exported to {exported.path}"
    )
    if exported.savedmodel is not None:
        click.echo(f"SavedModel written to {exported.savedmodel} (signature serving_default: texts -> scores)")


@main.command()
@click.argument("model_file", metavar="MODEL", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1)
@click.option("--input", "input_file", metavar="FILE", help="Read one text per line from FILE ('-' for stdin).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def predict(model_file: Path, texts: tuple[str, ...], input_file: str | None, fmt: str) -> None:
    """Classify raw texts with an exported model: the label and its probability for each.

    Example: gapsearch predict model.keras "a wonderful film" "dull and far too long"
    """
    from gapsearch.errors import UserError
    from gapsearch.export import load_text_classifier, predict_texts, read_texts, render_predictions

    all_texts = list(texts) + (read_texts(input_file) if input_file is not None else [])
    if not all_texts:
        raise UserError('give texts to classify, or --input FILE; for example: gapsearch predict model.keras "text"')
    model = load_text_classifier(model_file)
    click.echo(render_predictions(predict_texts(model, all_texts), fmt))


@main.command()
@study_argument
@storage_option
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), metavar="DIR", help="Folder to write.")
def report(study_file: Path, storage: str | None, output: Path) -> None:
    """Write the study report: report.html (self-contained) and its figures as PNG files.

    It says which pooling and embedding dimension won, by how much, at what cost and how surely.

    Example: gapsearch report studies/quickstart.yaml -o report/
    """
    from gapsearch.report import write_report
    from gapsearch.storage import load_existing_study, mask_url

    spec = _load(study_file)
    url = _storage_url(storage, spec)
    files = write_report(load_existing_study(url, spec.name), spec, output, storage=mask_url(url))
    click.echo(files.headline.title)
    click.echo(f"report written to {files.html} with {len(files.figures)} figures")


def _quiet_optuna(debug: bool) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.INFO if debug else optuna.logging.ERROR)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
