"""Commands that read a study's results: list, choose, compare, evaluate, report and serve its trials."""

from __future__ import annotations

from pathlib import Path

import click

from gapsearch.cli.options import (
    by_option,
    debug_of,
    load,
    progress_option,
    storage_option,
    storage_url,
    study_argument,
)


@click.command()
@study_argument
@storage_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def trials(study_file: Path, storage: str | None, fmt: str) -> None:
    """List the study's trials: number, state, value, seconds, parameters and costs.

    The table ends with how many trials were pruned and at which epoch.

    Example: gapsearch trials studies/quickstart.yaml --format csv
    """
    from gapsearch.results.console import trials_report
    from gapsearch.storage.database import load_existing_study

    spec = load(study_file)
    click.echo(trials_report(spec, load_existing_study(storage_url(storage, spec), spec.name), fmt))


@click.command()
@study_argument
@storage_option
def best(study_file: Path, storage: str | None) -> None:
    """Show the best trial: its value, parameters and what it cost.

    With several objectives, the Pareto-optimal trials: those no other trial beats in every objective.
    With constraints, only feasible trials count.

    Example: gapsearch best studies/quickstart.yaml
    """
    from gapsearch.results.console import best_report
    from gapsearch.storage.database import load_existing_study

    spec = load(study_file)
    click.echo(best_report(spec, load_existing_study(storage_url(storage, spec), spec.name)))


@click.command()
@study_argument
@storage_option
@click.option("--param", required=True, metavar="NAME", help="The searched parameter whose values to compare.")
@click.option(
    "--seeds",
    "n_seeds",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Paired seeds: every value trains once with each.",
)
@click.option(
    "--trial",
    "trial_number",
    type=click.IntRange(min=0),
    help="Take the other parameters from this trial (default: the best one).",
)
@by_option
@click.option(
    "--test",
    type=click.Choice(["t", "wilcoxon"]),
    default="t",
    show_default=True,
    help="The paired test against the best value: Student's t or Wilcoxon's signed-rank.",
)
@progress_option
@click.pass_context
def compare(
    ctx: click.Context,
    study_file: Path,
    storage: str | None,
    param: str,
    n_seeds: int,
    trial_number: int | None,
    by: str | None,
    test: str,
    progress: bool,
) -> None:
    """Compare the values of one parameter over paired seeds, every other parameter fixed at the best trial's.

    Prints each value's mean, 95% confidence interval and a paired test against the best value, and
    stores the results with the study (user attribute compare:NAME).

    Example: gapsearch compare studies/mr-compare.yaml --param pooling --seeds 5
    """
    from gapsearch.results.compare import compare as run_compare
    from gapsearch.results.compare_console import CompareProgress, comparison_report
    from gapsearch.runtime import quiet_optuna_logging

    spec = load(study_file)
    url = storage_url(storage, spec)
    quiet_optuna_logging(debug=debug_of(ctx))
    display = CompareProgress(enabled=progress)
    try:
        comparison = run_compare(
            spec,
            storage_url=url,
            param=param,
            n_seeds=n_seeds,
            trial_number=trial_number,
            by=by,
            test=test,  # type: ignore[arg-type]
            on_start=display.start,
            on_run=display,
        )
    finally:
        display.close()
    click.echo(comparison_report(comparison))
    click.echo(f"stored in study {spec.name} as user attribute {comparison.attr_key!r}")


@click.command()
@study_argument
@storage_option
@click.option("--trial", "trial_number", type=click.IntRange(min=0), help="Trial number; default: the best trial.")
@by_option
@click.option("--with-validation", is_flag=True, help="Also train on the validation split.")
def evaluate(
    study_file: Path, storage: str | None, trial_number: int | None, by: str | None, with_validation: bool
) -> None:
    """Train the chosen configuration again and report its metrics on the test split.

    The test split never chose anything: the configuration and epochs come from the search. The
    metrics are stored on the study (user attribute test_metrics).

    Example: gapsearch evaluate studies/sst2.yaml --trial 3
    """
    from gapsearch.results.evaluation import evaluate_study, format_result

    spec = load(study_file)
    url = storage_url(storage, spec)
    result = evaluate_study(spec, url, trial_number=trial_number, by=by, include_validation=with_validation)
    click.echo(format_result(result))


@click.command()
@study_argument
@storage_option
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), metavar="DIR", help="Folder to write.")
def report(study_file: Path, storage: str | None, output: Path) -> None:
    """Write the study report: report.html (self-contained) and its figures as PNG files.

    It says which pooling and embedding dimension won, by how much, at what cost and how surely.

    Example: gapsearch report studies/quickstart.yaml -o report/
    """
    from gapsearch.results.report import write_study_report

    spec = load(study_file)
    files = write_study_report(spec, storage_url(storage, spec), output)
    click.echo(files.headline.title)
    click.echo(f"report written to {files.html} with {len(files.figures)} figures")


@click.command()
@click.argument("study_file", metavar="[STUDY.yaml]", required=False, type=click.Path(path_type=Path))
@storage_option
@click.option("--artifacts", metavar="STORE", help="Artifact folder or s3://BUCKET; default: the study file's.")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on; anyone who reaches it can read."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0 picks a free port.")
@click.option("--read-only", is_flag=True, help="Refuse every change (notes, deleting studies); the URL has no token.")
def dashboard(
    study_file: Path | None, storage: str | None, artifacts: str | None, host: str, port: int, read_only: bool
) -> None:
    """Serve optuna-dashboard on the study database, with the trials' artifacts.

    It answers only requests addressed to the host it listens on (127.0.0.1 by default), and a
    change (notes, deleting studies) needs the token in the URL it prints, new at each start.

    Example: gapsearch dashboard studies/quickstart.yaml --port 8080
    """
    from gapsearch.results.dashboard import dashboard_target, serve_dashboard
    from gapsearch.runtime import quiet_optuna_logging

    target = dashboard_target(load(study_file) if study_file is not None else None, storage, artifacts)
    quiet_optuna_logging()
    serve_dashboard(
        target,
        host=host,
        port=port,
        read_only=read_only,
        echo=lambda line: click.echo(line, err=line.startswith("warning")),
    )


COMMANDS = (trials, best, compare, evaluate, report, dashboard)
