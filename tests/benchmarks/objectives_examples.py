"""The objectives page's two worked examples, run and recorded instead of typed.

Runs, in a fresh folder (copies of the study files with their data paths made absolute, a fresh
database), what docs/pages/objectives.md shows a user running:

    gapsearch run studies/quickstart-pareto.yaml
    gapsearch best studies/quickstart-pareto.yaml
    gapsearch run studies/mr-compare.yaml
    gapsearch compare studies/mr-compare.yaml --param pooling --seeds 5

and writes the commands, what they printed and the comparison as the study stored it (user attribute
``compare:pooling``, read back through Optuna) to results/objectives_examples.json; `python -m
tests.benchmarks.report` puts the outputs between ``<!-- pareto-example:start -->`` /
``<!-- mr-compare-example:start -->`` and their ends, and the figures the page's reading of the
comparison quotes between ``<!-- mr-compare-reading:start -->`` and its end. The comparison is scored
on MR's validation split; no test set is read. About 8 minutes on 2 CPU cores.

    python -m tests.benchmarks.objectives_examples
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tests.benchmarks._common import load_average, record_commands, shipped_study, write_results

PARETO = "quickstart-pareto.yaml"
COMPARE = "mr-compare.yaml"
SEEDS = 5
COMMANDS = {
    "pareto": (("run", f"studies/{PARETO}", "--no-progress"), ("best", f"studies/{PARETO}")),
    "compare": (
        ("run", f"studies/{COMPARE}", "--no-progress"),
        ("compare", f"studies/{COMPARE}", "--param", "pooling", "--seeds", str(SEEDS), "--no-progress"),
    ),
}


def main() -> None:
    import optuna

    from gapsearch.search.runner import load_data
    from gapsearch.spec import load_study

    before = load_average()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gapsearch-objectives-") as tmp:
        folder = Path(tmp)
        (folder / "studies").mkdir()
        for name in (PARETO, COMPARE):
            (folder / "studies" / name).write_text(shipped_study(name))
        examples = {name: record_commands(folder, commands) for name, commands in COMMANDS.items()}
        pareto = load_study(folder / "studies" / PARETO)
        front_study = optuna.load_study(study_name=pareto.name, storage=f"sqlite:///{folder}/gapsearch.db")
        trials = front_study.trials
        front = sorted(t.number for t in front_study.best_trials)  # Optuna's front: feasible trials only
        pareto_trials = [
            {
                "number": t.number,
                "values": dict(zip(pareto.objective_names, t.values, strict=True)),
                # Optuna's constraint values: feasible when every one is at most 0.
                "feasible": all(c <= 0 for c in t.system_attrs.get("constraints", ())),
            }
            for t in trials
            if t.state == optuna.trial.TrialState.COMPLETE
        ]
        spec = load_study(folder / "studies" / COMPARE)
        study = optuna.load_study(study_name=spec.name, storage=f"sqlite:///{folder}/gapsearch.db")
        comparison = study.user_attrs["compare:pooling"]
        # What the page's reading quotes besides the comparison: the search's single runs and the split sizes.
        search = {t.params["pooling"]: t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE}
        counts = load_data(spec).info.counts
    write_results(
        "objectives_examples",
        {
            "examples": examples,
            "comparison": comparison,
            "search": search,
            "pareto_trials": pareto_trials,
            "pareto_front": front,
            "pareto_bounds": {name: bound.model_dump(exclude_none=True) for name, bound in pareto.constraints.items()},
            "counts": counts,
            "seconds": round(time.perf_counter() - started, 1),
            "load_before": before,
            "load_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
