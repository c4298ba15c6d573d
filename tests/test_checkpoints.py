"""A run resumed from its checkpoint ends exactly as the same run trained without a stop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
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


def trained_model(seed: int = 7):
    """A small model after two epochs: its weights, Adam's moments and dropout's seed state all moved."""
    import keras

    from gapsearch.models.builder import build_model
    from gapsearch.spec import Hyperparameters

    keras.utils.set_random_seed(seed)
    hp = Hyperparameters(embedding_dim=4, filters=4, sequence_length=12, max_tokens=50, dropout=0.3)
    model = build_model(hp, vocabulary_size=50, n_classes=2)
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 50, size=(48, 12)).astype("int32")
    model.fit(x, (x[:, 0] > 25).astype("float32"), epochs=2, batch_size=16, verbose=0)
    return model


def values(variables) -> list[np.ndarray]:
    import keras

    return [np.array(keras.ops.convert_to_numpy(v.value)) for v in variables]


def state_of(model) -> list[np.ndarray]:
    return values([*model.weights, *model.optimizer.variables, *model.non_trainable_variables])


def save(checkpoint, model, epoch: int) -> None:
    checkpoint.save(model, epoch=epoch, history={}, early_stopping=None, counts=[], seconds=0.0, extra={})


def saved_epoch(folder: Path) -> int | None:
    """The epoch of the checkpoint on disk now, read without waiting for a write in progress."""
    state = folder / "current" / "state.json"
    return json.loads(state.read_text())["epoch"] if state.is_file() else None


def gate_writes(monkeypatch) -> threading.Event:
    """Hold every checkpoint write at its arrays until the returned event is set."""
    release = threading.Event()
    savez = np.savez

    def held(*args, **kwargs) -> None:
        assert release.wait(60), "the test never released the write"
        savez(*args, **kwargs)

    monkeypatch.setattr(np, "savez", held)
    return release


def writing_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "gapsearch-checkpoint"]


def test_a_save_returns_before_its_files_are_written_and_load_and_remove_wait_for_them(tmp_path, monkeypatch):
    from gapsearch.training.checkpoints import TrialCheckpoint

    model = trained_model()
    checkpoint = TrialCheckpoint(tmp_path / "trial-0")
    release = gate_writes(monkeypatch)
    save(checkpoint, model, epoch=1)
    assert saved_epoch(checkpoint.folder) is None and len(writing_threads()) == 1  # returned, still writing
    threading.Timer(0.2, release.set).start()
    saved = checkpoint.load()  # waits for the write
    assert saved is not None and saved.epoch == 1 and writing_threads() == []

    release.clear()
    save(checkpoint, model, epoch=2)
    assert saved_epoch(checkpoint.folder) == 1
    threading.Timer(0.2, release.set).start()
    checkpoint.remove()  # waits too: the write does not put the folder back after it is gone
    assert writing_threads() == [] and not checkpoint.folder.exists()


def test_a_checkpoint_holds_the_state_at_save_time_not_after_the_next_step(tmp_path, monkeypatch):
    """The arrays are copied by save: training on while the write waits changes nothing in the checkpoint."""
    from gapsearch.training.checkpoints import TrialCheckpoint

    model = trained_model()
    before = state_of(model)
    checkpoint = TrialCheckpoint(tmp_path / "trial-0")
    release = gate_writes(monkeypatch)
    save(checkpoint, model, epoch=2)
    x = np.random.default_rng(1).integers(1, 50, size=(32, 12)).astype("int32")
    model.fit(x, (x[:, 1] > 25).astype("float32"), epochs=1, batch_size=16, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, state_of(model), strict=True))
    release.set()
    saved = checkpoint.load()
    assert saved is not None
    fresh = trained_model(seed=8)
    saved.restore(fresh)
    for a, b in zip(before, state_of(fresh), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_failed_write_is_raised_by_the_next_wait_and_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    from gapsearch.training.checkpoints import TrialCheckpoint

    model = trained_model()
    checkpoint = TrialCheckpoint(tmp_path / "trial-0")
    save(checkpoint, model, epoch=1)
    checkpoint.wait()  # epoch 1 on disk before the disk fills up

    def full(*args, **kwargs) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    save(checkpoint, model, epoch=2)  # returns: the error is the writing thread's
    with pytest.raises(OSError, match="No space left on device"):
        checkpoint.wait()
    checkpoint.wait()  # raised once
    saved = checkpoint.load()
    assert saved is not None and saved.epoch == 1


def test_train_returns_or_raises_only_once_its_last_checkpoint_is_written(tmp_path, monkeypatch):
    from gapsearch.training.checkpoints import TrialCheckpoint
    from gapsearch.training.fit import train

    savez = np.savez

    def slow(*args, **kwargs) -> None:
        time.sleep(0.3)
        savez(*args, **kwargs)

    monkeypatch.setattr(np, "savez", slow)
    x = np.random.default_rng(0).integers(1, 50, size=(48, 12)).astype("int32")
    y = (x[:, 0] > 25).astype("float32")
    checkpoint = TrialCheckpoint(tmp_path / "trial-0")

    def stop_at_3(epoch: int, value: float) -> None:
        if epoch == 3:
            raise _Stopped

    common = {"metric": "val_loss", "direction": "minimize", "batch_size": 16, "patience": 10}
    with pytest.raises(_Stopped):
        train(trained_model(), x, y, x, y, epochs=4, report=stop_at_3, checkpoint=checkpoint, **common)
    assert saved_epoch(checkpoint.folder) == 2 and writing_threads() == []
    train(trained_model(), x, y, x, y, epochs=4, checkpoint=checkpoint, resumed=checkpoint.load(), **common)
    assert saved_epoch(checkpoint.folder) == 4 and writing_threads() == []


def test_a_stop_signal_while_waiting_is_raised_once_the_write_is_done(tmp_path, monkeypatch):
    """A worker told to stop keeps the epoch it finished: its retry resumes there."""
    from gapsearch.training.checkpoints import TrialCheckpoint

    def stop(signum, frame) -> None:
        raise _Stopped

    model = trained_model()
    checkpoint = TrialCheckpoint(tmp_path / "trial-0")
    release = gate_writes(monkeypatch)
    save(checkpoint, model, epoch=3)
    previous = signal.signal(signal.SIGUSR1, stop)
    try:
        main = threading.main_thread().ident
        assert main is not None
        threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGUSR1)).start()
        threading.Timer(0.5, release.set).start()
        with pytest.raises(_Stopped):
            checkpoint.wait()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert release.is_set() and saved_epoch(checkpoint.folder) == 3 and writing_threads() == []


def write_as_the_previous_release(folder: Path, model, epoch: int) -> None:
    """A checkpoint as gapsearch wrote it before the weights moved into state.npz: model.weights.h5."""
    import keras

    current = folder / "current"
    current.mkdir(parents=True)
    model.save_weights(current / "model.weights.h5")
    arrays = {f"optimizer_{i}": keras.ops.convert_to_numpy(v.value) for i, v in enumerate(model.optimizer.variables)}
    arrays.update(
        {f"state_{i}": keras.ops.convert_to_numpy(v.value) for i, v in enumerate(model.non_trainable_variables)}
    )
    np.savez(current / "state.npz", **arrays)
    stopping = {"wait": 0, "best": None, "best_epoch": 0, "n_best_weights": 0}
    state = {"epoch": epoch, "history": {}, "early_stopping": stopping, "extra": {}, "n_counts": 0, "seconds": 1.5}
    (current / "state.json").write_text(json.dumps(state))


def test_a_checkpoint_of_the_previous_release_still_restores(tmp_path):
    """A retry across an upgrade resumes: the weights come from model.weights.h5, the rest from state.npz."""
    from gapsearch.training.checkpoints import TrialCheckpoint

    model = trained_model()
    write_as_the_previous_release(tmp_path / "trial-0", model, epoch=2)
    saved = TrialCheckpoint(tmp_path / "trial-0").load()
    assert saved is not None and (saved.epoch, saved.seconds) == (2, 1.5)
    fresh = trained_model(seed=8)
    assert any(not np.array_equal(a, b) for a, b in zip(state_of(model), state_of(fresh), strict=True))
    saved.restore(fresh)
    for a, b in zip(state_of(model), state_of(fresh), strict=True):
        np.testing.assert_array_equal(a, b)
