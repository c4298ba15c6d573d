"""The ``data:`` section of a study file: where the texts come from, the task, and how they are split.

One class per source format, chosen by ``format`` (a discriminated union). With ``format: auto``
(the default) the format follows from ``train``: a mapping of class names to files is
``class_files``; otherwise the extension decides (``.csv``; ``.tsv``, ``.tab``, ``.txt``;
``.jsonl``, ``.ndjson``; ``.parquet``, ``.pq``), and a path without an extension is a
``directory`` with one sub-folder per class.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from gapsearch.spec.hyperparameters import Truncation

Task = Literal["binary", "multiclass", "multilabel", "regression"]
TASKS: tuple[str, ...] = get_args(Task)

#: The file extensions that decide the format with ``format: auto`` (any other reads as CSV).
FILE_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextSettings(_Frozen):
    """How raw text becomes tokens (the same for every source)."""

    lowercase: bool = Field(True, description="Lowercase before tokenizing.")
    strip_markup: bool = Field(True, description="Remove HTML-like tags such as <br />.")
    strip_punctuation: bool = Field(True, description="Remove punctuation before splitting on whitespace.")
    truncation: Truncation = Field(
        "post", description="Which end of a text too long for sequence_length is cut: 'post' keeps the start."
    )


class SourceSettings(TextSettings):
    """What every source shares: the task, the splits, empty texts and the cache."""

    task: Literal["auto", Task] = Field(
        "auto",
        description="'auto' infers it from the training labels: lists are multilabel, numbers with a fraction "
        "are regression, two labels binary, more multiclass.",
    )
    validation_split: float = Field(
        0.2,
        gt=0.0,
        lt=1.0,
        description="Share of train held out (stratified, seeded) when there is no validation file and no folds.",
    )
    folds: int | None = Field(
        None,
        ge=2,
        le=100,
        description="k-fold cross-validation on train (stratified, seeded): a trial's value is the mean over folds.",
    )
    inner_validation_split: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="With folds: share of each fold's training rows held out (stratified, seeded) to choose its "
        "epochs (early stopping and the pruner follow it); the fold is then scored at the chosen epoch, so it "
        "chooses nothing.",
    )
    drop_empty: bool = Field(
        False, description="Drop examples whose text is empty (counted and printed) instead of stopping."
    )
    label_separator: str | None = Field(
        None, description="Splits a text label into several labels (multilabel), for example '|'."
    )
    sequence_length_percentile: float = Field(
        95, gt=0, le=100, description="With sequence_length: auto, the percentile of training lengths it takes."
    )
    cache_dir: str | None = Field(
        None,
        description="Folder of the vectorized-data cache, relative to the study file; "
        "default .gapsearch-cache beside the study file.",
    )

    @model_validator(mode="after")
    def _check_split_settings(self) -> SourceSettings:
        if self.folds is not None and getattr(self, "validation", None) is not None:
            raise ValueError("folds and a validation file exclude each other; drop one of them")
        if self.inner_validation_split is not None and self.folds is None:
            raise ValueError(
                f"inner_validation_split: {self.inner_validation_split} needs folds (it splits each fold's "
                "training rows); set data.folds or drop it"
            )
        if self.label_separator == "":
            raise ValueError("label_separator must not be empty; leave it out or give a character such as '|'")
        return self


class SyntheticData(SourceSettings):
    """Generated texts whose class is carried by a few cue words among distractors."""

    format: Literal["synthetic"]
    n_examples: int = Field(2000, ge=20, le=1_000_000, description="Examples generated (all splits together).")
    n_classes: int = Field(2, ge=2, le=50, description="Number of classes.")
    min_length: int = Field(8, ge=1, description="Shortest text, in words.")
    max_length: int = Field(120, ge=1, description="Longest text, in words.")
    test_split: float = Field(
        0.2, ge=0.0, lt=1.0, description="Share held out as a test set that never chooses anything."
    )
    seed: int | None = Field(None, description="Generator seed; the study's seed when left out.")

    @model_validator(mode="after")
    def _check_lengths(self) -> SyntheticData:
        if self.min_length > self.max_length:
            raise ValueError(
                "min_length <= max_length must hold, but got "
                f"(min_length={self.min_length}, max_length={self.max_length})"
            )
        if self.validation_split + self.test_split >= 0.9:
            raise ValueError(
                "validation_split + test_split must be below 0.9 to leave data to train on, but got "
                f"{self.validation_split} + {self.test_split}"
            )
        return self


class KerasData(SourceSettings):
    """Keras' built-in sets (downloaded on first use into ~/.keras/datasets)."""

    format: Literal["keras"]
    dataset: Literal["imdb", "reuters"] = Field(description="Which built-in set: 'imdb' or 'reuters'.")


class _FileSource(SourceSettings):
    """Data in files: ``train`` required, ``validation`` and ``test`` optional; each a file, folder or glob."""

    train: str = Field(description="Training data: a file, a folder or a glob, relative to the study file.")
    validation: str | None = Field(
        None, description="Validation data; without it validation_split (or folds) is held out of train."
    )
    test: str | None = Field(None, description="Test data; only `gapsearch evaluate` reads it, never the search.")

    def paths(self) -> dict[str, str]:
        """The split names and the paths given for them."""
        return {k: v for k in ("train", "validation", "test") if (v := getattr(self, k)) is not None}

    def resolved_format(self) -> str:
        """The format, decided from the train path's extension when ``format`` is auto."""
        declared = getattr(self, "format", "auto")
        return declared if declared != "auto" else format_of_path(self.train)


class DelimitedData(_FileSource):
    """CSV or TSV files with a text column and a label column."""

    format: Literal["auto", "csv", "tsv"] = Field("auto", description="'auto' decides from the file extension.")
    text: str | int = Field("text", description="Text column: its header name, or its 0-based index without a header.")
    label: str | int = Field(
        "label", description="Label column: its header name, or its 0-based index without a header."
    )
    header: bool = Field(True, description="Whether the first row names the columns.")
    delimiter: str | None = Field(None, description="Field separator; ',' for csv and a tab for tsv when left out.")
    quoting: Literal["minimal", "none"] | None = Field(
        None, description="'minimal' honours double quotes (csv default); 'none' takes them literally (tsv default)."
    )
    encoding: str = Field("utf-8", description="Text encoding of the files, for example latin-1.")

    @model_validator(mode="after")
    def _check_columns(self) -> DelimitedData:
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError(f"delimiter must be one character, but got {self.delimiter!r}")
        if not self.header and (isinstance(self.text, str) or isinstance(self.label, str)):
            raise ValueError(
                "without a header, text and label must be 0-based column numbers, "
                f"but got (text={self.text!r}, label={self.label!r})"
            )
        return self

    def resolved_format(self) -> Literal["csv", "tsv"]:
        """``csv`` or ``tsv``: declared, or from the train file's extension (``csv`` when it says nothing)."""
        if self.format != "auto":
            return self.format
        return "tsv" if format_of_path(self.train) == "tsv" else "csv"


class JsonLinesData(_FileSource):
    """JSON Lines: one object per line, with a text field and a label field (a list for multilabel)."""

    format: Literal["auto", "jsonl"] = Field("auto", description="'auto' decides from the file extension.")
    text: str = Field("text", description="Field holding the text.")
    label: str = Field("label", description="Field holding the label: text, a number, or a list of labels.")
    encoding: str = Field("utf-8", description="Text encoding of the files.")


class ParquetData(_FileSource):
    """Parquet files with a text column and a label column."""

    format: Literal["auto", "parquet"] = Field("auto", description="'auto' decides from the file extension.")
    text: str = Field("text", description="Column holding the text.")
    label: str = Field("label", description="Column holding the label: text, a number, or a list of labels.")


class DirectoryData(_FileSource):
    """A folder with one sub-folder per class, holding one text file per example (the aclImdb layout)."""

    format: Literal["auto", "directory"] = Field("auto", description="'auto': a path without an extension.")
    encoding: str = Field("utf-8", description="Text encoding of the example files.")
    classes: list[str] | None = Field(
        None, description="Sub-folders to read, e.g. [neg, pos]; default: every sub-folder of train."
    )
    pattern: str = Field("*.txt", description="Which files in a class folder are examples.")


class ClassFilesData(SourceSettings):
    """One text file per class with one example per line: ``train: {pos: a.txt, neg: b.txt}``."""

    format: Literal["auto", "class_files"] = Field("auto", description="'auto': train is a mapping.")
    train: dict[str, str] = Field(description="Class name to file, relative to the study file.")
    validation: dict[str, str] | None = Field(None, description="Class name to validation file.")
    test: dict[str, str] | None = Field(None, description="Class name to test file; only `gapsearch evaluate`.")
    encoding: str = Field("utf-8", description="Text encoding of the files, for example latin-1.")

    @model_validator(mode="after")
    def _check_classes(self) -> ClassFilesData:
        if len(self.train) < 2:
            raise ValueError(f"train needs a file for each of at least 2 classes, but got {sorted(self.train)}")
        return self

    def paths(self) -> dict[str, str]:
        """``split/class`` names and their files."""
        return {
            f"{split}.{name}": path
            for split in ("train", "validation", "test")
            for name, path in (getattr(self, split) or {}).items()
        }

    def resolved_format(self) -> str:
        return "class_files"


def format_of_path(path: str) -> str:
    """The format ``format: auto`` gives a train path: by its extension (CSV when unknown), a folder without one."""
    suffix = PurePosixPath(path.rstrip("/")).suffix.lower()
    if path.endswith("/") or not suffix:
        return "directory"
    return FILE_EXTENSIONS.get(suffix, "csv")


def _format(value: object) -> str:
    if isinstance(value, dict):
        declared, train = value.get("format", "auto"), value.get("train")
    else:
        declared, train = getattr(value, "format", "auto"), getattr(value, "train", None)
    if declared != "auto":
        return str(declared)
    if isinstance(train, dict):
        return "class_files"
    if not isinstance(train, str):
        return "csv"  # reports the missing or malformed train key
    return format_of_path(train)


DataSpec = Annotated[
    Union[
        Annotated[SyntheticData, Tag("synthetic")],
        Annotated[KerasData, Tag("keras")],
        Annotated[DelimitedData, Tag("csv")],
        Annotated[DelimitedData, Tag("tsv")],
        Annotated[JsonLinesData, Tag("jsonl")],
        Annotated[ParquetData, Tag("parquet")],
        Annotated[DirectoryData, Tag("directory")],
        Annotated[ClassFilesData, Tag("class_files")],
    ],
    Discriminator(_format),
]


def any_of_in_schema(schema: dict) -> None:
    """JSON Schema for ``data:``: ``anyOf``, since several formats accept the same keys and ``format``
    (default ``auto``) decides between them, which a plain ``oneOf`` cannot express."""
    if "oneOf" in schema:
        schema["anyOf"] = schema.pop("oneOf")
