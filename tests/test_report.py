"""The study report: its headline, tables and figures, checked against the trials Optuna stored."""

from __future__ import annotations

import base64
import re
import statistics
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial
from scipy.stats import t as scipy_t

from gapsearch.results.console import best_report
from gapsearch.results.report import collect, conclude, headline
from gapsearch.results.report.render import figures
from gapsearch.search.pruning import INTERMEDIATE_VALUES_KEY
from gapsearch.spec import parse_study
from gapsearch.stats import difference, summarize
from gapsearch.trial_attrs import ModelCosts, Pruned, TrainingOutcome
from tests.browser import chromium, screenshot, visible_text
from tests.conftest import ROOT, cli, cli_env, gapsearch

PNG = b"\x89PNG\r\n\x1a\n"


def cell_rows(page: str) -> dict[tuple[str, int], tuple[int, float]]:
    """The report's table of combinations: (pooling, embedding dim) to (trials, mean)."""
    table = page.split('id="cells"')[1].split("</table>")[0]
    rows = re.findall(
        r"<tr[^>]*><td>([a-z_]+)</td><td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>"
        r"<td class=\"num\">([0-9.]+)</td>",
        table,
    )
    return {(p, int(d)): (int(n), float(m)) for p, d, n, m in rows}


def cells_of(trials: list[optuna.trial.FrozenTrial], values: dict[int, float]) -> dict[tuple[str, int], tuple]:
    """The reference: the trials' ``values`` grouped by (pooling, embedding_dim), as (count, mean)."""
    cells: dict[tuple[str, int], list[float]] = {}
    for trial in trials:
        if trial.number in values:
            key = (trial.params["pooling"], trial.params["embedding_dim"])
            cells.setdefault(key, []).append(values[trial.number])
    return {key: (len(v), pytest.approx(statistics.fmean(v), abs=5e-5)) for key, v in cells.items()}


def check_report(folder: Path, study: optuna.Study) -> str:
    """Check what every report holds, against the study's own trials; returns the HTML."""
    page = (folder / "report.html").read_text()
    pngs = sorted(folder.glob("*.png"))
    assert {p.name for p in pngs} >= {"pooling_by_dimension.png", "trials_by_cell.png", "cost.png", "history.png"}
    embedded = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert sorted(base64.b64decode(e) for e in embedded) == sorted(p.read_bytes() for p in pngs)
    assert all(p.read_bytes().startswith(PNG) for p in pngs)
    assert "<script" not in page and 'src="http' not in page  # self-contained, nothing fetched
    completed = study.get_trials(states=(TrialState.COMPLETE,))
    assert cell_rows(page) == cells_of(completed, {trial.number: trial.value for trial in completed})
    best = page.split('id="best-trials"')[1].split("</table>")[0]
    ranked = sorted(completed, key=lambda t: -t.value)
    assert re.findall(r"<td>#(\d+)</td>", best) == [str(t.number) for t in ranked[:10]]
    return page


def test_the_report_of_the_tiny_study(finished_study, tmp_path):
    result = cli("report", "tiny.yaml", "-o", str(tmp_path / "report"), cwd=finished_study.folder, check=True)
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study.folder / 'gapsearch.db'}")
    page = check_report(tmp_path / "report", study)
    title = result.stdout.splitlines()[0]
    assert f'<p class="title">{title}</p>' in page
    assert result.stdout.splitlines()[1] == (
        f"report written to {tmp_path / 'report' / 'report.html'} with {len(list((tmp_path / 'report').glob('*.png')))}"
        " figures"
    )
    assert "The filter count did not vary (every trial used 8 filters), so its effect cannot be shown." in page


@pytest.mark.slow
def test_the_report_of_the_quickstart_study(tmp_path):
    study_file = ROOT / "studies" / "quickstart.yaml"
    run = gapsearch("run", str(study_file), "--n-trials", "6", "--no-progress", cwd=tmp_path, check=True)
    assert "retracing" not in run.stderr and "Traceback" not in run.stderr  # nothing from TensorFlow's inside
    result = gapsearch("report", str(study_file), "-o", "report", cwd=tmp_path, check=True)
    study = optuna.load_study(study_name="quickstart", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    page = check_report(tmp_path / "report", study)
    groups: dict[tuple[str, int], list[float]] = {}
    for trial in study.get_trials(states=(TrialState.COMPLETE,)):
        groups.setdefault((trial.params["pooling"], trial.params["embedding_dim"]), []).append(trial.value)
    (pooling, dim), values = max(groups.items(), key=lambda item: (statistics.fmean(item[1]), len(item[1])))
    title = (
        f"{pooling.capitalize()} pooling with embedding dimension {dim} did best: mean validation accuracy "
        f"{statistics.fmean(values):.4f} over {len(values)} trial{'s' if len(values) > 1 else ''}."
    )
    assert result.stdout.splitlines()[0] == title
    assert f'<p class="title">{title}</p>' in page
    assert 'id="importances"' in page and 'id="filters"' in page  # the quickstart searches the filter count
    assert len({t.params["filters"] for t in study.trials}) > 1
    # What a reader sees: the page in a real browser opens with the headline; its picture (build/screenshots/)
    # is the documentation's once `make screenshots` copies it there.
    url = (tmp_path / "report" / "report.html").as_uri()
    dom = chromium("--dump-dom", url=url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = visible_text(dom.stdout)
    assert text.startswith("gapsearch report: quickstart Study quickstart: pooling and embedding dimension ")
    assert title in text
    screenshot(url, "report.png")


def test_reporting_never_imports_tensorflow(finished_study, tmp_path):
    probe = (
        "import sys; from gapsearch.cli import main\n"
        "try:\n    main(sys.argv[1:], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras', 'torch', 'jax') if m in sys.modules))\n"
    )
    for args in (
        ["report", "tiny.yaml", "-o", str(tmp_path / "r")],
        ["dashboard", "--help"],
        ["export", "--help"],
        ["predict", "--help"],
    ):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args],
            cwd=finished_study.folder,
            capture_output=True,
            text=True,
            env=cli_env(),
        )
        assert result.stdout.strip().endswith("HEAVY []"), (args, result.stdout[-300:], result.stderr[-500:])


STUDY = {
    "name": "h",
    "metric": "val_accuracy",
    "direction": "maximize",
    "n_trials": 9,
    "data": {"format": "synthetic"},
    "model": {"epochs": 2},
    "search_space": {"pooling": ["average", "max"], "embedding_dim": [8, 16]},
}
SPEC = parse_study(STUDY, source=Path("h.yaml"))
SPACE = {"pooling": CategoricalDistribution(["average", "max"]), "embedding_dim": CategoricalDistribution([8, 16])}


def study_of(trials: list[tuple[str, int, float]]) -> optuna.Study:
    """A real in-memory Optuna study holding completed trials with these (pooling, dim, value), their
    costs and training recorded as the objective records them."""
    study = optuna.create_study(direction="maximize")
    for pooling, dim, value in trials:
        costs = ModelCosts(params=dim * 1000, embedding_params=dim * 500, flops=dim * 2000)
        training = TrainingOutcome(
            epochs_run=4, best_epoch=2, train_seconds=dim / 2, seconds_per_epoch=dim / 8, train_val_gap=None, history={}
        )
        study.add_trial(
            create_trial(
                params={"pooling": pooling, "embedding_dim": dim},
                distributions=SPACE,
                value=value,
                user_attrs={**costs.as_attrs(), **training.as_attrs()},
            )
        )
    return study


def test_the_headline_says_when_there_are_too_few_trials():
    answer = headline(
        collect(study_of([("max", 16, 0.9), ("average", 8, 0.8), ("average", 8, 0.82)]), SPEC, explanations=False)
    )
    assert (
        answer.title
        == "Max pooling with embedding dimension 16 did best: mean validation accuracy 0.9000 over 1 trial."
    )
    assert answer.sentences[:3] == [
        "That is 0.0900 above the next best combination, average pooling with embedding dimension 8 "
        "(0.8100 over 2 trials).",
        "The winner costs 16,000 parameters and 2.00 s per epoch; the runner-up 8,000 parameters and 1.00 s per "
        "epoch (the winner has 2.0× the parameters, 2.0× the time per epoch).",
        "Too few trials to be sure: the winner has 1 trial and the runner-up 2 trials, and an interval needs at "
        "least 2 per combination. Run more trials (n_trials) before trusting this ranking.",
    ]


def test_the_headline_is_sure_only_of_a_clear_difference_with_enough_trials():
    clear = [("max", 16, v) for v in (0.90, 0.91, 0.92)] + [("average", 8, v) for v in (0.80, 0.81, 0.82)]
    answer = headline(collect(study_of(clear), SPEC, explanations=False))
    diff = difference(summarize([0.90, 0.91, 0.92]), summarize([0.80, 0.81, 0.82]))
    assert answer.sentences[2] == (
        f"The study is fairly sure of this: the 95% interval of the difference, [{diff.low:+.4f}, "
        f"{diff.high:+.4f}], excludes zero (Welch's t interval over the trials of each)."
    )
    noisy = [("max", 16, v) for v in (0.70, 0.95, 0.90)] + [("average", 8, v) for v in (0.80, 0.90, 0.81)]
    answer = headline(collect(study_of(noisy), SPEC, explanations=False))
    assert answer.sentences[2].startswith("The study cannot tell these two apart yet: the 95% interval of the ")


@pytest.mark.parametrize(
    ("trials", "certainty"),
    [
        ([("max", 16, 0.9)], "single"),
        ([("max", 16, 0.9), ("average", 8, 0.8), ("average", 8, 0.82)], "too_few"),
        ([("max", 16, v) for v in (0.90, 0.91)] + [("average", 8, v) for v in (0.80, 0.81, 0.82)], "hint"),
        ([("max", 16, v) for v in (0.90, 0.91, 0.92)] + [("average", 8, v) for v in (0.80, 0.81, 0.82)], "sure"),
        ([("max", 16, v) for v in (0.70, 0.95, 0.90)] + [("average", 8, v) for v in (0.80, 0.90, 0.81)], "undecided"),
    ],
)
def test_the_conclusion_is_data_checked_against_welchs_interval(trials, certainty):
    """The headline's reasoning without its words: winner, runner-up, margin, interval and certainty."""
    results = collect(study_of(trials), SPEC, explanations=False)
    answer = conclude(results)
    cells: dict[tuple[str, int], list[float]] = {}
    for pooling, dim, value in trials:
        cells.setdefault((pooling, dim), []).append(value)
    ranked = sorted(cells.items(), key=lambda item: -statistics.fmean(item[1]))
    (winner, winner_values), runner_up = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    assert (answer.winner.pooling, answer.winner.embedding_dim) == winner
    assert answer.winner.values == tuple(winner_values)
    assert answer.certainty == certainty
    best = max(range(len(trials)), key=lambda i: trials[i][2])
    assert (answer.best_trial.number, answer.best_trial.value) == (best, trials[best][2])
    assert answer.fixed == []
    if runner_up is None:
        assert (answer.runner_up, answer.margin, answer.difference) == (None, None, None)
        return
    assert (answer.runner_up.pooling, answer.runner_up.embedding_dim) == runner_up[0]
    assert answer.margin == pytest.approx(statistics.fmean(winner_values) - statistics.fmean(runner_up[1]))
    assert answer.difference == difference(summarize(winner_values), summarize(runner_up[1]))
    if answer.difference is not None:  # the reference: Welch's t interval, by hand from the same values
        a, b = winner_values, runner_up[1]
        va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
        half = scipy_t.ppf(0.975, df) * (va + vb) ** 0.5
        assert (answer.difference.low, answer.difference.high) == pytest.approx(
            (answer.margin - half, answer.margin + half)
        )
    assert [p for p, _ in answer.by_pooling] == [p for (p, _), _ in ranked]


def pruned_study_of(
    trials: list[tuple[str, int, list[float], str]], *, epochs: int = 2, objectives: int = 1, steps: bool = True
) -> optuna.Study:
    """A real in-memory study of (pooling, dim, value per step, state) trials, recorded as the objective records
    them: steps are ``run_index * epochs + epoch``; a completed trial stores its training and its best value, a
    pruned one its Pruned record (the epoch of the run it stopped in) and, with ``steps``, the steps it reported.
    With several objectives the steps' values live where the multi-objective pruner keeps them, and the second
    objective is ``params``."""
    study = optuna.create_study(directions=["maximize", "minimize"][:objectives])
    for pooling, dim, curve, state in trials:
        costs = ModelCosts(params=dim * 1000, embedding_params=dim * 500, flops=dim * 2000)
        attrs = costs.as_attrs()
        if state == "COMPLETE":
            attrs |= TrainingOutcome(
                epochs_run=epochs,
                best_epoch=1,
                train_seconds=1.0,
                seconds_per_epoch=0.5,
                train_val_gap=None,
                history={},
            ).as_attrs()
        else:
            attrs |= Pruned(epochs_run=(len(curve) - 1) % epochs + 1).as_attrs()
        reported = dict(enumerate(curve, 1)) if steps or state == "COMPLETE" else {}
        if objectives > 1:
            attrs[INTERMEDIATE_VALUES_KEY] = {str(step): value for step, value in reported.items()}
        values = [max(curve), costs.params][:objectives] if state == "COMPLETE" else None
        study.add_trial(
            create_trial(
                params={"pooling": pooling, "embedding_dim": dim},
                distributions=SPACE,
                values=values,
                state=TrialState[state],
                intermediate_values=reported if objectives == 1 else None,
                user_attrs=attrs,
            )
        )
    return study


def importances_at(study: optuna.Study, values: dict[int, float]) -> dict[str, float]:
    """The reference: Optuna's own importances over a study of the trials ``values`` names, completed with them."""
    reference = optuna.create_study(direction="maximize")
    for trial in (trial for trial in study.trials if trial.number in values):
        reference.add_trial(
            create_trial(params=trial.params, distributions=trial.distributions, value=values[trial.number])
        )
    return optuna.importance.get_param_importances(reference, params=["pooling", "embedding_dim"])


#: One trial completed (max, 16); five were pruned after epoch 1, in three more combinations.
MOSTLY_PRUNED = [
    ("max", 16, [0.60, 0.80], "COMPLETE"),
    ("max", 16, [0.55], "PRUNED"),
    ("average", 8, [0.40], "PRUNED"),
    ("average", 16, [0.50], "PRUNED"),
    ("max", 8, [0.58], "PRUNED"),
    ("average", 8, [0.42], "PRUNED"),
]


def test_with_one_combination_completed_the_report_compares_every_trial_at_the_epoch_all_reached():
    study = pruned_study_of(MOSTLY_PRUNED)
    results = collect(study, SPEC, explanations=False)
    answer = headline(results)
    at_epoch_1 = {trial.number: trial.intermediate_values[1] for trial in study.trials}
    assert results.at_epoch is not None and results.at_epoch.values == at_epoch_1
    assert {(c.pooling, c.embedding_dim): (c.summary.n, c.summary.mean) for c in results.cells} == cells_of(
        study.trials, at_epoch_1
    )
    assert (
        answer.title
        == "At epoch 1, max pooling with embedding dimension 8 led: mean validation accuracy 0.5800 over 1 trial."
    )
    assert answer.sentences[:3] == [
        "1 combination completed; 3 more were tried and pruned at epoch 1.",
        "So the combinations are compared at epoch 1, the last epoch all 6 completed and pruned trials reached: "
        "a value there says how fast a combination learns, not how well it ends.",
        "That is 0.0050 above the next best combination, max pooling with embedding dimension 16 "
        "(0.5750 over 2 trials).",
    ]
    assert answer.sentences[-2:] == [
        "To compare pooling fairly: gapsearch compare h.yaml --param pooling --seeds 3.",
        "The single best trial is #0 (validation accuracy 0.8000).",  # the best completed trial, at its best epoch
    ]
    assert not any("only one combination" in sentence for sentence in answer.sentences)
    assert results.importances == pytest.approx(importances_at(study, at_epoch_1))
    shown, _ = figures(results)
    captions = {figure.name: figure.caption for figure in shown}
    assert "importances.png" in captions
    basis = "the completed and pruned trials' values at epoch 1 (the last epoch all of them reached)"
    assert f"Each cell is the mean over {basis} with that pooling" in captions["pooling_by_dimension.png"]
    assert f"over {basis}, for the parameters every trial has" in captions["importances.png"]


def test_the_common_epoch_of_folds_and_repeats_is_a_step_of_the_same_run():
    """Steps are run_index * epochs + epoch: step 3 of 2-epoch runs is the second run's first epoch."""
    spec = parse_study({**STUDY, "repeats": 2}, source=Path("h.yaml"))
    trials = [
        ("max", 16, [0.5, 0.6, 0.7, 0.8], "COMPLETE"),
        ("average", 8, [0.5, 0.55, 0.4], "PRUNED"),
        ("average", 16, [0.5, 0.65, 0.3], "PRUNED"),
        ("max", 8, [0.5, 0.6, 0.45], "PRUNED"),
    ]
    results = collect(pruned_study_of(trials), spec, explanations=False)
    assert results.pruning is not None and results.pruning.where == "at epoch 1 of run 2"
    assert results.at_epoch is not None and (results.at_epoch.step, str(results.at_epoch.at)) == (3, "epoch 1 of run 2")
    assert sorted(results.at_epoch.values.values()) == [0.3, 0.4, 0.45, 0.7]
    assert headline(results).title.startswith("At epoch 1 of run 2, max pooling with embedding dimension 16 led: ")


def test_a_study_of_several_objectives_reads_its_pruned_trials_from_the_pruners_curve():
    objectives = [{"metric": "val_accuracy", "direction": "maximize"}, {"metric": "params", "direction": "minimize"}]
    single = {k: v for k, v in STUDY.items() if k not in ("metric", "direction")}
    spec = parse_study({**single, "objectives": objectives, "pruner": {"type": "cost_aware"}}, source=Path("h.yaml"))
    study = pruned_study_of(MOSTLY_PRUNED, objectives=2)
    results = collect(study, spec, explanations=False)
    assert results.at_epoch is not None and results.at_epoch.values == {n: c[2][0] for n, c in enumerate(MOSTLY_PRUNED)}
    assert headline(results).sentences[0] == "1 combination completed; 3 more were tried and pruned at epoch 1."
    assert best_report(spec, study).splitlines()[-2:] == [
        "6 trials: 1 completed, 5 pruned at epoch 1",
        "to compare pooling fairly: gapsearch compare h.yaml --param pooling --seeds 3",
    ]


def test_one_completed_combination_is_not_called_the_only_one_tried_when_others_were_pruned():
    """Pruned trials that reported no step (nothing to compare them at) still count as tried."""
    study = pruned_study_of(MOSTLY_PRUNED[:3], steps=False)
    answer = headline(collect(study, SPEC, explanations=False))
    assert (
        answer.title
        == "Every completed trial used max pooling with embedding dimension 16: mean validation accuracy 0.8000 "
        "over 1 trial."
    )
    assert answer.sentences == [
        "The study cannot compare poolings or dimensions from its completed trials: 1 combination completed; "
        "1 more were tried and pruned at epoch 1.",
        "To compare pooling fairly: gapsearch compare h.yaml --param pooling --seeds 3.",
        "The single best trial is #0 (validation accuracy 0.8000).",
    ]
    alone = collect(pruned_study_of(MOSTLY_PRUNED[:2]), SPEC, explanations=False)  # pruned in the same combination
    assert (
        headline(alone).sentences[0]
        == "The study cannot compare poolings or dimensions: only one combination was tried."
    )


def test_an_unreadable_stored_comparison_is_named_not_fatal():
    study = study_of([("max", 16, 0.9), ("average", 8, 0.8)])
    study.set_user_attr("compare:pooling", {"param": "pooling", "results": [{"value": "max"}]})
    results = collect(study, SPEC, explanations=False)
    assert results.comparisons == ()
    assert results.comparison_notes == (
        "The stored comparison compare:pooling is not in the form gapsearch compare writes; run gapsearch compare "
        "--param pooling again to replace it.",
    )
