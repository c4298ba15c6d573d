"""The documentation: ``mkdocs build --strict`` passes (no broken page, link or anchor), the README's links
into docs/ land on a page and an anchor that exist, and the README stays a landing page."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, TINY_STUDY, gapsearch, require

DOCS = ROOT / "docs"
PAGES = DOCS / "pages"
README = ROOT / "README.md"


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """The real ``mkdocs build --strict``, in a fresh process, as ``make test`` and a writer run it."""
    require(importlib.util.find_spec("mkdocs") is not None, "mkdocs is not installed (pip install -e '.[test]')")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # no banner about a future mkdocs 2
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    result = mkdocs_build(DOCS / "mkdocs.yml", folder / "site")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "WARNING" not in result.stderr, result.stderr[-4000:]
    return folder / "site"


def anchors(site: Path, page: str) -> set[str]:
    """The ids of the built page for ``docs/pages/PAGE`` (``index.md`` is the site's root)."""
    built = site / ("index.html" if page == "index.md" else f"{page.removesuffix('.md')}/index.html")
    assert built.is_file(), f"{page} was not built"
    return set(re.findall(r'\bid="([^"]+)"', built.read_text()))


def test_the_strict_build_makes_a_page_of_every_file_in_the_navigation(site):
    config = yaml.safe_load((DOCS / "mkdocs.yml").read_text())
    in_nav = [next(iter(entry.values())) for entry in config["nav"]]
    assert sorted(in_nav) == sorted(p.name for p in PAGES.glob("*.md"))
    assert "explain.md" in in_nav
    for page in in_nav:
        assert anchors(site, page), page


def test_a_broken_anchor_fails_the_strict_build(tmp_path):
    """The validation settings are in force: a link to a missing anchor is not let through."""
    shutil.copytree(DOCS, tmp_path / "docs")
    page = tmp_path / "docs" / "pages" / "api.md"
    page.write_text(page.read_text() + "\nSee [the workers](workers.md#no-such-anchor).\n")
    result = mkdocs_build(tmp_path / "docs" / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert (
        "Doc file 'api.md' contains a link 'workers.md#no-such-anchor', but the doc 'workers.md' does not contain "
        "an anchor '#no-such-anchor'."
    ) in result.stderr


def readme_links() -> list[str]:
    """Every link target of the README: Markdown links and images, and HTML ``href``/``src``."""
    text = README.read_text()
    return re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'\b(?:href|src)="([^"]+)"', text)


def github_slug(heading: str) -> str:
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"\s", "-", text)


def test_every_readme_link_into_the_docs_lands_on_a_page_and_an_anchor(site):
    links = [link for link in readme_links() if not re.match(r"[a-z]+://", link)]
    into_docs = [link for link in links if link.startswith("docs/")]
    assert len(into_docs) >= 12
    headings = {github_slug(h) for h in re.findall(r"^#+ (.+)$", README.read_text(), flags=re.M)}
    for link in links:
        path, _, anchor = link.partition("#")
        if not path:  # an anchor of the README itself
            assert anchor in headings, link
            continue
        assert (ROOT / path).exists(), f"README links to {path}, which does not exist"
        if anchor:
            assert path.startswith("docs/pages/") and path.endswith(".md"), link
            assert anchor in anchors(site, path.removeprefix("docs/pages/")), f"README: {link}: no such anchor"


def test_the_readme_is_a_landing_page_with_the_set_up_a_picture_and_a_map():
    text = README.read_text()
    assert len(text.splitlines()) <= 150
    setup = text.split("## Set-up\n", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in setup.splitlines()] == ["make run", "make test"]
    # What make test installs and how long it takes, and the one convention for the commands.
    make_test = " ".join(text.split("## Set-up\n", 1)[1].split("## ", 1)[0].split())
    for installed in ("`test` extra", "torch", "mlflow", "`.venv/jax-site`", "Chromium", "docker-compose", "apt-get"):
        assert installed in make_test, installed
    assert "minutes on two cores" in make_test and "`source .venv/bin/activate`" in make_test
    assert "vary slightly across CPUs" in text
    assert "docs/pages/images/report.png" in text
    mapped = {link.removeprefix("docs/pages/").partition("#")[0] for link in readme_links()}
    assert {p.name for p in PAGES.glob("*.md")} - {"index.md"} <= mapped


def test_the_benchmarks_page_holds_what_the_results_json_renders_to():
    from tests.benchmarks import report

    page = report.PAGE.read_text()
    block = page.split(report.START + "\n", 1)[1].split(report.END, 1)[0]
    assert block == report.tables()
    assert "**(f) Pruning two objectives**" in block and (PAGES / "images" / "mo_pruning.png").is_file()


def test_the_readmes_output_is_what_the_recorded_quickstart_run_printed():
    from tests.benchmarks import report

    for path in (README, PAGES / "index.md"):
        block = path.read_text().split(report.QUICKSTART_START + "\n", 1)[1].split(report.QUICKSTART_END, 1)[0]
        assert block == report.quickstart_block(), path
    assert "study quickstart: 12/12 finished trials in sqlite:///gapsearch.db" in block


def test_the_accuracy_tables_are_what_the_accuracy_benchmark_measured_with_each_rows_test_readings():
    import json

    from tests.benchmarks import readings, report

    for path in report.ACCURACY_PAGES:
        block = path.read_text().split(report.ACCURACY_START + "\n", 1)[1].split(report.ACCURACY_END, 1)[0]
        assert block == report.accuracy_block(), path
    assert "| mr | `studies/mr.yaml`" in block and "10-fold cross-validated accuracy" in block
    # Each row's count of test readings is its ledger's, the last of them the figure the row shows (one per seed
    # for a row over seeds).
    header, _, *table = block.split("\n\n", 1)[0].splitlines()
    assert header.split(" | ")[-2] == "test readings"
    rows = json.loads((report.RESULTS / "accuracy.json").read_text())["rows"]
    ledger = readings.by_case()
    assert len(table) == len(rows)
    for line, row in zip(table, rows, strict=True):
        read = ledger[row.get("case", row["dataset"])]
        assert line.split(" | ")[-2] == str(len(read)) and readings.shows(row, read), line
    # What chose what: every row's readings in order, and the choice that followed a reading below the reference.
    assert "- `sst2` (pinned), 4 readings: 82.48 at `2b57d8d` (below 82.7); then pooling max to attention" in block
    assert "- `imdb` (pinned), 4 readings: 87.80 at `d6813ae` (below 88.0); then pooling max to attention" in block
    assert "87.63 at `bb8de21` (below 88.0); then max_tokens 20000 to 5000 (chosen from results/vocabulary" in block


def test_no_page_says_a_pinned_configuration_was_chosen_before_any_run():
    """SST-2's pooling and IMDB's pooling and vocabulary were pinned after earlier test readings."""
    for path in (README, *PAGES.glob("*.md")):
        assert "before any run" not in " ".join(path.read_text().split()), path


def test_the_readmes_answer_is_what_the_results_json_renders_to():
    from tests.benchmarks import report

    block = README.read_text().split(report.ANSWER_START + "\n", 1)[1].split(report.ANSWER_END, 1)[0]
    assert block == report.answer_block()
    assert "| the best pooling |" in block and "| within seed noise of it |" in block and "embedding_dim" in block


def test_every_figure_of_the_readme_is_in_a_block_rendered_from_the_results_json():
    """Outside the rendered blocks the README holds no measured figure: no decimal and no percentage."""
    from tests.benchmarks import report

    text = README.read_text()
    for start, end in ((report.QUICKSTART_START, report.QUICKSTART_END), (report.ANSWER_START, report.ANSWER_END)):
        head, rest = text.split(start, 1)
        text = head + rest.split(end, 1)[1]
    text = re.sub(r"https?://\S+|sqlite:///\S+|Apache-2\.0", "", text)
    assert re.findall(r"\d+\.\d+|\d+ ?%", text) == ["3.10"]  # Python 3.10, the one version named


def test_the_pooling_article_and_speed_sections_are_what_their_benchmarks_measured():
    from tests.benchmarks import report

    text = report.PAGE.read_text()
    for start, end, render, shows in (
        (report.POOLINGS_START, report.POOLINGS_END, report.pooling_block, "| flatten |"),
        (report.SEED_ARTICLE_START, report.SEED_ARTICLE_END, report.seed_article_block, "| embedding_dim 512 |"),
        (report.SPEED_START, report.SPEED_END, report.speed_block, "Against KerasTuner RandomSearch"),
    ):
        block = text.split(start + "\n", 1)[1].split(end, 1)[0]
        assert block == render()
        assert shows in block


def test_the_data_pages_vectors_section_is_what_the_vectors_benchmarks_measured():
    from tests.benchmarks import report_vectors

    block = report_vectors.PAGE.read_text().split(report_vectors.START + "\n", 1)[1].split(report_vectors.END, 1)[0]
    assert block == report_vectors.block()
    # Both benchmarks rendered: the reading times, and the accuracy of every variant before and after.
    assert "| first read:" in block and "| before |" in block and "| after |" in block


def test_the_replay_section_is_what_the_learning_curve_tables_and_replays_hold():
    from tests.benchmarks import report, report_replay

    page = report.PAGE.read_text()
    block = page.split(report_replay.START + "\n", 1)[1].split(report_replay.END, 1)[0]
    assert block == report_replay.replay_block()
    assert "| MR |" in block and "configurations" in block


def test_the_workers_page_tables_are_what_the_workers_benchmark_measured():
    from tests.benchmarks import report

    page = report.WORKERS_PAGE.read_text()
    block = page.split(report.WORKERS_START + "\n", 1)[1].split(report.WORKERS_END, 1)[0]
    assert block == report.workers_block()
    assert "| SQLite |" in block and "| PostgreSQL |" in block and "| MariaDB |" in block


def test_the_study_file_pages_reason_for_the_default_search_is_what_the_replays_chose():
    from tests.benchmarks import report, report_replay

    page = report.STUDY_FILE_PAGE.read_text()
    block = page.split(report.PRUNER_CHOICE_START + "\n", 1)[1].split(report.PRUNER_CHOICE_END, 1)[0]
    assert block == report_replay.search_defaults_block()
    assert "successive_halving" in block or "type: none" in block


def test_the_default_sampler_and_pruner_are_what_the_replays_rule_chose_on_every_table():
    import json

    from pydantic import TypeAdapter

    from gapsearch.spec.hyperparameters import Hyperparameters
    from gapsearch.spec.pruners import PrunerSpec
    from gapsearch.spec.samplers import SamplerSpec
    from gapsearch.spec.study import StudySpec
    from tests.benchmarks.replay_candidates import CANDIDATES, PROMOTING, choose

    measured = json.loads((ROOT / "tests" / "benchmarks" / "results" / "replay.json").read_text())
    figures = {dataset: result["searchers"] for dataset, result in measured["datasets"].items()}
    assert choose(figures, list(figures)) == measured["choice"]  # the stored choice follows from the stored replays
    chosen = measured["choice"]["chosen"]
    assert measured["candidates"][chosen] == CANDIDATES[chosen]  # and means what the candidate means now
    default_sampler = StudySpec.model_fields["sampler"].get_default(call_default_factory=True)
    default_pruner = StudySpec.model_fields["pruner"].get_default(call_default_factory=True)
    assert default_sampler == TypeAdapter(SamplerSpec).validate_python(CANDIDATES[chosen]["sampler"])
    assert default_pruner == TypeAdapter(PrunerSpec).validate_python(CANDIDATES[chosen]["pruner"])
    assert StudySpec.model_fields["portfolio"].default == CANDIDATES[chosen].get("portfolio", 0)
    assert Hyperparameters.model_fields["patience"].default == CANDIDATES[chosen]["model"]["patience"]
    assert chosen not in PROMOTING  # a replay-only candidate would have to be built into the product first
    # The searcher replayed as "gapsearch: defaults" is the chosen candidate: the targets are the defaults'.
    for result in measured["datasets"].values():
        replayed = result["searchers"]["gapsearch: defaults"]["described"]
        assert replayed == result["searchers"][f"gapsearch: {chosen}"]["described"]


def test_attention_poolings_defaults_are_the_variant_benchmark_d_measured_best():
    import json

    from gapsearch.spec.hyperparameters import Hyperparameters

    measured = json.loads((ROOT / "tests" / "benchmarks" / "results" / "masked_pooling.json").read_text())
    best = measured["attention_defaults"]
    masked = {name: row["masked"]["mean"] for name, row in measured["rows"].items() if name.startswith("attention ")}
    assert best["from"] == max(masked, key=masked.__getitem__) and len(masked) == 4
    fields = Hyperparameters.model_fields
    assert (fields["attention_heads"].default, fields["attention_null"].default) == (
        best["attention_heads"],
        best["attention_null"],
    )


def test_the_imdb_study_ships_the_vocabulary_size_benchmark_h_measured_best():
    import json

    measured = json.loads((ROOT / "tests" / "benchmarks" / "results" / "vocabulary.json").read_text())
    compared = measured["rows"][0]["compare"]
    means = {int(result["value"]): result["mean"] for result in compared["results"]}
    assert means[int(compared["best"])] == max(means.values()) and len(means) == 3
    study = yaml.safe_load((ROOT / "studies" / "imdb.yaml").read_text())
    assert study["model"]["max_tokens"] == int(compared["best"])


def test_the_sst5_study_ships_the_optimizer_benchmark_i_measured_best():
    import json

    from tests.benchmarks.optimizers import SETTINGS

    measured = json.loads((ROOT / "tests" / "benchmarks" / "results" / "optimizers.json").read_text())
    compared = measured["rows"][0]["compare"]
    means = {result["value"]: result["mean"] for result in compared["results"]}
    assert means[compared["best"]] == max(means.values()) and set(means) == {"adam", "adadelta"}
    adam = next(result for result in compared["results"] if result["value"] == "adam")
    tied = adam["difference"] is None or adam["difference"]["ci_low"] <= 0 <= adam["difference"]["ci_high"]
    model = yaml.safe_load((ROOT / "studies" / "sst5.yaml").read_text())["model"]
    # The study changes its optimizer only for a difference outside seed noise; a tie keeps Adam.
    assert model.get("optimizer", "adam") == ("adam" if tied else compared["best"])
    if not tied:  # shipped with the budget it was measured with
        assert {key: model.get(key, "auto") for key in SETTINGS} == SETTINGS


def test_the_explain_example_is_what_the_recorded_run_printed():
    from tests.benchmarks import report

    page = report.EXPLAIN_PAGE.read_text()
    block = page.split(report.EXPLAIN_START + "\n", 1)[1].split(report.EXPLAIN_END, 1)[0]
    assert block == report.explain_example_block()
    assert "$ gapsearch explain sst2-explain.keras" in block and "gorgeous" in block


def test_the_objectives_pages_worked_examples_are_what_the_recorded_runs_printed_and_stored():
    from tests.benchmarks import report

    page = report.OBJECTIVES_PAGE.read_text()
    for start, end, render in (
        (report.PARETO_START, report.PARETO_END, report.pareto_example_block),
        (report.MR_COMPARE_START, report.MR_COMPARE_END, report.mr_compare_example_block),
        (report.MR_READING_START, report.MR_READING_END, report.mr_compare_reading),
    ):
        assert page.split(start + "\n", 1)[1].split(end, 1)[0] == render(), start
    assert "$ gapsearch compare studies/mr-compare.yaml --param pooling --seeds 5" in page


#: The study-file page's two bad studies: the tiny study with each mistake the page shows.
DOCUMENTED_MISTAKES = {
    "study.yaml": ("[average, max, attention]", "[average, mean, attention]"),
    "typo.yaml": ("n_trials: 3", "n_trails: 3"),
}


def test_the_study_file_pages_error_example_is_what_gapsearch_run_prints(tmp_path):
    page = (PAGES / "study-file.md").read_text()
    block = page.split("```\n$ gapsearch run", 1)[1].split("```", 1)[0]
    shown = ("$ gapsearch run" + block).strip().splitlines()
    printed = []
    for name, (old, new) in DOCUMENTED_MISTAKES.items():
        assert old in TINY_STUDY
        (tmp_path / name).write_text(TINY_STUDY.replace(old, new))
        result = gapsearch("run", name, cwd=tmp_path)
        assert result.returncode == 2 and not (tmp_path / "gapsearch.db").exists(), result.stderr
        printed += [f"$ gapsearch run {name}", *result.stderr.strip().splitlines()]
    assert shown == printed


def test_the_architecture_page_lists_every_module_and_package_at_the_top_of_the_package():
    page = (PAGES / "architecture.md").read_text()
    tree = page.split("## The tree\n", 1)[1].split("```\n", 2)[1]
    listed = set(tree.split()) - {"gapsearch/"}
    package = ROOT / "gapsearch"
    modules = {p.name for p in package.glob("*.py")}
    actual = modules | {f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert listed == actual
    for name in sorted(n.rstrip("/") for n in actual if n.endswith("/")):
        assert f"`gapsearch.{name}`" in page, f"the layer table does not name gapsearch.{name}"


def test_the_workers_page_lists_every_key_of_the_workers_section():
    from gapsearch.spec.workers import WorkersSpec

    block = (PAGES / "workers.md").read_text().split("```yaml\nworkers:\n", 1)[1].split("```", 1)[0]
    documented = [line.split(":", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert sorted(documented) == sorted(WorkersSpec.model_fields)


def test_every_benchmark_result_is_under_a_megabyte():
    # Results are committed; data belongs in ../shared. A result that grows past this is written more compactly.
    results = ROOT / "tests" / "benchmarks" / "results"
    sizes = {path.relative_to(results): path.stat().st_size for path in results.rglob("*") if path.is_file()}
    assert sizes and all(size < 1_000_000 for size in sizes.values()), {p: s for p, s in sizes.items() if s >= 1e6}
