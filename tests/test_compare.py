"""``gapsearch compare``: paired seeds, intervals and tests checked against scipy, stored with the study."""

from __future__ import annotations

import html
import statistics
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution
from scipy import stats

from gapsearch import cost_names
from gapsearch.errors import UserError
from gapsearch.results.compare import compare_seeds, plan_comparison
from gapsearch.results.compare_console import comparison_report
from gapsearch.results.comparison import Comparison
from gapsearch.search.selection import trial_seed
from gapsearch.spec import load_study
from tests.conftest import TINY_STUDY, cli

STUDY = TINY_STUDY.replace("n_trials: 3", "n_trials: 1")


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[Path, str, str]:
    """The tiny study run for one trial, then its pooling types compared over 2 seeds by the CLI (in this process)."""
    folder = tmp_path_factory.mktemp("compare")
    (folder / "tiny.yaml").write_text(STUDY)
    cli("run", "tiny.yaml", "--no-progress", cwd=folder, check=True)
    result = cli("compare", "tiny.yaml", "--param", "pooling", "--seeds", "2", cwd=folder, check=True)
    return folder, result.stdout, result.stderr


def stored(folder: Path) -> tuple[optuna.Study, dict]:
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{folder / 'gapsearch.db'}")
    return study, study.user_attrs["compare:pooling"]


def test_every_value_trains_with_the_same_new_seeds(compared):
    folder, _, _ = compared
    study, record = stored(folder)
    (trial,) = study.trials
    assert record["base_trial"] == trial.number
    assert record["base_params"] == {k: v for k, v in trial.params.items() if k != "pooling"}
    assert record["seeds"] == compare_seeds(3, 2)
    assert trial_seed(3, trial.number) not in record["seeds"]  # not the lucky seed that made the trial best
    assert sorted(r["value"] for r in record["results"]) == ["attention", "average", "max"]
    assert all(len(r["runs"]) == 2 and all(0.0 <= v <= 1.0 for v in r["runs"]) for r in record["results"])
    assert record["metric"] == "val_accuracy" and record["test"] == "paired t-test"
    attention = next(r for r in record["results"] if r["value"] == "attention")
    if trial.params["pooling"] != "attention":
        assert attention["defaults_used"] == {"attention_units": 64}


def test_each_run_keeps_its_seconds_per_epoch_and_its_train_validation_gap(compared):
    folder, _, _ = compared
    _, record = stored(folder)
    for result in record["results"]:
        assert len(result["seconds_per_epoch"]) == len(result["gaps"]) == 2
        # Every cost known before training, by the cost table's names, counts as ints.
        assert list(result["costs"]) == list(cost_names.KNOWN_BEFORE_TRAINING)
        assert all(isinstance(result["costs"][name], int) for name in cost_names.COUNTS if name in result["costs"])
        assert all(seconds > 0 for seconds in result["seconds_per_epoch"])
        assert all(-1.0 <= gap <= 1.0 for gap in result["gaps"])  # accuracy minus val_accuracy
        assert result["mean_seconds_per_epoch"] == pytest.approx(statistics.fmean(result["seconds_per_epoch"]))
        assert result["mean_gap"] == pytest.approx(statistics.fmean(result["gaps"]))


def test_means_intervals_and_paired_tests_match_scipy(compared):
    folder, _, _ = compared
    _, record = stored(folder)
    best, *others = record["results"]
    assert best["value"] == record["best"] and best["p_value"] is None and best["difference"] is None
    for result in record["results"]:
        runs = result["runs"]
        assert result["mean"] == pytest.approx(statistics.fmean(runs))
        assert result["mean"] <= best["mean"]
        if result["std"]:
            low, high = stats.t.interval(0.95, len(runs) - 1, loc=statistics.fmean(runs), scale=stats.sem(runs))
            assert (result["ci_low"], result["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    for result in others:
        differences = [a - b for a, b in zip(result["runs"], best["runs"], strict=True)]
        assert result["difference"]["mean"] == pytest.approx(statistics.fmean(differences))
        if differences[0] != differences[1]:
            assert result["p_value"] == pytest.approx(stats.ttest_rel(result["runs"], best["runs"]).pvalue)


def test_the_report_shows_each_value_with_its_interval_and_the_progress(compared):
    folder, stdout, stderr = compared
    _, record = stored(folder)
    lines = stdout.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.startswith("compare pooling in study tiny:"))
    assert lines[heading] == "compare pooling in study tiny: 2 paired seeds, val_accuracy (higher is better)"
    table = lines[heading + 1 :]
    header = next(line for line in table if line.startswith("pooling "))
    assert header.split()[:6] == ["pooling", "mean", "95%", "CI", "std", "params"]
    rows = table[table.index(header) + 1 : table.index(header) + 4]
    for row, result in zip(rows, record["results"], strict=True):
        assert row.split()[:2] == [result["value"], f"{result['mean']:.4f}"]
    assert rows[0].split()[-1] == "best"
    assert "s/epoch" in header and "train-val gap" in header
    for row, result in zip(rows, record["results"], strict=True):
        assert f"{result['mean_seconds_per_epoch']:.2f}" in row.split() and f"{result['mean_gap']:+.4f}" in row.split()
    assert lines[-1] == "stored in study tiny as user attribute 'compare:pooling'"
    assert sum(line.startswith("seed ") for line in lines) == 6  # one line per training run
    assert "compare pooling: 6/6 runs" in stderr and "left" in stderr


def printed(stdout: str) -> str:
    """The comparison's table as compare printed it: without the runs' progress lines and the last line."""
    lines = [line for line in stdout.splitlines() if not line.startswith("seed ")]
    return "\n".join(lines[lines.index(next(x for x in lines if x.startswith("compare pooling"))) : -1])


def test_a_stored_comparison_reads_back_to_what_compare_printed(compared):
    folder, stdout, _ = compared
    _, record = stored(folder)
    assert comparison_report(Comparison.from_attr(record, "tiny")) == printed(stdout)


def test_the_report_shows_the_stored_comparison_as_compare_printed_it(compared, tmp_path):
    folder, stdout, _ = compared
    _, record = stored(folder)
    cli("report", "tiny.yaml", "-o", str(tmp_path / "report"), cwd=folder, check=True)
    page = (tmp_path / "report" / "report.html").read_text()
    shown = page.split('id="comparisons"')[1].split('<pre id="compare-pooling">')[1].split("</pre>")[0]
    assert html.unescape(shown) == printed(stdout)
    best = record["results"][0]
    answer = html.unescape(page.split('id="headline"')[1].split("</section>")[0])
    assert (
        f"gapsearch compare trained each value of pooling to the end with 2 paired seeds, the rest from trial #0: "
        f"pooling={best['value']} did best (mean val_accuracy {best['mean']:.4f}); its table is below."
    ) in answer


def test_bad_parameters_are_one_line_each(compared):
    folder, _, _ = compared
    cases = {
        ("--param", "poling"): "error: --param: 'poling' is not searched in {file} "
        "(searched: embedding_dim, pooling, attention_units); did you mean 'pooling'?",
        ("--param", "pooling", "--trial", "7"): "error: --trial: study 'tiny' has no trial 7; its trials are 0 to 0",
    }
    for args, message in cases.items():
        result = cli("compare", "tiny.yaml", *args, cwd=folder)
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [message.format(file=folder / "tiny.yaml")]


def a_study_with_one_trial(tmp_path: Path, pooling: str, text: str = STUDY):
    path = tmp_path / "study.yaml"
    path.write_text(text)
    spec = load_study(path)
    study = optuna.create_study(study_name="tiny", direction="maximize")
    params = {"embedding_dim": 8, "pooling": pooling}
    distributions = {
        "embedding_dim": CategoricalDistribution([4, 8]),
        "pooling": CategoricalDistribution(["average", "max", "attention"]),
    }
    if pooling == "attention":
        params["attention_units"] = 6
        distributions["attention_units"] = IntDistribution(4, 8)
    study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=0.9))
    return spec, study


def test_the_plan_fixes_the_other_parameters_and_fills_in_what_the_base_trial_did_not_use(tmp_path):
    spec, study = a_study_with_one_trial(tmp_path, "max")
    plan = plan_comparison(spec, study, "pooling", 3)
    assert plan.values == ("average", "max", "attention") and plan.total_runs == 9
    assert {v: c.embedding_dim for v, c in plan.configurations.items()} == dict.fromkeys(plan.values, 8)
    assert plan.configurations["attention"].attention_units == 64
    assert plan.defaults_used == {"attention": {"attention_units": 64}}
    spec, study = a_study_with_one_trial(tmp_path, "attention")
    plan = plan_comparison(spec, study, "pooling", 3)
    assert plan.configurations["attention"].attention_units == 6 and plan.defaults_used == {}
    assert plan.base_params == {"embedding_dim": 8, "attention_units": 6}


def test_the_plan_refuses_what_cannot_be_compared(tmp_path):
    spec, study = a_study_with_one_trial(tmp_path, "max")
    with pytest.raises(UserError) as caught:
        plan_comparison(spec, study, "attention_units", 3)
    assert str(caught.value) == (
        f"--param: 'attention_units' is searched as a range in {spec.source}; compare needs a list of choices, "
        "for example search_space.attention_units: [a, b, c]"
    )
    text = STUDY.replace("attention_units: {low: 4, high: 8,", "attention_units: {choices: [4, 8],")
    spec, study = a_study_with_one_trial(tmp_path, "max", text)
    with pytest.raises(UserError) as caught:
        plan_comparison(spec, study, "attention_units", 3)
    assert str(caught.value) == "--param: 'attention_units' does not apply to trial 0; it needs pooling in (attention)"


def test_compare_seeds_are_fixed_by_the_study_seed():
    assert compare_seeds(3, 5) == compare_seeds(3, 5)
    assert compare_seeds(3, 5)[:2] == compare_seeds(3, 2)
    assert len(set(compare_seeds(3, 5))) == 5 and compare_seeds(4, 5) != compare_seeds(3, 5)
