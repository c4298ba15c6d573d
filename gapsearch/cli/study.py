"""Commands on the study itself: write a starter file, run it, join it, create it, check its file, data and database."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from gapsearch.cli.options import (
    debug_of,
    echo_warm_start,
    load,
    progress_option,
    storage_option,
    storage_url,
    study_argument,
)

n_trials_option = click.option(
    "--n-trials", type=click.IntRange(min=1), help="Finished trials the study should hold (overrides n_trials)."
)
timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Start no new trial after this many seconds.",
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    metavar="N",
    help="Worker processes on this machine (workers.count); default: one per GPU slot, or 1 without a GPU.",
)
gpus_option = click.option(
    "--gpus", metavar="all|none|0,2,3", help="GPUs the workers use, one per worker (workers.gpus; default all)."
)
trials_per_gpu_option = click.option(
    "--trials-per-gpu",
    type=click.IntRange(min=1),
    metavar="K",
    help="Workers sharing each GPU, with memory growth (workers.trials_per_gpu; default 1).",
)


def _run_options(command):  # noqa: ANN001, ANN202 - a click command
    """The options ``run`` and ``worker`` share, in the order --help shows them."""
    for option in reversed(
        (study_argument, storage_option, n_trials_option, timeout_option, progress_option)
        + (workers_option, gpus_option, trials_per_gpu_option)
    ):
        command = option(command)
    return command


def _run_workers(
    ctx: click.Context,
    study_file: Path,
    storage: str | None,
    *,
    create: bool,
    n_trials: int | None,
    timeout: float | None,
    progress: bool,
    workers: int | None,
    gpus: str | None,
    trials_per_gpu: int | None,
    slot: bool = False,
) -> None:
    """What ``run`` and ``worker`` share: run the study's workers with one merged display, then report."""
    from tqdm import tqdm

    from gapsearch.data.report import data_line
    from gapsearch.results.console import TrialProgress, run_summary
    from gapsearch.runtime import quiet_optuna_logging
    from gapsearch.workers.devices import WORKER_START_ENV
    from gapsearch.workers.launch import plan_for, run_study
    from gapsearch.workers.signals import StopSignals
    from gapsearch.workers.watched import die_with_parent, is_watched_child, run_watched, watched_run_command

    debug = debug_of(ctx)
    if is_watched_child():
        die_with_parent()
    recycled = os.environ.get(WORKER_START_ENV, "0") != "0"  # a fresh process in a recycled one's place
    with StopSignals() as stop:  # from the start: a worker stopped while it loads still exits cleanly
        spec = load(study_file)
        url = storage_url(storage, spec)
        slots = plan_for(spec, workers=workers, gpus=gpus, trials_per_gpu=trials_per_gpu, pool_worker=slot)
        if create and len(slots) == 1 and not is_watched_child():
            # One worker: the run goes on in a child that this process watches, so that a crash is said in one line.
            def command(left: float | None) -> list[str]:
                return watched_run_command(
                    study_file,
                    n_trials=n_trials,
                    timeout=left,
                    progress=progress,
                    workers=workers,
                    gpus=gpus,
                    trials_per_gpu=trials_per_gpu,
                    debug=debug,
                )

            ctx.exit(run_watched(command, spec, url, stop, timeout=timeout if timeout is not None else spec.timeout))
        quiet_optuna_logging(debug=debug)
        display = TrialProgress(spec.objective_names, enabled=progress)
        try:
            outcome = run_study(
                spec,
                storage_url=url,
                slots=slots,
                create=create,
                n_trials=n_trials,
                timeout=timeout,
                callbacks=[display],
                on_start=display.start,
                on_data=None if slot or recycled else lambda data: click.echo(data_line(spec, data)),
                on_warm_start=echo_warm_start,
                stop=stop,
                debug=debug,
                write=lambda line: tqdm.write(line, file=sys.stderr),
                track=not slot,
                pool_worker=slot or is_watched_child(),
            )
        finally:
            display.close()
    if slot or outcome.stopped_by == "recycle":  # one of `run`'s workers: `run` reports for all of them
        from gapsearch.workers.pool import RECYCLE_EXIT_CODE

        # Everything is committed; skip TensorFlow's seconds-long teardown so that a stop takes seconds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(RECYCLE_EXIT_CODE if outcome.stopped_by == "recycle" else 0)
    if outcome.stopped_by in ("SIGINT", "SIGTERM"):
        click.echo(outcome.stop_report(), err=True)
        if create and outcome.stopped_by == "SIGINT":
            ctx.exit(130)  # Ctrl-C on `run`, as a shell expects; a stopped worker exits 0
        return
    click.echo(run_summary(outcome, spec, study_file))


@click.command()
@_run_options
@click.pass_context
def run(
    ctx: click.Context,
    study_file: Path,
    storage: str | None,
    n_trials: int | None,
    timeout: float | None,
    progress: bool,
    workers: int | None,
    gpus: str | None,
    trials_per_gpu: int | None,
) -> None:
    """Run trials until the study holds its budget of finished trials.

    Rerunning the same file continues the same study; once the budget is met it does nothing.
    With several workers (--workers, or one per GPU), each is its own process on one GPU and
    all of them together stop at the budget; a worker that dies is replaced, at most
    workers.max_restarts_per_minute (default 5) within a minute. With one worker the run goes
    on in a child process that this command watches, so that a crash is said in one line.

    Example: gapsearch run studies/quickstart.yaml --workers 4 --gpus 0,1 --trials-per-gpu 2
    """
    _run_workers(
        ctx,
        study_file,
        storage,
        create=True,
        n_trials=n_trials,
        timeout=timeout,
        progress=progress,
        workers=workers,
        gpus=gpus,
        trials_per_gpu=trials_per_gpu,
    )


@click.command()
@_run_options
@click.option("--slot", is_flag=True, hidden=True, help="Run as one worker of a local pool (set by `run`).")
@click.pass_context
def worker(
    ctx: click.Context,
    study_file: Path,
    storage: str | None,
    n_trials: int | None,
    timeout: float | None,
    progress: bool,
    workers: int | None,
    gpus: str | None,
    trials_per_gpu: int | None,
    slot: bool,
) -> None:
    """Join an existing study from this machine and run its trials until the (global) budget is met.

    The study must exist (made by `gapsearch run` or `gapsearch create`); workers on any number of
    machines share it through --storage (or GAPSEARCH_STORAGE). SIGINT or SIGTERM ends the running
    trial as FAIL, queues it again, and exits 0.

    Example: GAPSEARCH_STORAGE=postgresql://gapsearch@db/studies gapsearch worker studies/quickstart.yaml --gpus all
    """
    _run_workers(
        ctx,
        study_file,
        storage,
        create=False,
        n_trials=n_trials,
        timeout=timeout,
        progress=progress,
        workers=workers,
        gpus=gpus,
        trials_per_gpu=trials_per_gpu,
        slot=slot,
    )


@click.command()
@study_argument
@storage_option
def create(study_file: Path, storage: str | None) -> None:
    """Create the study in its database (checking the data first) so that workers can join it.

    Example: gapsearch create studies/quickstart.yaml --storage postgresql://gapsearch@db/studies
    """
    from gapsearch.results.console import create_summary
    from gapsearch.runtime import quiet_optuna_logging
    from gapsearch.workers.launch import create_study

    spec = load(study_file)
    url = storage_url(storage, spec)
    quiet_optuna_logging()
    study, created = create_study(spec, url, on_warm_start=echo_warm_start)
    click.echo(create_summary(spec, study, url, created=created, study_file=study_file))


@click.command()
@study_argument
@storage_option
def status(study_file: Path, storage: str | None) -> None:
    """Show the study's trials by state, the workers seen recently, and stale trials.

    Example: gapsearch status studies/quickstart.yaml
    """
    from gapsearch.workers.status import status_report

    spec = load(study_file)
    click.echo(status_report(spec, storage_url(storage, spec)))


@click.command()
@study_argument
@storage_option
def validate(study_file: Path, storage: str | None) -> None:
    """Check a study file and print the study it resolves to; exit 2 with the errors if it is wrong.

    Example: gapsearch validate studies/quickstart.yaml
    """
    from gapsearch.results.console import validation_report

    spec = load(study_file)
    click.echo(validation_report(spec, storage_url(storage, spec)))


@click.command()
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

    spec = load(study_file)
    if clear:
        click.echo(f"removed {clear_cache(spec.data, spec.base_dir)} cache entries")
    click.echo(data_report(spec))


@click.command()
@click.argument("data_file", metavar="DATA_FILE", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("study.yaml"),
    show_default=True,
    help="The study file to write.",
)
@click.option("--text", metavar="COLUMN", help="The column of texts; default: the one with the longest texts.")
@click.option("--label", metavar="COLUMN", help="The column of labels; default: the one with few distinct values.")
@click.option(
    "--trials",
    "n_trials",
    type=click.IntRange(min=1),
    metavar="N",
    help="Finished trials the study asks for (n_trials; 20 when left out).",
)
@click.option("--force", is_flag=True, help="Overwrite the study file if it exists.")
def init(data_file: Path, output: Path, text: str | None, label: str | None, n_trials: int | None, force: bool) -> None:
    """Write a commented study file for a CSV, TSV, JSON Lines or Parquet file of your own.

    The text column is the one with the longest texts, the label column one with few distinct values
    (name them with --text and --label); it searches embedding dimension, pooling, filters, kernel size,
    learning rate and dropout, holding out 20% of the rows to judge each trial.

    Example: gapsearch init reviews.tsv -o study.yaml && gapsearch run study.yaml
    """
    from gapsearch.data.starter import DEFAULT_TRIALS, write_starter_study

    starter = write_starter_study(
        data_file, output, text=text, label=label, n_trials=n_trials or DEFAULT_TRIALS, force=force
    )
    click.echo(starter.summary())


@click.command()
def schema() -> None:
    """Print the JSON Schema of the study file, for editors.

    Example: gapsearch schema > study.schema.json
    """
    from gapsearch.spec.study import StudySpec

    click.echo(json.dumps(StudySpec.model_json_schema(), indent=2))


COMMANDS = (init, run, worker, create, status, validate, data, schema)
