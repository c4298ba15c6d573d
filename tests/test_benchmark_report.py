"""What benchmark (b)'s page says the time-to-best target asks, counted on hand-made cells."""

from __future__ import annotations

import random

import pytest

from tests.benchmarks.report import _ceiling_summary, _ceiling_text, time_to_best_ceiling


def cell(kt_seconds, kt_curve, kt_retrained, gs_curve, gs_retrained):
    best = max(value for _, value in kt_curve)
    return {
        "kerastuner": {"seconds": kt_seconds, "curve": kt_curve, "best_val_accuracy": best, "retrained": kt_retrained},
        "gapsearch": {"curve": gs_curve, "retrained": gs_retrained},
    }


CELLS = [
    # KerasTuner's best 0.80; at 0.3 of 100 s: KerasTuner has 2 complete trials (30 s counts), gapsearch 1.
    cell(100, [[10, 0.78], [30, 0.79], [90, 0.80]], [0.80, 0.79, 0.81], [[20, 0.79], [40, 0.80]], [0.79, 0.79, 0.78]),
    # KerasTuner's best 0.41; 1 trial of each within 30 of 100 s.
    cell(100, [[25, 0.41], [60, 0.40]], [0.40, 0.39, 0.38], [[12, 0.40]], [0.41, 0.40, 0.42]),
    # 3 of KerasTuner's trials within 60 of 200 s, none of gapsearch's.
    cell(200, [[15, 0.70], [40, 0.72], [60, 0.71], [150, 0.73]], [0.70, 0.73, 0.72], [[61, 0.74]], [0.74, 0.70, 0.71]),
]


def test_it_counts_the_reruns_reaching_kerastuners_best_and_the_trials_within_the_target():
    ceiling = time_to_best_ceiling(CELLS, 0.3)
    # Reaching means at least the final best: 0.80 and 0.81; none of 0.40/0.39/0.38; 0.73.
    assert ceiling["runs_reaching"] == {"kerastuner": [3, 9], "gapsearch": [3, 9]}
    assert ceiling["complete_trials_within"] == {
        "kerastuner": {"median": 2, "range": [1, 3]},
        "gapsearch": {"median": 1, "range": [0, 1]},
    }
    assert ceiling["oracle_chance"] == pytest.approx(1 - (6 / 9) ** 2)
    assert ceiling["target"] == 0.3


def test_the_chance_is_what_drawing_that_many_reruns_at_random_gives():
    """The closed form against a draw: k reruns picked at random from the pooled ones, any of them reaching."""
    ceiling = time_to_best_ceiling(CELLS, 0.3)
    pool = [v >= c["kerastuner"]["best_val_accuracy"] for c in CELLS for v in c["kerastuner"]["retrained"]]
    k = ceiling["complete_trials_within"]["kerastuner"]["median"]
    rng = random.Random(3)
    draws = 40_000
    hits = sum(any(rng.choice(pool) for _ in range(k)) for _ in range(draws))
    assert hits / draws == pytest.approx(ceiling["oracle_chance"], abs=0.01)


def test_the_page_says_fewer_than_half_only_when_it_is_and_names_the_machines_cores():
    low = _ceiling_text(time_to_best_ceiling(CELLS, 0.3), 2, gpu_measured=False)
    assert "3 of 9 runs" in low
    assert "1 - (1 - 3/9)^2 = 0.56 per search:" in low  # above a half: no "fewer than half"
    assert "2 cores" in low and "not yet run" in low
    # With only KerasTuner's first trial within 0.2 of its time, the chance is 1 - (1 - 3/9)^1 = 0.33.
    high = _ceiling_text(time_to_best_ceiling(CELLS, 0.2), 16, gpu_measured=True)
    assert "= 0.33 per search, in fewer than half the searches" in high
    assert "16 cores" in high and "not yet run" not in high


def test_the_readme_sentence_gives_the_chance_at_the_targets_share():
    assert "within 0.3 of KerasTuner's time with chance 0.56 per search" in _ceiling_summary(CELLS)
