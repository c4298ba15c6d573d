"""The starting portfolio: configurations that did well across the benchmark data sets, queued first."""

from __future__ import annotations

import optuna
import pytest

from gapsearch.search.portfolio import PORTFOLIO_DONE, plan_portfolio, shipped
from gapsearch.search.warm_start import WARM_START_FROM
from gapsearch.spec import Hyperparameters, load_study
from tests.conftest import TINY_STUDY, cli, gapsearch

ENTRIES = [
    {"params": {"embedding_dim": 32, "pooling": "average", "filters": 64, "dropout": 0.5}},
    {"params": {"embedding_dim": 128, "pooling": "max", "filters": 64, "dropout": 0.5}},  # 128: outside [4, 8, 32]
    {"params": {"embedding_dim": 32, "pooling": "average", "filters": 192, "dropout": 0.0}},  # same once reduced
    {"params": {"embedding_dim": 8, "pooling": "gem", "filters": 64}},  # gem is not a choice here
    {"params": {"embedding_dim": 4, "pooling": "max", "filters": 192}},
    {"params": {"filters": 64, "dropout": 0.5}},  # nothing this study searches: not an entry for it
]
SPACE = "search_space:\n  embedding_dim: [4, 8, 32]\n  pooling: [average, max, attention]\n"


def spec_with(tmp_path, portfolio: int, space: str = SPACE):
    text = TINY_STUDY.split("search_space:")[0] + f"portfolio: {portfolio}\n" + space
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    return load_study(path)


def test_entries_are_reduced_to_the_searched_parameters_fitted_and_queued_once(tmp_path):
    plan = plan_portfolio(spec_with(tmp_path, 3), ENTRIES)
    assert plan is not None
    assert [s.params for s in plan.sets] == [
        {"embedding_dim": 32, "pooling": "average"},
        {"embedding_dim": 4, "pooling": "max"},
    ]
    assert [s.source for s in plan.sets] == ["gapsearch portfolio entry 1", "gapsearch portfolio entry 5"]
    assert plan.notes == (
        "portfolio: gapsearch portfolio entry 2 skipped: embedding_dim=128 is outside this study's space "
        "(choices 4, 8, 32)",
        "portfolio: gapsearch portfolio entry 3 skipped: the same parameters as an earlier set in this space",
        "portfolio: gapsearch portfolio entry 4 skipped: pooling='gem' is outside this study's space "
        "(choices average, max, attention)",
    )
    first = plan_portfolio(spec_with(tmp_path, 1), ENTRIES)
    assert first is not None and len(first.sets) == 1


def test_no_portfolio_by_default_and_with_zero(tmp_path):
    (tmp_path / "plain.yaml").write_text(TINY_STUDY)
    assert load_study(tmp_path / "plain.yaml").portfolio == 0
    assert plan_portfolio(spec_with(tmp_path, 0), ENTRIES) is None


def test_the_shipped_portfolio_holds_valid_configurations_and_says_what_built_it():
    portfolio = shipped()
    assert portfolio["built_by"] == "python -m tests.benchmarks.portfolio"
    assert portfolio["tables"], "which learning-curve tables it was built from"
    assert len(portfolio["entries"]) >= 3
    for entry in portfolio["entries"]:
        Hyperparameters(**entry["params"])  # every entry is a configuration the study file accepts
    keys = [tuple(sorted(entry["params"].items())) for entry in portfolio["entries"]]
    assert len(set(keys)) == len(keys)


def test_a_run_tries_the_portfolio_first_and_a_rerun_queues_it_no_more(tmp_path):
    space = "search_space:\n  embedding_dim: [8, 32, 128]\n  pooling: [average, max, attention, gem]\n"
    spec = spec_with(tmp_path, 2, space)
    plan = plan_portfolio(spec)
    assert plan is not None and len(plan.sets) == 2
    first = gapsearch("run", "tiny.yaml", "--no-progress", "--n-trials", "2", cwd=tmp_path, check=True)
    assert "portfolio: queued 2 parameter sets" in first.stdout
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    trials = study.get_trials(deepcopy=False)
    assert [t.params for t in trials] == [s.params for s in plan.sets]
    assert [t.user_attrs[WARM_START_FROM] for t in trials] == [s.source for s in plan.sets]
    second = gapsearch("run", "tiny.yaml", "--no-progress", "--n-trials", "3", cwd=tmp_path, check=True)
    assert "portfolio: queued on an earlier run; nothing queued now" in second.stdout
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 3 and WARM_START_FROM not in trials[-1].user_attrs
    assert study.user_attrs[PORTFOLIO_DONE]["queued"] == 2


@pytest.mark.parametrize("value", ["-1", "21", "many"])
def test_a_bad_portfolio_is_one_line(tmp_path, value):
    (tmp_path / "t.yaml").write_text(TINY_STUDY + f"portfolio: {value}\n")
    result = cli("validate", "t.yaml", cwd=tmp_path)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: t.yaml: portfolio")
