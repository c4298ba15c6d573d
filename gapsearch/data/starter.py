"""A starter study file for one data file (``gapsearch init``): its columns found, the search laid out.

The file written is complete and commented: the data section (the path relative to the study file, the
text and label columns, a validation split), the fixed model, the knobs the shipped studies search
(embedding dimension, global pooling with attention, filters, kernel size, learning rate, dropout), the
budget, and the three commands that follow. Its columns come from :mod:`gapsearch.data.columns`.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

from gapsearch.data.columns import Column, DataFile, choose_columns, read_columns
from gapsearch.errors import UserError

#: Finished trials a starter study asks for: enough for TPE to go past its random start-up trials.
DEFAULT_TRIALS = 20


@dataclass(frozen=True)
class Starter:
    """A study file written for a data file, and the columns it reads."""

    study_file: Path
    data: DataFile
    text: Column
    label: Column
    metric: str

    def commands(self) -> list[str]:
        """The three commands that follow, for the study file as it was named."""
        study = shlex.quote(str(self.study_file))
        return [f"gapsearch validate {study}", f"gapsearch run {study}", f"gapsearch report {study} -o report"]

    def summary(self) -> str:
        """What ``gapsearch init`` prints: the file written, the columns and why, and the commands that follow."""
        values = ", ".join(repr(value) for value in self.label.examples)
        more = ", ..." if self.label.distinct > len(self.label.examples) else ""
        label = "numbers with fractions, so regression" if self.metric == "val_rmse" else f"{values}{more}"
        lines = [
            f"{self.study_file} written for {self.data.path} ({self.data.format}, {self.data.rows} rows read)",
            f"  text:  {self.text.describe()}",
            f"  label: {self.label.name!r} ({self.label.distinct} distinct: {label})",
            "next:",
            *(f"  {command}" for command in self.commands()),
        ]
        return "\n".join(lines)


def write_starter_study(
    data_file: Path,
    output: Path,
    *,
    text: str | None = None,
    label: str | None = None,
    n_trials: int = DEFAULT_TRIALS,
    force: bool = False,
) -> Starter:
    """Write a study file for ``data_file`` to ``output``, its columns named by ``text`` and ``label`` or found.

    Raises:
        UserError: ``output`` exists (without ``force``), is a folder, or its folder does not exist.
        DataError: the data file cannot be read, or its columns do not say which is the text or the label.
    """
    if output.is_dir():
        raise UserError(f"-o: {output} is a folder; expected the study file to write, for example study.yaml")
    if output.exists() and not force:
        raise UserError(f"-o: {output} exists; pass --force to overwrite it, or -o another file")
    if not output.parent.is_dir():
        raise UserError(f"-o: the folder {output.parent} does not exist")
    data = read_columns(data_file)
    text_column, label_column = choose_columns(data, text=text, label=label)
    metric = "val_rmse" if label_column.numbers and label_column.fractions else "val_accuracy"
    starter = Starter(output, data, text_column, label_column, metric)
    output.write_text(study_text(starter, n_trials), encoding="utf-8")
    return starter


def study_text(starter: Starter, n_trials: int) -> str:
    """The study file's text: every key a starting search needs, each with a comment."""
    data = starter.data
    train = Path(os.path.relpath(data.path.resolve(), starter.study_file.resolve().parent)).as_posix()
    regression = starter.metric == "val_rmse"
    label_note = "numbers with fractions: regression" if regression else f"{starter.label.distinct} distinct values"
    commands = starter.commands()
    lines = [
        f"# A study of {data.path.name}, written by `gapsearch init`: which embedding dimension, global pooling,",
        "# filters, kernel size, learning rate and dropout classify its texts best. Edit any key: the study file",
        "# page of the documentation lists them all. Paths are relative to this file; the study database is",
        "# gapsearch.db in the folder the commands run from. Next:",
        f"#   {commands[0]:<46} # checks this file and the data, prints the study",
        f"#   {commands[1]:<46} # runs the trials; a rerun continues the study",
        f"#   {commands[2]:<46} # report/report.html: what won, by how much, how surely",
        f"name: {_yaml(_study_name(data.path))}",
        f"metric: {starter.metric}",
        f"direction: {'minimize' if regression else 'maximize'}",
        _commented(f"n_trials: {n_trials}", "finished trials the study holds; raise it and rerun to search on"),
        _commented("seed: 0", "seeds the validation split, the sampler and each trial's training"),
        "# sampler and pruner: gapsearch's defaults (TPE; successive halving, which stops weak trials early)",
        "data:",
        _commented(f"  train: {_yaml(train)}", f"{data.format.upper()}, relative to this file"),
        _commented(f"  text: {_yaml(starter.text.name)}", "the column of texts"),
        _commented(f"  label: {_yaml(starter.label.name)}", f"the column of labels ({label_note})"),
        _commented("  validation_split: 0.2", "rows held out (stratified, seeded) to judge each trial"),
    ]
    if data.encoding not in (None, "utf-8"):
        lines.append(_commented(f"  encoding: {data.encoding}", "the file is not UTF-8"))
    if starter.text.empty:
        lines.append(_commented("  drop_empty: true", "rows without a text are left out (and counted)"))
    lines += [
        _commented("model:", "what every trial shares"),
        _commented("  max_tokens: 20000", "vocabulary size"),
        _commented("  sequence_length: auto", "tokens kept per text: the 95th percentile of the training texts"),
        _commented("  encoder: conv1d", "convolutions between the embedding and the pooling"),
        "  batch_size: 32",
        "  epochs: 10",
        _commented("  patience: 2", "epochs without improvement before a trial stops"),
        _commented("search_space:", "what the trials try"),
        "  embedding_dim: [32, 64, 128, 256]",
        _commented("  pooling: [average, max, attention]", "global pooling over the real (unpadded) tokens"),
        "  filters: [32, 64, 128]",
        "  kernel_size: [3, 5]",
        "  learning_rate: {low: 3.0e-4, high: 3.0e-3, log: true}",
        "  dropout: {low: 0.0, high: 0.5}",
    ]
    return "\n".join(lines) + "\n"


def _commented(line: str, comment: str) -> str:
    """``line`` with ``comment`` after it, comments aligned where the line is short enough."""
    return f"{line:<36} # {comment}"


def _yaml(value: str) -> str:
    """``value`` as a YAML scalar: plain where YAML reads it back as this string, quoted otherwise."""
    return yaml.safe_dump([value], default_flow_style=True, width=10_000, allow_unicode=True).strip()[1:-1]


def _study_name(path: Path) -> str:
    """The data file's stem as a study name (letters, digits, ``_``, ``.``, ``-``; a letter or digit first)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).lstrip("_.-")[:200]
    return name or "study"
