"""Paired comparison of one parameter's values: is the difference real, or seed noise?

Run-to-run variance of these models is large enough to swamp small differences (Zhang & Wallace
2015), so a search's single best trial says little about, say, max against average pooling. A
comparison takes every other parameter from one trial (the best by default), trains each value of
the named parameter once per seed, with the *same* seeds for every value, and tests each value
against the best one on the paired differences. The seeds are new ones, not the trials' own: the
best trial's seed is the lucky one that made it best.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gapsearch import cost_names
from gapsearch.errors import GapsearchError, TrialFailed, UserError
from gapsearch.results.comparison import (
    Comparison,
    ComparisonPlan,
    RunRecord,
    ValueResult,
    store_comparison,
    stored_comparisons,
)
from gapsearch.search.space import hyperparameters
from gapsearch.spec.messages import did_you_mean
from gapsearch.spec.space import Choice
from gapsearch.spec.study import StudySpec
from gapsearch.stats import PairedTest, paired_p_value, summarize

if TYPE_CHECKING:
    import optuna

    from gapsearch.data.cache import StudyData
    from gapsearch.spec.hyperparameters import Hyperparameters
    from gapsearch.trial_attrs import ModelCosts


def compare_seeds(study_seed: int, count: int) -> list[int]:
    """``count`` training seeds for a comparison: fixed by the study seed, and apart from the trials' seeds."""
    state = np.random.SeedSequence([study_seed, 0x6A9_C0DE]).generate_state(count, dtype=np.uint32)
    return [int(s) % (2**31 - 1) for s in state]


def plan_comparison(
    spec: StudySpec,
    study: optuna.Study,
    param: str,
    n_seeds: int,
    trial_number: int | None = None,
    *,
    by: str | None = None,
) -> ComparisonPlan:
    """Check ``param`` and the base trial, and work out each value's configuration.

    Raises:
        UserError: ``param`` is not searched as a list of choices, or does not apply to the base trial;
            the base trial is not a completed trial of the study.
    """
    space = spec.search_space
    if param not in space:
        searched = ", ".join(space) or "nothing"
        hint = did_you_mean(param, space) if space else "the study searches nothing"
        raise UserError(f"--param: {param!r} is not searched in {spec.source} (searched: {searched}); {hint}")
    spec_param = space[param]
    if not isinstance(spec_param, Choice):
        raise UserError(
            f"--param: {param!r} is searched as a range in {spec.source}; compare needs a list of choices, "
            f"for example search_space.{param}: [a, b, c]"
        )
    if len(spec_param.choices) < 2:
        raise UserError(f"--param: {param!r} has a single choice in {spec.source}; there is nothing to compare")
    from gapsearch.search.selection import choose_trial

    base = choose_trial(spec, study, trial_number, by=by)
    others = {name: value for name, value in base.params.items() if name != param}
    if not spec_param.active({**spec.fixed, **others}):
        needs = " and ".join(f"{k} in ({', '.join(map(str, v))})" for k, v in (spec_param.when or {}).items())
        raise UserError(f"--param: {param!r} does not apply to trial {base.number}; it needs {needs}")
    configurations: dict[Any, Hyperparameters] = {}
    defaults_used: dict[Any, dict[str, Any]] = {}
    for value in spec_param.choices:
        values = {**others, param: value}
        # Keep only the parameters that apply with this value; one that applies now but did not in the
        # base trial (attention_units when comparing attention against max) takes its default.
        active = {name: v for name, v in values.items() if space[name].active({**spec.fixed, **values})}
        config = hyperparameters(spec.fixed, active)
        missing = [name for name, p in space.items() if name not in active and p.active({**spec.fixed, **active})]
        configurations[value] = config
        if missing:
            defaults_used[value] = {name: getattr(config, name) for name in missing}
    return ComparisonPlan(
        param=param,
        values=tuple(spec_param.choices),
        base_trial=base.number,
        seeds=tuple(compare_seeds(spec.seed, n_seeds)),
        configurations=configurations,
        defaults_used=defaults_used,
        base_params=others,
    )


def run_comparison(
    spec: StudySpec,
    data: StudyData,
    plan: ComparisonPlan,
    *,
    test: PairedTest = "t",
    on_run: Callable[[RunRecord], None] = lambda record: None,
) -> Comparison:
    """Train every value with every seed (seeds outer, so what is done is always paired) and test them.

    Seed ``i`` trains on the study's validation split, or with cross-validation on fold ``i mod k``:
    the values of a pair share the seed and the data, and across pairs the folds take turns.

    Raises:
        GapsearchError: a run failed (a NaN loss, out of memory): its pairs would be incomplete.
    """
    from gapsearch.search.runs import TrainingRun, fit_run, run_vectors, vectors_file
    from gapsearch.search.selection import resolve_auto

    monitor = spec.monitored
    info = data.info
    resolved = {value: resolve_auto(spec, hp, info) for value, hp in plan.configurations.items()}
    records: dict[Any, list[RunRecord]] = {value: [] for value in plan.values}
    costs: dict[Any, dict[str, float]] = {}
    started = time.perf_counter()
    for seed_index, seed in enumerate(plan.seeds):
        split = info.run_names[seed_index % len(info.run_names)]
        for value in plan.values:
            hp = resolved[value]
            run = TrainingRun(
                name=f"{plan.param}={value}/seed{seed_index + 1}/{split}",
                seed=seed,
                data=data.run(split, hp.max_tokens, int(hp.sequence_length), vectors_file(spec, hp)),
            )
            run_started = time.perf_counter()

            def keep_costs(measured: ModelCosts, value: Any = value) -> None:
                assert measured.latency_ms is not None, "fit_run times latency unless told not to"
                costs[value] = {name: getattr(measured, name) for name in cost_names.KNOWN_BEFORE_TRAINING}

            try:
                result = fit_run(
                    hp,
                    run,
                    n_classes=len(info.class_names),
                    task=info.task,
                    monitor=monitor,
                    on_costs=None if value in costs else keep_costs,
                    metrics=(),  # the comparison reads the monitored metric alone
                    vectors=run_vectors(spec, data, hp, run),
                )
            except TrialFailed as failure:
                raise GapsearchError(f"compare: {run.name} (seed {seed}) failed: {failure.message}") from None
            record = RunRecord(
                value,
                seed_index,
                seed,
                result.best_value,
                time.perf_counter() - run_started,
                seconds_per_epoch=result.seconds_per_epoch,
                gap=result.generalization_gap(monitor.metric),
            )
            records[value].append(record)
            on_run(record)
    return _compare(spec, plan, records, costs, test, time.perf_counter() - started)


def _compare(
    spec: StudySpec,
    plan: ComparisonPlan,
    records: dict[Any, list[RunRecord]],
    costs: dict[Any, dict[str, float]],
    test: PairedTest,
    seconds: float,
) -> Comparison:
    monitor = spec.monitored
    runs = {value: [record.metric_value for record in value_records] for value, value_records in records.items()}
    summaries = {value: summarize(values) for value, values in runs.items()}
    sign = 1.0 if monitor.direction == "maximize" else -1.0
    order = sorted(plan.values, key=lambda value: -sign * summaries[value].mean)
    reference = runs[order[0]]
    results = [ValueResult(order[0], tuple(records[order[0]]), summaries[order[0]], costs.get(order[0], {}))]
    for value in order[1:]:
        differences = [a - b for a, b in zip(runs[value], reference, strict=True)]
        results.append(
            ValueResult(
                value,
                tuple(records[value]),
                summaries[value],
                costs.get(value, {}),
                difference=summarize(differences),
                p_value=paired_p_value(runs[value], reference, test),
            )
        )
    return Comparison(
        study_name=spec.name,
        param=plan.param,
        metric=monitor.metric,
        direction=monitor.direction,
        test=test,
        plan=plan,
        results=tuple(results),
        seconds=seconds,
    )


def compare(
    spec: StudySpec,
    *,
    storage_url: str,
    param: str,
    n_seeds: int,
    trial_number: int | None = None,
    by: str | None = None,
    test: PairedTest = "t",
    on_start: Callable[[ComparisonPlan], None] = lambda plan: None,
    on_run: Callable[[RunRecord], None] = lambda record: None,
) -> Comparison:
    """Plan, run and store a paired comparison of ``param``'s values in the study ``spec`` names.

    Everything a user can get wrong (the parameter, the trial, the data) is checked before training.
    """
    from gapsearch.runtime import import_keras
    from gapsearch.search.runner import load_data
    from gapsearch.storage.database import load_existing_study

    study = load_existing_study(storage_url, spec.name)
    plan = plan_comparison(spec, study, param, n_seeds, trial_number, by=by)
    data = load_data(spec)
    import_keras()
    from gapsearch.runtime import host_attributes, run_attributes

    where = {**host_attributes(), **run_attributes()}  # also probes the device once, quietly
    on_start(plan)
    comparison = run_comparison(spec, data, plan, test=test, on_run=on_run)
    store_comparison(study, comparison, where)
    return comparison


__all__: Sequence[str] = [
    "Comparison",
    "ComparisonPlan",
    "RunRecord",
    "ValueResult",
    "compare",
    "compare_seeds",
    "plan_comparison",
    "run_comparison",
    "store_comparison",
    "stored_comparisons",
]
