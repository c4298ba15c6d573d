"""The artifacts: section of a study file: its defaults and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gapsearch.errors import StudyFileError
from gapsearch.spec import parse_study
from gapsearch.spec.artifacts import ArtifactsSpec

BASE = {
    "name": "s",
    "metric": "val_accuracy",
    "direction": "maximize",
    "n_trials": 1,
    "data": {"format": "synthetic"},
}


def test_defaults_keep_the_best_model_in_a_local_folder():
    spec = parse_study(BASE, source=Path("s.yaml"))
    assert spec.artifacts == ArtifactsSpec(store="gapsearch-artifacts", endpoint_url=None, save_models="best")


@pytest.mark.parametrize(
    ("artifacts", "message"),
    [
        (
            {"save_models": "some"},
            "s.yaml: artifacts.save_models: 'some' is not allowed; expected 'best', 'all' or 'none'",
        ),
        (
            {"store": "s3://bucket/prefix"},
            "s.yaml: artifacts.store: 's3://bucket/prefix' is not an S3 bucket; expected s3://BUCKET (no key prefix)",
        ),
        (
            {"store": "gs://bucket"},
            "s.yaml: artifacts.store: 'gs://bucket' is not a supported store; expected a folder or s3://BUCKET",
        ),
        ({"stor": "x"}, "s.yaml: artifacts.stor: unknown key; did you mean 'store'?"),
    ],
)
def test_bad_artifact_settings_are_one_line_errors(artifacts, message):
    with pytest.raises(StudyFileError) as caught:
        parse_study({**BASE, "artifacts": artifacts}, source=Path("s.yaml"))
    assert caught.value.errors == (message,)
