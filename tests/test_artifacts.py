"""Trial artifacts and the study note, read back through Optuna's artifact API and optuna-dashboard's notes."""

from __future__ import annotations

import csv
import io

import optuna
import pytest
from optuna.artifacts import FileSystemArtifactStore, download_artifact, get_all_artifact_meta
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.trial import TrialState
from optuna_dashboard import get_note

from tests.conftest import TINY_STUDY, gapsearch

PNG = b"\x89PNG\r\n\x1a\n"
ALWAYS = {"learning_curves.png", "history.csv", "model_summary.txt", "confusion_matrix.png"}


@pytest.fixture(scope="module")
def study(finished_study):
    return optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study.folder / 'gapsearch.db'}")


def read(store, meta, tmp_path) -> bytes:
    path = tmp_path / meta.artifact_id
    download_artifact(artifact_store=store, file_path=str(path), artifact_id=meta.artifact_id)
    return path.read_bytes()


def test_every_completed_trial_has_curves_history_summary_and_confusion_matrix(finished_study, study, tmp_path):
    store = FileSystemArtifactStore(finished_study.artifacts)
    completed = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(completed) == 4
    for trial in completed:
        metas = {m.filename: m for m in get_all_artifact_meta(trial, storage=study._storage)}
        assert ALWAYS <= set(metas) <= ALWAYS | {"model.keras", "explanation.json"}
        assert metas["learning_curves.png"].mimetype == "image/png"
        assert read(store, metas["learning_curves.png"], tmp_path).startswith(PNG)
        assert read(store, metas["confusion_matrix.png"], tmp_path).startswith(PNG)
        rows = list(csv.DictReader(io.StringIO(read(store, metas["history.csv"], tmp_path).decode())))
        history = trial.user_attrs["history"]
        assert [int(r["epoch"]) for r in rows] == list(range(1, len(history["loss"]) + 1))
        for key, values in history.items():
            assert [float(r[key]) for r in rows] == values
        summary = read(store, metas["model_summary.txt"], tmp_path).decode()
        assert f"embedding_dim = {trial.params['embedding_dim']}\n" in summary
        assert f"pooling = {trial.params['pooling']}\n" in summary
        assert f"Trainable params: {trial.user_attrs['params_total']:,}" in summary


def test_save_models_best_keeps_only_the_best_trials_model(finished_study, study, tmp_path):
    store = FileSystemArtifactStore(finished_study.artifacts)
    best = study.best_trial
    best_models = [m for m in get_all_artifact_meta(best, storage=study._storage) if m.filename == "model.keras"]
    assert len(best_models) == 1
    assert read(store, best_models[0], tmp_path)[:2] == b"PK"  # a .keras file is a zip archive
    removed = 0
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    for trial in complete:
        if trial.number == best.number:
            continue
        for meta in get_all_artifact_meta(trial, storage=study._storage):
            if meta.filename == "model.keras":
                with pytest.raises(ArtifactNotFound):
                    store.open_reader(meta.artifact_id)
                note = study._storage.get_study_system_attrs(study._study_id)
                body = "".join(
                    v for k, v in sorted(note.items()) if k.startswith(f"dashboard:{trial._trial_id}:note_str:")
                )
                assert body.startswith("The model of this trial (`model.keras`) was removed when trial ")
                assert "(`save_models: best`)" in body
                removed += 1
    # A trial saves its model when it is the best so far (trial 0 always is); each such model but the
    # final best's is removed with a note, and a trial that never led saved none.
    leaders = [t for i, t in enumerate(complete) if all(t.value > u.value for u in complete[:i])]
    assert removed == len([t for t in leaders if t.number != best.number])


def test_the_study_note_holds_the_study_file_and_the_data_statistics(finished_study, study):
    from gapsearch.data import load_splits
    from gapsearch.spec import load_study

    spec = load_study(finished_study.study_file)
    splits = load_splits(spec.data, spec.base_dir, spec.seed)
    note = get_note(study)
    assert note.startswith("# tiny\n\nMaximize **val_accuracy** over 3 trials (random sampler, no pruner, seed 3).")
    assert f"| train | {len(splits.train)} |\n" in note
    assert f"| validation | {len(splits.validation)} |\n" in note
    lengths = sorted(len(text.split()) for text in splits.train.texts)
    assert f"longest {lengths[-1]}." in note  # the synthetic texts are already standardized words
    # The file holds no secret, so the masked copy is the file as written.
    assert "```yaml\n" + finished_study.study_file.read_text().rstrip("\n") + "\n```" in note


def test_the_study_note_masks_every_password_of_the_study_file_and_of_the_url_in_force(tmp_path):
    from gapsearch.data.cache import StudyData
    from gapsearch.search.artifacts import study_note
    from gapsearch.spec import load_study

    text = (
        "# staging: mysql://alice:Staging-Pw1@db.staging/studies (password Staging-Pw1); the token is Env-Pw2\n"
        + TINY_STUDY
        + "storage: postgresql://alice:File-Pw3@db.internal/studies?sslpassword=Key-Pw4\n"
    )
    (tmp_path / "study.yaml").write_text(text)
    spec = load_study(tmp_path / "study.yaml")
    note = study_note(
        spec, StudyData(spec.data, spec.base_dir, spec.seed), storage_url="postgresql://alice:Env-Pw2@db/studies"
    )
    shown = note.split("```yaml\n")[1].split("\n```")[0]
    masked = text.rstrip("\n")
    for secret in ("Staging-Pw1", "Env-Pw2", "File-Pw3", "Key-Pw4"):
        masked = masked.replace(secret, "***")
    assert shown == masked


def test_a_store_that_cannot_be_created_stops_the_run_before_the_database(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY + "artifacts: {store: taken/artifacts}\n")
    result = gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: artifacts.store: cannot create the folder taken/artifacts: Not a directory"
    )
    assert not (tmp_path / "gapsearch.db").exists()
