"""A run resumed from its checkpoint ends exactly as the same run trained without a stop."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import cli_env, require_module


class _Stopped(Exception):
    """Stands for the worker dying after an epoch's checkpoint."""


def resume_comparison(folder: Path, dropout: float = 0.3, stop_after: int = 3) -> dict:
    """Train 6 epochs straight; then ``stop_after`` epochs, stop, and resume from the checkpoint in a fresh
    model. ``stop_after=6`` stops once training is done, before its trial ends (the last epoch's checkpoint
    is there, and the retry has no epoch left to train)."""
    import keras

    from gapsearch.models.builder import build_model
    from gapsearch.spec import Hyperparameters
    from gapsearch.training.checkpoints import TrialCheckpoint
    from gapsearch.training.fit import train

    rng = np.random.default_rng(0)
    x = rng.integers(1, 50, size=(96, 12)).astype("int32")
    y = (x[:, :3].sum(axis=1) > 75).astype("float32")
    # Dropout (its seed generator is state too) and early stopping's patience are both part of what resumes.
    hp = Hyperparameters(embedding_dim=4, filters=4, sequence_length=12, max_tokens=50, epochs=6, dropout=dropout)

    def run(checkpoint=None, stop_after=None, resumed=None):
        keras.utils.set_random_seed(7)
        model = build_model(hp, vocabulary_size=50, n_classes=2)
        trained: list[int] = []

        def report(epoch: int, value: float) -> None:
            if stop_after is not None and epoch > stop_after:
                raise _Stopped
            trained.append(epoch)

        result = train(
            model, x, y, x[:40], y[:40], metric="val_loss", direction="minimize", epochs=6, batch_size=16,
            patience=4, report=report, seed=11, checkpoint=checkpoint, resumed=resumed,
        )  # fmt: skip
        return result, trained, [np.asarray(w) for w in model.get_weights()]

    whole, _, whole_weights = run()
    checkpoint = TrialCheckpoint(folder / "trial-0")
    if stop_after < 6:
        with pytest.raises(_Stopped):
            run(checkpoint, stop_after=stop_after)
    else:
        run(checkpoint)  # the worker stops after fit, before the objective removes the checkpoint
    saved = checkpoint.load()
    assert saved is not None
    resumed, trained, resumed_weights = run(checkpoint, resumed=saved)
    size = sum(f.stat().st_size for f in checkpoint.folder.rglob("*") if f.is_file())
    return {
        "backend": keras.backend.backend(),
        "saved_epoch": saved.epoch,
        "trained": trained,
        "whole": whole.history,
        "resumed": resumed.history,
        "best": [whole.best_value, resumed.best_value, whole.best_epoch, resumed.best_epoch],
        "weights_difference": max(
            float(np.max(np.abs(a - b))) for a, b in zip(whole_weights, resumed_weights, strict=True)
        ),
        "checkpoint_bytes": size,
        "folders": sorted(p.name for p in checkpoint.folder.iterdir()),
    }


def check(outcome: dict, tolerance: float, stop_after: int = 3) -> None:
    assert outcome["saved_epoch"] == stop_after and outcome["trained"] == list(range(stop_after + 1, 7))
    assert outcome["folders"] == ["current"] and outcome["checkpoint_bytes"] > 0
    assert outcome["resumed"].keys() == outcome["whole"].keys()
    for key, values in outcome["whole"].items():
        np.testing.assert_allclose(outcome["resumed"][key], values, rtol=0, atol=tolerance, err_msg=key)
    assert outcome["best"][0] == pytest.approx(outcome["best"][1], abs=tolerance)
    assert outcome["best"][2] == outcome["best"][3]
    assert outcome["weights_difference"] <= tolerance


def test_a_resumed_run_equals_an_uninterrupted_one_exactly_under_tensorflow(tmp_path):
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("this process runs another backend; the torch test below covers it")
    check(resume_comparison(tmp_path), tolerance=0.0)


def test_a_retry_after_the_last_epoch_trains_nothing_and_ends_as_the_uninterrupted_run(tmp_path):
    """A worker stopped between its trial's last epoch and the trial's end: the retry ends the trial."""
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("this process runs another backend")
    check(resume_comparison(tmp_path, stop_after=6), tolerance=0.0, stop_after=6)


def test_a_resumed_run_equals_an_uninterrupted_one_under_torch(tmp_path):
    """Without dropout: under torch, a resumed dropout layer draws other masks (docs: workers.md, resumable trials)."""
    require_module("torch")
    script = (
        "import json, sys; from pathlib import Path; from tests.test_checkpoints import resume_comparison; "
        "print(json.dumps(resume_comparison(Path(sys.argv[1]), dropout=0.0)))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env=cli_env({"KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["backend"] == "torch"
    check(outcome, tolerance=1e-6)
