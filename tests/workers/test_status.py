"""``gapsearch status`` and the trial lines: the run's budget, what each worker is doing, whole words."""

from __future__ import annotations

import optuna

from gapsearch.results.console import REASON_WIDTH, clip, trial_line
from gapsearch.spec.loader import load_study
from gapsearch.workers.registry import workers_seen
from gapsearch.workers.status import study_status
from tests.conftest import gapsearch
from tests.workers.trivial_worker import create


def test_status_shows_the_budget_of_the_last_run_not_the_files(finished_study):
    # The shared study's file says n_trials: 3; it was run with --n-trials 4.
    status = gapsearch("status", "tiny.yaml", cwd=finished_study.folder, check=True).stdout.splitlines()
    assert status[0] == (
        "study tiny in sqlite:///gapsearch.db: 4/4 finished trials (the last run's budget; the study file says 3)"
    )
    # The shared study may have finished more than RECENT_SECONDS before this test runs, so the worker's
    # line is read as of just after the worker's last note, through the function the command calls.
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study.folder / 'gapsearch.db'}")
    (worker,) = workers_seen(study)
    lines = study_status(
        load_study(finished_study.study_file), study, finished_study.storage, now=float(worker["last_seen"]) + 1
    ).splitlines()
    assert lines[2] == "workers seen in the last 5 minutes: 1"
    assert lines[3].split("  ")[5] == "stopped (budget)"


def test_a_worker_that_has_finished_trials_is_never_shown_as_starting(sqlite_url, trivial_pool):
    create(sqlite_url, "busy")
    seen: list[tuple[int, str]] = []

    def look(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        # Trials of 0.3s: all of them finish within the registry's 10-second rate limit.
        workers = {str(w["pid"]): w["activity"] for w in workers_seen(study)}
        seen.append((trial.number, workers[str(trial.user_attrs["pid"])]))

    result = trivial_pool(sqlite_url, "busy", 1, "--budget", "4", "--sleep", "0.3", watch=look)
    assert result.exit_codes == {0: 0}
    assert len(seen) == 4
    assert all(activity != "starting" for _, activity in seen), seen
    # The pool hands trial n on after it finished; by then its worker is on a later trial, waiting or
    # stopped, or (when the pool looked before the worker asked for its next trial) still on trial n.
    for number, activity in seen:
        later = {f"running trial {m}" for m in range(number, 4)}
        assert activity in later | {"waiting for running trials", "stopped (budget)"}, seen


def test_a_long_failure_reason_is_cut_at_a_word_boundary():
    words = " ".join(f"word{i}" for i in range(100))  # 589 characters
    clipped = clip(words, REASON_WIDTH)
    assert len(clipped) <= REASON_WIDTH and clipped.endswith("\u2026")
    assert words.startswith(clipped[:-1] + " ")  # whole words only, then the ellipsis
    assert clip("short reason", REASON_WIDTH) == "short reason"
    assert clip("x" * 300, 20) == "x" * 19 + "\u2026"  # one word longer than the width is cut inside
    trial = optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs={"fail_reason": words})
    assert trial_line(trial, "val_accuracy").endswith(f"  ({clipped})")
