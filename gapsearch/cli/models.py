"""Commands on a trial's model: export it as one .keras file, and classify or explain texts with it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gapsearch.cli.options import (
    by_option,
    input_option,
    load,
    model_argument,
    storage_option,
    storage_url,
    study_argument,
    texts_argument,
)


@click.command()
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
    from gapsearch.results.console import export_summary
    from gapsearch.results.export import export_study_model

    spec = load(study_file)
    exported = export_study_model(spec, storage_url(storage, spec), which, output, by=by, savedmodel=savedmodel)
    click.echo(export_summary(exported))


@click.command()
@model_argument
@texts_argument
@input_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def predict(model_file: Path, texts: tuple[str, ...], input_file: str | None, fmt: str) -> None:
    """Classify raw texts with an exported model: the label and its probability for each.

    Example: gapsearch predict model.keras "a wonderful film" "dull and far too long"
    """
    from gapsearch.models.loading import load_text_classifier
    from gapsearch.results.export import collect_texts, predict_texts, render_predictions

    all_texts = collect_texts(texts, input_file, command="predict", verb="classify")
    model = load_text_classifier(model_file)
    click.echo(render_predictions(predict_texts(model, all_texts), fmt))


@click.command()
@model_argument
@texts_argument
@input_option
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
    from gapsearch.explain.command import explain_to
    from gapsearch.results.export import collect_texts

    all_texts = collect_texts(texts, input_file, command="explain", verb="explain", required=not channels)
    shown = explain_to(
        model_file, all_texts, class_name=class_name, fmt=fmt, channels=channels, output=output, stdout=sys.stdout
    )
    click.echo(shown, color=None)


COMMANDS = (export, predict, explain)
