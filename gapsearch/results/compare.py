"""Paired comparison of one parameter's values: is the difference real, or seed noise?

Run-to-run variance of these models is large enough to swamp small differences (Zhang & Wallace
2015), so a search's single best trial says little about, say, max against average pooling. A
comparison takes every other parameter from one trial (the best by default), trains each value of
the named parameter once per seed, with the *same* seeds for every value, and tests each value
against the best one on the paired differences. The seeds are new ones, not the trials' own: the
best trial's seed is the lucky one that made it best.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gapsearch.errors import GapsearchError, TrialFailed, UserError
from gapsearch.search.space import hyperparameters
from gapsearch.spec.messages import did_you_mean
from gapsearch.spec.space import Choice
from gapsearch.spec.study import StudySpec
from gapsearch.stats import CONFIDENCE, PAIRED_TESTS, PairedTest, Summary, paired_p_value, summarize

if TYPE_CHECKING:
    import optuna

    from gapsearch.data.cache import StudyData
    from gapsearch.spec.hyperparameters import Hyperparameters
    from gapsearch.trial_attrs import ModelCosts

ATTR_PREFIX = "compare:"


def compare_seeds(study_seed: int, count: int) -> list[int]:
    """``count`` training seeds for a comparison: fixed by the study seed, and apart from the trials' seeds."""
    state = np.random.SeedSequence([study_seed, 0x6A9_C0DE]).generate_state(count, dtype=np.uint32)
    return [int(s) % (2**31 - 1) for s in state]


@dataclass(frozen=True)
class ComparisonPlan:
    """What a comparison will train: one configuration per value, each with every seed."""

    param: str
    values: tuple[Any, ...]
    base_trial: int
    seeds: tuple[int, ...]
    configurations: dict[Any, Hyperparameters]
    defaults_used: dict[Any, dict[str, Any]]  # per value: parameters the base trial did not use, at their defaults
    base_params: dict[str, Any]  # the base trial's other searched parameters

    @property
    def total_runs(self) -> int:
        return len(self.values) * len(self.seeds)


@dataclass(frozen=True)
class RunRecord:
    """One finished training run of a comparison."""

    value: Any
    seed_index: int
    seed: int
    metric_value: float
    seconds: float
    seconds_per_epoch: float
    gap: float | None  # training minus validation value of the metric at the best epoch; None if not logged


@dataclass(frozen=True)
class ValueResult:
    """One value's runs (in seed order), their summary, and its paired test against the reference value."""

    value: Any
    records: tuple[RunRecord, ...]
    summary: Summary
    costs: dict[str, float]
    difference: Summary | None = None  # of (this value - reference), paired by seed; None for the reference
    p_value: float | None = None

    @property
    def runs(self) -> tuple[float, ...]:
        return tuple(record.metric_value for record in self.records)

    @property
    def mean_seconds_per_epoch(self) -> float:
        return float(np.mean([record.seconds_per_epoch for record in self.records]))

    @property
    def mean_gap(self) -> float | None:
        gaps = [record.gap for record in self.records if record.gap is not None]
        return float(np.mean(gaps)) if len(gaps) == len(self.records) else None


@dataclass(frozen=True)
class Comparison:
    """A finished comparison, as printed and as stored with the study."""

    study_name: str
    param: str
    metric: str
    direction: str
    test: PairedTest
    plan: ComparisonPlan
    results: tuple[ValueResult, ...]  # best mean first
    seconds: float
    created: str = field(default_factory=lambda: _now())

    @property
    def reference(self) -> ValueResult:
        return self.results[0]

    @property
    def attr_key(self) -> str:
        return ATTR_PREFIX + self.param

    def as_attr(self) -> dict[str, Any]:
        """The JSON-ready record stored as the study's user attribute ``compare:PARAM``."""
        return {
            "param": self.param,
            "metric": self.metric,
            "direction": self.direction,
            "base_trial": self.plan.base_trial,
            "base_params": self.plan.base_params,
            "seeds": list(self.plan.seeds),
            "test": PAIRED_TESTS[self.test],
            "confidence": CONFIDENCE,
            "best": self.reference.value,
            "results": [
                {
                    "value": result.value,
                    "runs": list(result.runs),
                    **result.summary.as_dict(),
                    "costs": result.costs,
                    "defaults_used": self.plan.defaults_used.get(result.value, {}),
                    "difference": None if result.difference is None else result.difference.as_dict(),
                    "p_value": result.p_value,
                    "seconds_per_epoch": [record.seconds_per_epoch for record in result.records],
                    "mean_seconds_per_epoch": result.mean_seconds_per_epoch,
                    "gaps": [record.gap for record in result.records],
                    "mean_gap": result.mean_gap,
                }
                for result in self.results
            ],
            "seconds": round(self.seconds, 1),
            "created": self.created,
        }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


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
    from gapsearch.search.objective import Objective
    from gapsearch.search.runs import TrainingRun, fit_run

    monitor = spec.monitored
    info = data.info
    objective = Objective(spec, data)
    resolved = {value: objective.resolve(hp) for value, hp in plan.configurations.items()}
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
                data=data.run(split, hp.max_tokens, int(hp.sequence_length)),
            )
            run_started = time.perf_counter()

            def keep_costs(measured: ModelCosts, value: Any = value) -> None:
                assert measured.latency_ms is not None, "fit_run times latency unless told not to"
                costs[value] = {"params": measured.params, "flops": measured.flops, "latency_ms": measured.latency_ms}

            try:
                result = fit_run(
                    hp,
                    run,
                    n_classes=len(info.class_names),
                    task=info.task,
                    monitor=monitor,
                    on_costs=None if value in costs else keep_costs,
                    metrics=(),  # the comparison reads the monitored metric alone
                    vectors=objective.vectors(hp, run),
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


def store_comparison(study: optuna.Study, comparison: Comparison, where: dict[str, Any] | None = None) -> None:
    """Keep the comparison with the study, as its user attribute ``compare:PARAM`` (a rerun replaces it).

    ``where`` (host, device, versions: :mod:`gapsearch.runtime`) is stored with it.
    """
    study.set_user_attr(comparison.attr_key, {**comparison.as_attr(), **({"ran_on": where} if where else {})})


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


def stored_comparisons(study: optuna.Study) -> dict[str, dict[str, Any]]:
    """The comparisons stored with a study, by parameter name."""
    return {
        key.removeprefix(ATTR_PREFIX): value for key, value in study.user_attrs.items() if key.startswith(ATTR_PREFIX)
    }


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
