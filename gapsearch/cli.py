"""The command line: a thin adapter that parses options, calls the library, and maps errors to exit codes.

Heavy libraries (Keras, TensorFlow) are imported only by the commands that train.
"""

from __future__ import annotations

import json
import logging
import os
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
            from gapsearch.masking import mask_secrets

            if ctx.params.get("debug"):
                click.echo(mask_secrets(traceback.format_exc()), err=True, nl=False)
            for line in mask_secrets(str(error)).splitlines():
                click.echo(f"error: {line}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; a rerun continues the study", err=True)
            ctx.exit(130)


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


def _values(values: dict[str, float]) -> str:
    from gapsearch.console import format_value

    return ", ".join(f"{name}={format_value(value)}" for name, value in values.items())


def _load(study_file: Path):  # noqa: ANN202 - StudySpec, imported lazily
    from gapsearch.spec import load_study

    return load_study(study_file)


def _storage_url(option: str | None, spec: Any) -> str:
    from gapsearch.storage import resolve_storage_url

    return resolve_storage_url(option, spec.storage)


@click.group(cls=_ErrorBoundary, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks, Optuna's own log and TensorFlow's C++ log.")
@click.version_option(__version__, prog_name="gapsearch")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Search embedding dimension, global pooling and filters of Keras text classifiers with Optuna.

    Example: gapsearch run studies/quickstart.yaml
    """
    from gapsearch.masking import MaskingFormatter
    from gapsearch.runtime import quiet_tensorflow_logging

    quiet_tensorflow_logging(debug=debug)  # before any command imports TensorFlow
    ctx.ensure_object(dict)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(MaskingFormatter("%(name)s: %(message)s"))


n_trials_option = click.option(
    "--n-trials", type=click.IntRange(min=1), help="Finished trials the study should hold (overrides n_trials)."
)
timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Start no new trial after this many seconds.",
)
progress_option = click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
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
    """What ``run`` and ``worker`` share: plan the workers, run them with one merged display, report."""
    from tqdm import tqdm

    from gapsearch.console import TrialProgress, best_summary
    from gapsearch.data.report import data_line
    from gapsearch.workers.devices import WorkerSlot
    from gapsearch.workers.launch import plan_for, run_study
    from gapsearch.workers.signals import StopSignals

    debug = bool(ctx.parent and ctx.parent.params.get("debug"))
    with StopSignals() as stop:  # from the start: a worker stopped while it loads still exits cleanly
        spec = _load(study_file)
        url = _storage_url(storage, spec)
        slots = (
            [WorkerSlot(0, None)] if slot else plan_for(spec, workers=workers, gpus=gpus, trials_per_gpu=trials_per_gpu)
        )
        _quiet_optuna(debug)
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
                on_data=None if slot else lambda data: click.echo(data_line(spec, data)),
                on_warm_start=_echo_warm_start,
                stop=stop,
                debug=debug,
                write=lambda line: tqdm.write(line, file=sys.stderr),
                track=not slot,
            )
        finally:
            display.close()
    if slot:  # one of `run`'s workers: `run` reports for all of them
        # Everything is committed; skip TensorFlow's seconds-long teardown so that a stop takes seconds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    if outcome.stopped_by in ("SIGINT", "SIGTERM"):
        click.echo(outcome.stop_report(), err=True)
        if create and outcome.stopped_by == "SIGINT":
            ctx.exit(130)  # Ctrl-C on `run`, as a shell expects; a stopped worker exits 0
        return
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
        click.echo(best_summary(outcome.best_trial, spec.objective_names))
    elif spec.is_multi_objective and outcome.best_trials:
        numbers = ", ".join(str(trial.number) for trial in outcome.best_trials)
        click.echo(f"Pareto-optimal trials: {numbers} (gapsearch best {study_file} shows them)")


@main.command()
@study_argument
@storage_option
@n_trials_option
@timeout_option
@progress_option
@workers_option
@gpus_option
@trials_per_gpu_option
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
    all of them together stop at the budget.

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


@main.command()
@study_argument
@storage_option
@n_trials_option
@timeout_option
@progress_option
@workers_option
@gpus_option
@trials_per_gpu_option
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


@main.command()
@study_argument
@storage_option
def create(study_file: Path, storage: str | None) -> None:
    """Create the study in its database (checking the data first) so that workers can join it.

    Example: gapsearch create studies/quickstart.yaml --storage postgresql://gapsearch@db/studies
    """
    from gapsearch.masking import mask_url
    from gapsearch.runner import count_finished
    from gapsearch.workers.launch import create_study

    spec = _load(study_file)
    url = _storage_url(storage, spec)
    _quiet_optuna(False)
    study, created = create_study(spec, url, on_warm_start=_echo_warm_start)
    if created:
        click.echo(f"created study {spec.name} in {mask_url(url)}; start workers with `gapsearch worker {study_file}`")
    else:
        click.echo(
            f"study {spec.name} already exists in {mask_url(url)} with {count_finished(study)} finished trials; "
            "nothing to do"
        )


@main.command()
@study_argument
@storage_option
def status(study_file: Path, storage: str | None) -> None:
    """Show the study's trials by state, the workers seen recently, and stale trials.

    Example: gapsearch status studies/quickstart.yaml
    """
    from gapsearch.storage import load_existing_study
    from gapsearch.workers.status import study_status

    spec = _load(study_file)
    url = _storage_url(storage, spec)
    # The workers' heartbeat settings, so that "stale" means here what it means to them.
    heartbeat = {"heartbeat_interval": spec.workers.heartbeat_interval, "grace_period": spec.workers.grace_period}
    study = load_existing_study(url, spec.name, **heartbeat)
    click.echo(study_status(spec, study, url))


@main.command()
@study_argument
@storage_option
def validate(study_file: Path, storage: str | None) -> None:
    """Check a study file and print the study it resolves to; exit 2 with the errors if it is wrong.

    Example: gapsearch validate studies/quickstart.yaml
    """
    from gapsearch.data.report import describe_task
    from gapsearch.masking import mask_url
    from gapsearch.spec.describe import describe_study

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
    from gapsearch.evaluation import evaluate_study, format_result
    from gapsearch.runtime import import_keras

    spec = _load(study_file)
    url = _storage_url(storage, spec)
    import_keras()
    result = evaluate_study(spec, url, trial_number=trial_number, by=by, include_validation=with_validation)
    click.echo(format_result(result))


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
    click.echo(render_records(trial_records(study.get_trials(deepcopy=False), spec.objective_names), fmt))


@main.command()
@study_argument
@storage_option
def best(study_file: Path, storage: str | None) -> None:
    """Show the best trial: its value, parameters and what it cost.

    With several objectives, the Pareto-optimal trials: those no other trial beats in every objective.
    With constraints, only feasible trials count.

    Example: gapsearch best studies/quickstart.yaml
    """
    from gapsearch.console import best_summary, pareto_summary
    from gapsearch.selection import require_best_trials
    from gapsearch.storage import load_existing_study

    spec = _load(study_file)
    study = load_existing_study(_storage_url(storage, spec), spec.name)
    trials = require_best_trials(spec, study)
    if len(study.directions) > 1:
        completed_count = sum(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False))
        click.echo(pareto_summary(trials, spec.objective_names, spec.directions, completed_count))
    else:
        click.echo(best_summary(trials[0], spec.objective_names))


@main.command()
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
@click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
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
    from gapsearch.compare import compare as run_compare
    from gapsearch.console import CompareProgress, comparison_report

    spec = _load(study_file)
    url = _storage_url(storage, spec)
    _quiet_optuna(ctx.parent.params.get("debug", False) if ctx.parent else False)
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
@by_option
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="The .keras file to write.")
@click.option(
    "--savedmodel",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Also write a TensorFlow SavedModel directory (string input) for serving; TensorFlow backend only.",
)
def export(
    study_file: Path, storage: str | None, which: str, by: str | None, output: Path, savedmodel: Path | None
) -> None:
    """Write a trial's model as one .keras file that takes raw strings.

    Text settings, vocabulary and padding travel inside it. It reloads with keras.saving.load_model
    once gapsearch.models.text_classifier is imported.

    Example: gapsearch export studies/quickstart.yaml --trial best -o model.keras
    """
    from gapsearch.export import export_study_model

    spec = _load(study_file)
    exported = export_study_model(spec, _storage_url(storage, spec), which, output, by=by, savedmodel=savedmodel)
    click.echo(f"trial {exported.trial_number} ({_values(exported.values)}) exported to {exported.path}")
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
@click.argument("model_file", metavar="MODEL", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1)
@click.option("--input", "input_file", metavar="FILE", help="Read one text per line from FILE ('-' for stdin).")
@click.option("--class", "class_name", metavar="NAME", help="The class to explain; default: each text's predicted one.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE", help="Write to FILE, not stdout.")
@click.option(
    "--channels",
    is_flag=True,
    help="Show which channels vote for which class and the n-grams that drive them (over the texts given, "
    "else over the model's vocabulary).",
)
def explain(
    model_file: Path,
    texts: tuple[str, ...],
    input_file: str | None,
    class_name: str | None,
    fmt: str,
    output: Path | None,
    channels: bool,
) -> None:
    """Explain predictions: each token's contribution to a class's score (exact where the model allows).

    Example: gapsearch explain model.keras "a wonderful film" --format html -o why.html
    """
    from gapsearch.errors import UserError
    from gapsearch.explain.command import explain_command
    from gapsearch.explain.render import terminal_supports_color
    from gapsearch.export import read_texts

    all_texts = list(texts) + (read_texts(input_file) if input_file is not None else [])
    if not all_texts and not channels:
        raise UserError('give texts to explain, or --input FILE; for example: gapsearch explain model.keras "text"')
    color = output is None and fmt == "table" and terminal_supports_color(sys.stdout)
    page = explain_command(model_file, all_texts, class_name=class_name, fmt=fmt, channels=channels, color=color)
    if output is None:
        click.echo(page, color=None)
        return
    try:
        output.write_text(page + "\n", encoding="utf-8")
    except OSError as error:
        raise UserError(f"-o: cannot write {str(output)!r}: {error.strerror}") from None
    click.echo(f"explanation written to {output}")


@main.command()
@study_argument
@storage_option
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), metavar="DIR", help="Folder to write.")
def report(study_file: Path, storage: str | None, output: Path) -> None:
    """Write the study report: report.html (self-contained) and its figures as PNG files.

    It says which pooling and embedding dimension won, by how much, at what cost and how surely.

    Example: gapsearch report studies/quickstart.yaml -o report/
    """
    from gapsearch.report import write_study_report

    spec = _load(study_file)
    files = write_study_report(spec, _storage_url(storage, spec), output)
    click.echo(files.headline.title)
    click.echo(f"report written to {files.html} with {len(files.figures)} figures")


def _echo_warm_start(warm_start: Any) -> None:  # WarmStart, imported lazily
    for line in (*warm_start.notes, warm_start.summary()):
        click.echo(line)


def _quiet_optuna(debug: bool) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.INFO if debug else optuna.logging.ERROR)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
