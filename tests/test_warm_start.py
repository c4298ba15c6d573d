"""Warm starts: a study starts from the best parameter sets of a finished one, fitted to its own space."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from gapsearch.search.selection import ranked_trials
from gapsearch.search.warm_start import WARM_START_FROM, plan_warm_start, queue_warm_start
from gapsearch.spec import load_study
from tests.conftest import TINY_STUDY, cli, gapsearch

SPACE = {
    "embedding_dim": IntDistribution(4, 32, step=4),
    "pooling": CategoricalDistribution(["average", "max", "attention"]),
    "attention_units": IntDistribution(2, 16),
}


def make_source(url: str, rows: list[tuple[dict, object]], directions=("maximize",)) -> None:
    """A finished source study holding ``rows`` of (params, value or values), written through Optuna's API."""
    study = optuna.create_study(study_name="source", storage=url, directions=list(directions))
    for params, values in rows:
        study.add_trial(
            create_trial(
                params=params,
                distributions={name: SPACE[name] for name in params},
                values=list(values) if isinstance(values, tuple) else [values],
                state=TrialState.COMPLETE,
            )
        )


def target(tmp_path: Path, space: str, *, top: int = 10, storage: str | None = None, head: str = TINY_STUDY):
    warm = f"warm_start: {{study: source, top: {top}" + (f", storage: '{storage}'" if storage else "") + "}\n"
    text = head.split("search_space:")[0].replace("name: tiny", "name: target") + warm + "search_space:\n" + space
    path = tmp_path / "target.yaml"
    path.write_text(text)
    return load_study(path)


def queued_params(url: str) -> list[tuple[dict, str]]:
    study = optuna.load_study(study_name="target", storage=url)
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    return [(trial.system_attrs["fixed_params"], trial.user_attrs[WARM_START_FROM]) for trial in waiting]


def queue(spec, url: str):
    plan = plan_warm_start(spec, url)
    assert plan is not None
    study = optuna.create_study(study_name="target", storage=url, directions=spec.directions, load_if_exists=True)
    return queue_warm_start(study, plan)


def test_a_narrowed_space_skips_the_sets_outside_it_with_one_line_each(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    make_source(
        url,
        [
            ({"embedding_dim": 8, "pooling": "max"}, 0.9),
            ({"embedding_dim": 32, "pooling": "average"}, 0.8),  # 32 is above this study's range
            ({"embedding_dim": 12, "pooling": "average"}, 0.7),  # off the step of 8
            ({"embedding_dim": 16, "pooling": "attention", "attention_units": 8}, 0.6),  # not a choice any more
            ({"embedding_dim": 16, "pooling": "average"}, 0.5),
        ],
    )
    spec = target(tmp_path, "  embedding_dim: {low: 8, high: 24, step: 8}\n  pooling: [average, max]\n")
    done = queue(spec, url)
    assert done.queued == 2
    assert queued_params(url) == [
        ({"embedding_dim": 8, "pooling": "max"}, "source trial 0"),
        ({"embedding_dim": 16, "pooling": "average"}, "source trial 4"),
    ]
    assert list(done.notes) == [
        "warm start: source trial 1 skipped: embedding_dim=32 is outside this study's space (8 .. 24 step 8)",
        "warm start: source trial 2 skipped: embedding_dim=12 is outside this study's space (8 .. 24 step 8)",
        "warm start: source trial 3 skipped: pooling='attention' is outside this study's space (choices average, max)",
    ]
    assert done.summary() == "warm start from study source: queued 2 parameter sets (3 notes above)"


def test_a_conditional_parameter_is_carried_only_where_its_condition_holds(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    make_source(
        url,
        [
            ({"embedding_dim": 8, "pooling": "max", "attention_units": 4}, 0.9),  # searched unconditionally there
            ({"embedding_dim": 8, "pooling": "attention", "attention_units": 6}, 0.8),
        ],
    )
    spec = target(
        tmp_path,
        "  embedding_dim: [4, 8]\n  pooling: [average, max, attention]\n"
        "  attention_units: {low: 2, high: 16, when: {pooling: attention}}\n",
    )
    done = queue(spec, url)
    assert queued_params(url) == [
        ({"embedding_dim": 8, "pooling": "max"}, "source trial 0"),
        ({"embedding_dim": 8, "pooling": "attention", "attention_units": 6}, "source trial 1"),
    ]
    assert list(done.notes) == [
        "warm start: source trial 0: attention_units=4 left out: its condition pooling in (attention) does not hold"
    ]


def test_a_parameter_this_study_fixes_elsewhere_skips_the_set(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    make_source(url, [({"embedding_dim": 8, "pooling": "max"}, 0.9), ({"embedding_dim": 8, "pooling": "average"}, 0.8)])
    spec = target(
        tmp_path, "  embedding_dim: [4, 8]\n", head=TINY_STUDY.replace("filters: 8", "filters: 8\n  pooling: max")
    )
    done = queue(spec, url)
    assert queued_params(url) == [({"embedding_dim": 8}, "source trial 0")]
    assert list(done.notes) == [
        "warm start: source trial 1 skipped: pooling='average', but this study fixes pooling at 'max'"
    ]


def test_a_multi_objective_source_gives_its_pareto_front_best_first_by_the_first_objective(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    make_source(
        url,
        [
            ({"embedding_dim": 4, "pooling": "max"}, (0.70, 100.0)),  # front: the smallest
            ({"embedding_dim": 8, "pooling": "max"}, (0.65, 200.0)),  # dominated by trial 0
            ({"embedding_dim": 16, "pooling": "max"}, (0.90, 400.0)),  # front: the most accurate
            ({"embedding_dim": 8, "pooling": "average"}, (0.80, 200.0)),  # front
        ],
        directions=("maximize", "minimize"),
    )
    source = optuna.load_study(study_name="source", storage=url)
    assert [trial.number for trial in ranked_trials(source)] == [2, 3, 0]
    spec = target(tmp_path, "  embedding_dim: [4, 8, 16]\n  pooling: [average, max]\n", top=2)
    done = queue(spec, url)
    assert queued_params(url) == [
        ({"embedding_dim": 16, "pooling": "max"}, "source trial 2"),
        ({"embedding_dim": 8, "pooling": "average"}, "source trial 3"),
    ]
    assert done.notes == ()


def test_a_missing_source_is_one_line_and_writes_nothing(tmp_path):
    (tmp_path / "target.yaml").write_text(
        TINY_STUDY.replace("name: tiny", "name: target") + "warm_start: {study: nowhere, storage: 'sqlite:///src.db'}\n"
    )
    (tmp_path / "src.db").touch()
    make_source(f"sqlite:///{tmp_path / 'src.db'}", [({"embedding_dim": 8}, 0.5)])
    result = gapsearch("run", "target.yaml", "--no-progress", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "error: no study 'nowhere' in sqlite:///src.db; studies there: 'source'\n"
    assert not (tmp_path / "gapsearch.db").exists()


def test_a_widened_space_starts_with_the_source_best_sets_and_a_rerun_queues_none(finished_study, tmp_path):
    source = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study.folder / 'gapsearch.db'}")
    expected: list[dict] = []
    for trial in ranked_trials(source):
        if trial.params not in expected:
            expected.append(trial.params)
    expected = expected[:2]
    assert expected and expected[0] == source.best_trial.params
    space = (
        "  embedding_dim: [4, 8, 16]\n  pooling: [average, max, attention]\n"
        "  attention_units: {low: 2, high: 16, when: {pooling: attention}}\n  dropout: [0.0, 0.5]\n"
    )
    text = (
        TINY_STUDY.split("search_space:")[0].replace("name: tiny", "name: widened").replace("epochs: 2", "epochs: 1")
        + "warm_start: {study: tiny, top: 2, storage: 'sqlite:///"
        + str(finished_study.folder / "gapsearch.db")
        + "'}\nsearch_space:\n"
        + space
    ).replace("n_trials: 3", f"n_trials: {len(expected)}")
    (tmp_path / "widened.yaml").write_text(text)
    first = gapsearch("run", "widened.yaml", "--no-progress", cwd=tmp_path, check=True)
    assert f"warm start from study tiny: queued {len(expected)} parameter sets" in first.stdout
    study = optuna.load_study(study_name="widened", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    trials = study.get_trials(deepcopy=False)
    assert [{k: v for k, v in t.params.items() if k != "dropout"} for t in trials] == expected
    assert all("dropout" in t.params for t in trials), "the parameter the source did not search is sampled"
    assert [t.user_attrs[WARM_START_FROM].split(" trial ")[0] for t in trials] == ["tiny"] * len(expected)
    second = gapsearch("run", "widened.yaml", "--no-progress", "--n-trials", str(len(expected) + 1), cwd=tmp_path)
    assert "warm start from study tiny: queued on an earlier run; nothing queued now" in second.stdout
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == len(expected) + 1
    assert WARM_START_FROM not in trials[-1].user_attrs
    assert study.user_attrs["warm_start"]["queued"] == len(expected)


@pytest.mark.parametrize("key", ["top: 0", "colour: red"])
def test_a_bad_warm_start_key_is_one_line(tmp_path, key):
    (tmp_path / "t.yaml").write_text(TINY_STUDY + f"warm_start: {{study: src, {key}}}\n")
    result = cli("validate", "t.yaml", cwd=tmp_path)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: t.yaml: warm_start.")
