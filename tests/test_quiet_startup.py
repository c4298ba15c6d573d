"""The front door: no TensorFlow C++ log lines unless asked for, and a Keras backend that is not there in one line.

Every command runs as a user would start it: a fresh process whose environment lacks the
``TF_CPP_MIN_LOG_LEVEL`` the other tests' helper sets.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from gapsearch.runtime import TF_LOG_VARIABLE, quiet_tensorflow_logging, tensorflow_log_wanted
from tests.conftest import cli_env

# absl's line format (E0000 00:00:1796196535.605775   19665 cuda_platform.cc:52] ...) and the known lines.
CPP_LOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w.]+:\d+\]")
CHATTER = ("cuInit", "oneDNN", "cuda_platform", "cudart_stub", "cpu_feature_guard", "absl::InitializeLog", "TF-TRT")


def chatter(output: str) -> list[str]:
    return [line for line in output.splitlines() if CPP_LOG_LINE.match(line) or any(s in line for s in CHATTER)]


def bare(*args: str, cwd, **extra: str) -> subprocess.CompletedProcess[str]:
    """``gapsearch ARGS`` in an environment without TF_CPP_MIN_LOG_LEVEL (conftest's ``gapsearch`` adds it)."""
    env = {k: v for k, v in cli_env(extra).items() if k not in ("TF_CPP_MIN_LOG_LEVEL", TF_LOG_VARIABLE)}
    return subprocess.run(
        [sys.executable, "-m", "gapsearch", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def folder(finished_study, tmp_path_factory):
    """A copy of the finished tiny study (these commands write to it: a trial, test metrics, comparisons)."""
    copy = tmp_path_factory.mktemp("quiet") / "study"
    shutil.copytree(finished_study.folder, copy)
    return copy


COMMANDS = {
    "run": ("run", "tiny.yaml", "--n-trials", "5", "--no-progress"),
    "export": ("export", "tiny.yaml", "-o", "model.keras", "--savedmodel", "served"),
    "predict": ("predict", "model.keras", "a fine film"),
    "evaluate": ("evaluate", "tiny.yaml"),
    "compare": ("compare", "tiny.yaml", "--param", "embedding_dim", "--seeds", "2", "--no-progress"),
    "report": ("report", "tiny.yaml", "-o", "report"),
    "data": ("data", "tiny.yaml"),
}


def test_no_command_prints_tensorflows_cpp_log(folder):
    for name, args in COMMANDS.items():  # in this order: predict reads what export wrote
        result = bare(*args, cwd=folder)
        assert result.returncode == 0, (name, result.stderr)
        assert chatter(result.stdout + result.stderr) == [], name


def test_debug_shows_it_so_the_check_above_can_fail(folder):
    shown = bare("--debug", "predict", "model.keras", "a fine film", cwd=folder)
    assert shown.returncode == 0 and chatter(shown.stderr), shown.stderr


def test_the_environment_variable_keeps_tensorflows_log(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setenv(TF_LOG_VARIABLE, "1")
    quiet_tensorflow_logging()
    assert tensorflow_log_wanted() and "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    monkeypatch.setenv(TF_LOG_VARIABLE, "0")
    quiet_tensorflow_logging()
    assert not tensorflow_log_wanted() and os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"


@pytest.mark.parametrize("command", ["run", "export", "predict", "evaluate", "compare"])
def test_a_backend_that_is_not_installed_or_unknown_is_one_line_and_exit_2(folder, command):
    missing = bare(*COMMANDS[command], cwd=folder, KERAS_BACKEND="jax")
    assert (missing.returncode, missing.stdout, missing.stderr.splitlines()) == (
        2,
        "",
        [
            "error: KERAS_BACKEND: the 'jax' backend needs the jax package, which is not installed; "
            "pip install jax, or use another backend ('tensorflow', 'torch', 'jax')"
        ],
    )
    unknown = bare(*COMMANDS[command], cwd=folder, KERAS_BACKEND="tensorfow")
    assert (unknown.returncode, unknown.stderr.splitlines()) == (
        2,
        [
            "error: KERAS_BACKEND: 'tensorfow' is not a Keras backend gapsearch trains with; "
            "expected 'tensorflow', 'torch', 'jax'"
        ],
    )
