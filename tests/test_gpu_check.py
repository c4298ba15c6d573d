"""The prepared GPU check (tests/benchmarks/gpu.py) runs end to end on a CPU with ``--dry-run``, under the
backend the GPU machines have (PyTorch), so that the one command sent to a lent GPU machine is known to work."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.benchmarks.gpu import SIDES
from tests.conftest import ROOT, cli_env, require_module

RESULTS = ROOT / "tests" / "benchmarks" / "results" / "gpu.json"


@pytest.mark.slow
def test_the_gpu_check_runs_its_four_sides_under_torch_without_a_gpu():
    require_module("torch")
    existed = RESULTS.read_bytes() if RESULTS.exists() else None
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.gpu", "--dry-run"],
        cwd=ROOT,
        env=cli_env({"KERAS_BACKEND": "torch"}),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {
        cells[0]: cells[1:]
        for line in done.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| side")
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    assert list(rows) == list(SIDES)  # the four sides, in order
    for side, (ran_on, finished, per_hour, utilization, memory) in rows.items():
        assert ran_on == "torch, cpu", side
        assert int(finished) >= 1 and float(per_hour) > 0, side
        if shutil.which("nvidia-smi") is None:  # nothing to sample: no figure is made up
            assert (utilization, memory) == ("-", "-"), side
    assert "dry run: nothing written to tests/benchmarks/results/" in done.stdout
    assert (RESULTS.read_bytes() if RESULTS.exists() else None) == existed
