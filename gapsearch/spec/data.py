"""The ``data:`` section of a study file: where the texts come from and how they are split.

One class per source kind, chosen by ``format``. A later issue adds more formats;
each is one more class in the :data:`DataSpec` union.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextSettings(_Frozen):
    """How raw text becomes tokens (the same for every source)."""

    lowercase: bool = Field(True, description="Lowercase before tokenizing.")
    strip_markup: bool = Field(True, description="Remove HTML-like tags such as <br />.")
    strip_punctuation: bool = Field(True, description="Remove punctuation before splitting on whitespace.")
    truncation: Literal["pre", "post"] = Field(
        "post", description="Which end of a text too long for sequence_length is cut: 'post' keeps the start."
    )


class SyntheticData(TextSettings):
    """Generated texts whose class is carried by a few cue words among distractors."""

    format: Literal["synthetic"]
    n_examples: int = Field(2000, ge=20, le=1_000_000, description="Examples generated (all splits together).")
    n_classes: int = Field(2, ge=2, le=50, description="Number of classes.")
    min_length: int = Field(8, ge=1, description="Shortest text, in words.")
    max_length: int = Field(120, ge=1, description="Longest text, in words.")
    validation_split: float = Field(0.2, gt=0.0, lt=1.0, description="Share of examples held out for validation.")
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


class DelimitedData(TextSettings):
    """CSV or TSV files with a text column and a label column."""

    format: Literal["auto", "csv", "tsv"] = Field("auto", description="'auto' decides from the file extension.")
    train: str = Field(description="Training file, relative to the study file.")
    validation: str | None = Field(
        None, description="Validation file; without it validation_split is held out of train."
    )
    test: str | None = Field(None, description="Test file; only `gapsearch evaluate` reads it, never the search.")
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
    validation_split: float = Field(
        0.2,
        gt=0.0,
        lt=1.0,
        description="Share of train held out (stratified, seeded) when no validation file is given.",
    )

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
        """The delimited format, decided from the train file's extension when ``format`` is auto."""
        if self.format != "auto":
            return self.format
        return "tsv" if self.train.lower().endswith((".tsv", ".tab", ".txt")) else "csv"


def _data_kind(value: object) -> str:
    if isinstance(value, dict):
        return "synthetic" if value.get("format") == "synthetic" else "delimited"
    return "synthetic" if getattr(value, "format", None) == "synthetic" else "delimited"


DataSpec = Annotated[
    Union[Annotated[SyntheticData, Tag("synthetic")], Annotated[DelimitedData, Tag("delimited")]],
    Discriminator(_data_kind),
]
