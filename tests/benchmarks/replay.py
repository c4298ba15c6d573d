"""Searchers replayed against the learning-curve table on a simulated clock.

Each searcher asks for configurations and is answered from the table of :mod:`tests.benchmarks.curves`:
a seed is drawn per trial, the epochs are fed one by one (to the pruner through ``trial.report`` and
``should_prune``, and to early stopping as the product applies it), and the clock advances by the
recorded seconds of each epoch trained plus the tool's own per-trial overhead (:data:`OVERHEAD_SECONDS`).
gapsearch's searchers are built from a study file as ``gapsearch run`` builds them
(:func:`gapsearch.search.algorithms.make_sampler`/``make_pruner``, the product's own sampling of the
space, its own choice of the best trial); KerasTuner's are its own oracles; Optuna's Keras example is
Optuna's TPE and median pruner with the example's settings.

What a search is worth at time t is the seed-mean quality (the best epoch's validation accuracy, averaged
over the table's seeds) of the configuration it would choose then, by its own rule, below the best
seed-mean of the grid: its regret, in points of accuracy. A search that has chosen nothing yet has the
grid's worst regret. The test split is never read: the table holds validation metrics only.

    python -m tests.benchmarks.replay [--dataset mr ...] [--replays 200] [--searcher NAME ...]
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.benchmarks.curves import GRID, config_key, read_table

#: Regret (points of validation accuracy) under which a search counts as having found the answer.
TARGET_POINTS = 0.5
#: The trial budgets users run: gapsearch's ``n_trials``, and the number of full trials of random search
#: whose time is the clock budget every searcher is scored at.
BUDGETS = (8, 20, 50)


@dataclass(frozen=True)
class Overhead:
    """What a tool's trial costs beyond the table's training of its epochs (may be below 0 where the tool's
    own training is faster than gapsearch's fit): seconds per trial and per epoch trained."""

    per_trial: float = 0.0
    per_epoch: float = 0.0

    def seconds(self, epochs: int) -> float:
        return self.per_trial + self.per_epoch * epochs


def measured_overheads() -> dict[str, Overhead]:
    """Each tool's overhead as :mod:`tests.benchmarks.replay_overheads` measured it (none if not yet)."""
    import json

    from tests.benchmarks._common import RESULTS

    path = RESULTS / "replay_overheads.json"
    if not path.exists():
        return {}
    return {tool: Overhead(**parts) for tool, parts in json.loads(path.read_text())["overheads"].items()}


@dataclass(frozen=True)
class Table:
    """One data set's learning curves: per configuration, per seed, each epoch's value and seconds."""

    dataset: str
    configs: list[dict[str, Any]]
    values: list[list[np.ndarray]]  # [config][seed] -> per-epoch validation accuracy
    seconds: list[list[np.ndarray]]  # [config][seed] -> per-epoch seconds (the first holds building and tracing)
    epochs: int
    index: dict[str, int] = field(repr=False)

    @classmethod
    def from_runs(cls, dataset: str, runs: Sequence[dict[str, Any]], epochs: int) -> Table:
        configs: list[dict[str, Any]] = []
        index: dict[str, int] = {}
        values: list[list[np.ndarray]] = []
        seconds: list[list[np.ndarray]] = []
        for run in sorted(runs, key=lambda r: (r["key"], r["seed"])):
            if run["key"] not in index:
                index[run["key"]] = len(configs)
                configs.append(run["config"])
                values.append([])
                seconds.append([])
            at = index[run["key"]]
            values[at].append(np.asarray(run["history"]["val_accuracy"], dtype=float))
            seconds[at].append(np.asarray(run["seconds"], dtype=float))
        return cls(dataset, configs, values, seconds, epochs, index)

    @classmethod
    def load(cls, dataset: str) -> Table:
        header, runs = read_table(dataset)
        if header is None or not runs:
            raise SystemExit(f"no learning-curve table for {dataset}: run python -m tests.benchmarks.curves first")
        return cls.from_runs(dataset, runs, header["epochs"])

    def quality(self) -> np.ndarray:
        """Each configuration's seed-mean of its best epoch's value: what choosing it is worth."""
        return np.array([statistics.fmean(float(v.max()) for v in seeds) for seeds in self.values])

    def lookup(self, config: dict[str, Any]) -> int:
        return self.index[config_key(config)]

    def full_trial_seconds(self) -> float:
        """The mean seconds of a configuration trained for every epoch (over configurations and seeds)."""
        return statistics.fmean(float(s.sum()) for seeds in self.seconds for s in seeds)


@dataclass
class Replay:
    """One replayed search: after each trial ends, the clock and the configuration the search would choose."""

    ends: list[float] = field(default_factory=list)
    choices: list[int | None] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)  # epochs each trial trained
    configs: list[int] = field(default_factory=list)  # the configuration each trial trained
    pruned: int = 0

    def choice_at(self, t: float, max_trials: int | None = None) -> int | None:
        """The configuration chosen at clock ``t`` (within the first ``max_trials`` trials)."""
        last = len(self.ends) if max_trials is None else min(max_trials, len(self.ends))
        chosen = None
        for end, choice in zip(self.ends[:last], self.choices[:last], strict=True):
            if end > t:
                break
            chosen = choice
        return chosen


class Curve:
    """Feeds one (configuration, seed) of the table to a trial epoch by epoch, keeping the clock."""

    def __init__(self, table: Table, config: int, seed: int) -> None:
        self.values = table.values[config][seed]
        # Each epoch's median over the configuration's seeds: the table's runs go seed by seed over the grid,
        # so a spell of load on the machine slows one seed's runs of a configuration, not the median.
        self.seconds = np.median(np.stack(table.seconds[config]), axis=0)
        # Building and tracing, paid again by a trial that goes on from a checkpoint: the first epoch's
        # seconds beyond a later epoch's.
        self.setup = max(0.0, float(self.seconds[0] - np.median(self.seconds[1:]))) if len(self.seconds) > 1 else 0.0

    def cost(self, start: int, stop: int) -> float:
        """Seconds to train epochs ``start+1 .. stop`` (a start past 0 goes on from a checkpoint)."""
        if stop <= start:
            return 0.0
        return float(self.seconds[start:stop].sum()) + (self.setup if start > 0 else 0.0)


def early_stopped(values: np.ndarray, patience: int) -> int:
    """How many epochs Keras' EarlyStopping (the product's, ``patience`` > 0) lets a run train."""
    if patience <= 0:
        return len(values)
    best, waited = -math.inf, 0
    for epoch, value in enumerate(values, start=1):
        if value > best:
            best, waited = value, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch
    return len(values)


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError(f"a trial would take {seconds:.3f}s: the overheads are larger than the training they adjust")
    return seconds


class Searcher:
    """A search strategy; :meth:`replay` runs it once against a table until ``horizon`` seconds."""

    name: str
    tool: str

    def replay(self, table: Table, seed: int, horizon: float) -> Replay:
        raise NotImplementedError

    def describe(self) -> dict[str, str]:
        """What sets this searcher apart, under the keys of :data:`DESCRIBED`."""
        raise NotImplementedError


#: The settings in which the searchers differ (all share the grid, the table's runs and the clock).
DESCRIBED = ("sampler", "pruning", "early stopping", "trial value", "trials", "the choice")


@dataclass
class OptunaSearcher(Searcher):
    """An Optuna study (sampler and pruner) against the table, one trial after another.

    ``make`` returns the study and how a trial samples its configuration; ``value`` turns the epochs a
    trial trained into its value (the best epoch's for gapsearch, the last for Optuna's Keras example);
    ``choose`` is the tool's rule for the configuration a user takes from the study.
    """

    name: str
    tool: str
    make: Callable[[int], tuple[Any, Callable[[Any], dict[str, Any]]]]
    patience: int = 0
    value: Callable[[np.ndarray], float] = lambda trained: float(trained.max())
    max_trials: int | None = None
    choose: Callable[[Any], int | None] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    overhead: Overhead = Overhead()
    described: dict[str, str] = field(default_factory=dict)
    #: A pruned configuration the search comes back to goes on from where its earlier trial stopped (the
    #: same run, its earlier epochs reported again, none trained again) instead of training from scratch.
    promote: bool = False
    #: Each epoch reports the run's best value so far to the pruner instead of that epoch's (``compare``).
    report_best: bool = False
    #: The configurations queued before the sampler takes over (gapsearch's portfolio), if any.
    queued: tuple[dict[str, Any], ...] = ()

    def replay(self, table: Table, seed: int, horizon: float) -> Replay:
        import optuna

        rng = np.random.default_rng(seed)
        study, sample = self.make(seed)
        replay, clock = Replay(), 0.0
        by_trial: dict[int, int] = {}
        trained: dict[int, tuple[int, int]] = {}  # configuration -> (its run's seed, epochs trained so far)
        while clock < horizon and (self.max_trials is None or len(replay.ends) < self.max_trials):
            trial = study.ask()
            config = table.lookup(sample(trial))
            by_trial[trial.number] = config
            run_seed, start = trained.get(config, (-1, 0)) if self.promote else (-1, 0)
            if run_seed < 0:
                run_seed = int(rng.integers(len(table.values[config])))
            curve = Curve(table, config, run_seed)
            stop = early_stopped(curve.values, self.patience)
            state, ran = optuna.trial.TrialState.COMPLETE, stop
            reported = np.maximum.accumulate(curve.values) if self.report_best else curve.values
            for epoch in range(1, stop + 1):
                trial.report(float(reported[epoch - 1]), epoch)
                if trial.should_prune():
                    state, ran = optuna.trial.TrialState.PRUNED, epoch
                    break
            new = max(0, ran - start)
            if new:
                clock += _positive(curve.cost(start, start + new) + self.overhead.seconds(new))
            else:  # nothing to train: the trial only reports what its configuration's earlier trial recorded
                clock += max(0.0, self.overhead.per_trial)
            if self.promote and state == optuna.trial.TrialState.PRUNED:
                trained[config] = (run_seed, max(start, ran))
            else:  # a completed configuration that comes back trains anew: another seed's run of it
                trained.pop(config, None)
            if state == optuna.trial.TrialState.PRUNED:
                study.tell(trial, state=state)
                replay.pruned += 1
            else:
                study.tell(trial, self.value(curve.values[:ran]))
            replay.ends.append(clock)
            replay.epochs.append(new)  # epochs trained, not those reported again
            replay.configs.append(config)
            replay.choices.append(self._choice(study, by_trial))
        return replay

    def describe(self) -> dict[str, str]:
        promoted = "; pruned configurations promoted" if self.promote else ""
        return {**self.described, "pruning": self.described.get("pruning", "") + promoted}

    def _choice(self, study: Any, by_trial: dict[int, int]) -> int | None:
        if self.choose is not None:
            number = self.choose(study)
        else:
            try:
                number = study.best_trial.number
            except ValueError:
                number = None
        return None if number is None else by_trial[number]


def gapsearch_searcher(
    name: str,
    settings: dict[str, Any],
    *,
    max_trials: int = max(BUDGETS),
    portfolio: Sequence[dict[str, Any]] = (),
) -> OptunaSearcher:
    """gapsearch at the study-file ``settings`` (its defaults where they say nothing), built as ``gapsearch
    run`` builds it: the study file typed and checked, its sampler and pruner, the portfolio it queues
    (``portfolio`` holds the entries, built from the other data sets' tables), its sampling of the space,
    its early stopping and its choice of the best trial. Each replay's seed is the study's seed."""
    from pathlib import Path

    from gapsearch.search.algorithms import make_pruner, make_sampler
    from gapsearch.search.portfolio import plan_portfolio
    from gapsearch.search.selection import best_trial
    from gapsearch.search.space import sample
    from gapsearch.search.warm_start import queue_warm_start
    from gapsearch.spec import parse_study

    def spec_for(seed: int) -> Any:
        body = {
            "name": "replay",
            "metric": "val_accuracy",
            "direction": "maximize",
            "n_trials": max_trials,
            "seed": seed,
            "data": {"format": "synthetic"},  # never read: the table answers every trial
            **{key: value for key, value in settings.items() if key != "model"},
            "model": {"epochs": 6, **settings.get("model", {})},
            "search_space": {param: list(values) for param, values in GRID.items()},
        }
        return parse_study(body, source=Path("replay.yaml"))

    def make(seed: int) -> tuple[Any, Callable[[Any], dict[str, Any]]]:
        import optuna

        spec = spec_for(seed)
        study = optuna.create_study(
            sampler=make_sampler(spec), pruner=make_pruner(spec), directions=list(spec.directions)
        )
        plan = plan_portfolio(spec, portfolio)
        if plan is not None:
            queue_warm_start(study, plan)
        return study, lambda trial: sample(trial, spec.search_space, spec.fixed)

    def choose(study: Any) -> int | None:
        trial = best_trial(study)
        return None if trial is None else trial.number

    spec = spec_for(0)
    described = {
        "sampler": flow(spec.sampler.model_dump(exclude={"seed"}, exclude_defaults=False)),
        "pruning": flow(spec.pruner.model_dump()),
        "early stopping": f"patience {spec.fixed['patience']}",
        "trial value": "best epoch",
        "trials": "n_trials = the budget" + (f"; portfolio of {spec.portfolio} first" if spec.portfolio else ""),
        "the choice": "gapsearch's best trial",
    }
    return OptunaSearcher(
        f"gapsearch: {name}",
        "gapsearch",
        make,
        patience=spec.fixed["patience"],
        max_trials=max_trials,
        choose=choose,
        settings=settings,
        described=described,
        report_best=getattr(spec.pruner, "compare", "epoch") == "best_so_far",
        queued=tuple(portfolio) if spec.portfolio else (),
    )


def flow(settings: dict[str, Any]) -> str:
    """Settings as a study file's flow mapping: ``{type: tpe, n_startup_trials: 5}``."""
    return "{" + ", ".join(f"{key}: {str(value).lower() if isinstance(value, bool) else value}"
                           for key, value in settings.items() if value is not None) + "}"  # fmt: skip


def optuna_keras_example() -> OptunaSearcher:
    """Optuna's own Keras example: ``TPESampler()`` and ``MedianPruner()`` at Optuna's defaults, a pruning
    callback on val_accuracy, no early stopping, and the trial's value the last epoch's validation accuracy
    (the example returns ``model.evaluate`` on the validation data after ``fit``)."""

    def make(seed: int) -> tuple[Any, Callable[[Any], dict[str, Any]]]:
        import optuna

        study = optuna.create_study(
            direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=optuna.pruners.MedianPruner()
        )
        return study, lambda trial: {name: trial.suggest_categorical(name, values) for name, values in GRID.items()}

    return OptunaSearcher(
        "optuna keras example (TPE, median pruner)",
        "optuna",
        make,
        value=lambda trained: float(trained[-1]),
        max_trials=100,  # the example's n_trials
        described={
            "sampler": "TPESampler() (independent, 10 start-up trials)",
            "pruning": "MedianPruner() (5 start-up trials, from epoch 1)",
            "early stopping": "none",
            "trial value": "last epoch",
            "trials": "n_trials = 100",
            "the choice": "study.best_trial",
        },
    )


def optuna_hyperband() -> OptunaSearcher:
    """Optuna's TPE with its Hyperband pruner (the asynchronous successive halving of Li et al. in brackets)
    from 1 to the table's epochs, reduction factor 3; the best epoch's value."""

    def make(seed: int) -> tuple[Any, Callable[[Any], dict[str, Any]]]:
        import optuna

        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=seed),
            pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=6, reduction_factor=3),
        )
        return study, lambda trial: {name: trial.suggest_categorical(name, values) for name, values in GRID.items()}

    return OptunaSearcher(
        "optuna TPE with hyperband",
        "optuna",
        make,
        max_trials=100,
        described={
            "sampler": "TPESampler() (independent, 10 start-up trials)",
            "pruning": "HyperbandPruner(1, 6, 3)",
            "early stopping": "none",
            "trial value": "best epoch",
            "trials": "n_trials = 100",
            "the choice": "study.best_trial",
        },
    )


@dataclass
class KerasTunerSearcher(Searcher):
    """KerasTuner's own oracle (``RandomSearch`` or ``Hyperband``) against the table, as its tuner drives it:
    each trial trains ``tuner/epochs`` epochs (Hyperband's promoted trials go on from their parent's
    checkpoint at ``tuner/initial_epoch``), its score is the best epoch's value, and the user takes the
    completed trial with the best score (``get_best_hyperparameters``)."""

    name: str
    kind: str  # "random" or "hyperband"
    tool: str = "kerastuner"
    overhead: Overhead = Overhead()

    def replay(self, table: Table, seed: int, horizon: float) -> Replay:
        import keras_tuner as kt

        rng = np.random.default_rng(seed)
        space = kt.HyperParameters()
        for param, values in GRID.items():
            space.Choice(param, values)
        objective = kt.Objective("val_accuracy", "max")
        if self.kind == "random":
            oracle = kt.oracles.RandomSearchOracle(
                objective=objective, max_trials=10_000, seed=seed, hyperparameters=space
            )
        else:
            # Iterations until the clock runs out (None): one iteration of 6 epochs is only 10 trials.
            oracle = kt.oracles.HyperbandOracle(
                objective=objective,
                max_epochs=table.epochs,
                factor=3,
                hyperband_iterations=None,
                seed=seed,
                hyperparameters=space,
            )
        replay, clock = Replay(), 0.0
        seeds: dict[str, tuple[int, int]] = {}  # trial id -> (configuration, seed): a promoted trial keeps both
        with tempfile.TemporaryDirectory(prefix="replay-kerastuner-") as folder, redirect_stdout(io.StringIO()):
            oracle._set_project_dir(folder, "replay")  # what a KerasTuner tuner does before its first trial
            while clock < horizon:
                trial = oracle.create_trial("tuner0")
                if trial.status != "RUNNING":
                    break  # the oracle is done (Hyperband's one iteration, or the grid used up)
                values = trial.hyperparameters.values
                parent = values.get("tuner/trial_id")
                if parent is not None:
                    config, run_seed = seeds[parent]
                else:
                    config = table.lookup(values)
                    run_seed = int(rng.integers(len(table.values[config])))
                seeds[trial.trial_id] = (config, run_seed)
                curve = Curve(table, config, run_seed)
                start = int(values.get("tuner/initial_epoch", 0))
                stop = int(values.get("tuner/epochs", table.epochs))
                for epoch in range(start + 1, stop + 1):
                    oracle.update_trial(trial.trial_id, {"val_accuracy": float(curve.values[epoch - 1])}, step=epoch)
                clock += _positive(curve.cost(start, stop) + self.overhead.seconds(stop - start))
                trial.status = "COMPLETED"
                oracle.end_trial(trial)
                best = oracle.get_best_trials(1)
                replay.ends.append(clock)
                replay.epochs.append(stop - start)
                replay.configs.append(config)
                replay.choices.append(seeds[best[0].trial_id][0] if best else None)
        return replay

    def describe(self) -> dict[str, str]:
        random = self.kind == "random"
        return {
            "sampler": "RandomSearchOracle" if random else "HyperbandOracle (random within brackets)",
            "pruning": "none (full training)" if random else "Hyperband brackets, max_epochs 6, factor 3",
            "early stopping": "none",
            "trial value": "best epoch",
            "trials": "until the clock runs out" if random else "iterations until the clock runs out",
            "the choice": "get_best_hyperparameters()",
        }


def searchers(portfolio: Sequence[dict[str, Any]] = ()) -> dict[str, Searcher]:
    """Every searcher the replays compare: gapsearch's candidates for its defaults and the tools users have.
    ``portfolio``: the entries a candidate with ``portfolio: N`` queues (none: such candidates are left out)."""
    import dataclasses

    from tests.benchmarks.replay_candidates import CANDIDATES, PROMOTING

    tools: list[Searcher] = [
        KerasTunerSearcher("kerastuner random search (full training)", "random"),
        KerasTunerSearcher("kerastuner hyperband", "hyperband"),
        optuna_keras_example(),
        optuna_hyperband(),
    ]
    candidates = [
        *(
            dataclasses.replace(gapsearch_searcher(name, settings, portfolio=portfolio), promote=name in PROMOTING)
            for name, settings in CANDIDATES.items()
            if portfolio or not settings.get("portfolio")
        ),
        gapsearch_searcher("defaults", {}, portfolio=portfolio),  # whatever the product's defaults are now
    ]
    every = [*candidates, *tools]
    overheads = measured_overheads()
    return {s.name: dataclasses.replace(s, overhead=overheads.get(s.tool, Overhead())) for s in every}  # type: ignore[type-var]


@dataclass(frozen=True)
class Scores:
    """What a searcher's replays on one table come to."""

    regret: np.ndarray  # [replay, time point] in points
    times: np.ndarray
    first_within: np.ndarray  # per replay: the first time its choice is within TARGET_POINTS (inf if never)
    trials: list[int]
    pruned_share: float
    epochs_per_trial: float


def score(table: Table, replays: Sequence[Replay], times: np.ndarray, max_trials: int | None = None) -> Scores:
    """Regret in points at each of ``times`` for each replay, and when each first came within the target."""
    quality = table.quality()
    regret_of = 100 * (quality.max() - quality)
    worst = float(regret_of.max())
    regret = np.array(
        [[worst if (c := r.choice_at(t, max_trials)) is None else float(regret_of[c]) for t in times] for r in replays]
    )
    first = []
    for r in replays:
        hits = [
            end
            for end, choice in zip(r.ends[:max_trials], r.choices[:max_trials], strict=True)
            if choice is not None and regret_of[choice] <= TARGET_POINTS
        ]
        first.append(min(hits) if hits else math.inf)
    n_trials = [len(r.ends[:max_trials]) for r in replays]
    all_epochs = [e for r in replays for e in r.epochs[:max_trials]]
    return Scores(
        regret=regret,
        times=times,
        first_within=np.array(first),
        trials=n_trials,
        pruned_share=sum(r.pruned for r in replays) / max(1, sum(n_trials)),
        epochs_per_trial=statistics.fmean(all_epochs) if all_epochs else 0.0,
    )


def median_time(first_within: np.ndarray) -> float:
    """The median over replays of the time to come within the target (inf when half never do)."""
    return float(np.median(first_within))


def chance_within(scores: Scores, t: float) -> float:
    """The share of replays whose choice at ``t`` is within the target."""
    at = int(np.searchsorted(scores.times, t, side="right")) - 1
    return float(np.mean(scores.regret[:, max(at, 0)] <= TARGET_POINTS))


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's 95% interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_median(values: np.ndarray, *, draws: int = 2000, seed: int = 0) -> tuple[float, float]:
    """A percentile bootstrap 95% interval of the median."""
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(values, size=(draws, len(values)), replace=True), axis=1)
    # No interpolation between draws: a median may be infinite (most replays never reached the target).
    quantiles = np.quantile(medians, [0.025, 0.975], method="inverted_cdf")
    return (float(quantiles[0]), float(quantiles[1]))


def portfolio_without(dataset: str) -> list[dict[str, Any]]:
    """The starting portfolio built from every table but ``dataset``'s (none when no other table exists)."""
    from tests.benchmarks.portfolio import DATASETS, covers_grid, greedy, regrets

    regret, configs = {}, {}
    for other in DATASETS:
        if other == dataset:
            continue
        _, runs = read_table(other)
        if covers_grid(runs):
            regret[other], found = regrets(runs)
            configs |= found
    return [{"params": configs[key]} for key, _ in greedy(regret)] if regret else []


def run_replays(table: Table, searcher: Searcher, n: int, horizon: float) -> list[Replay]:
    return [searcher.replay(table, seed, horizon) for seed in range(n)]


def replay_dataset(dataset: str, n: int, only: Sequence[str] | None = None) -> dict[str, Any]:
    """One data set's summary: every searcher (or those whose name holds one of ``only``) replayed ``n`` times.

    A searcher's replays are kept in ``build/bench/replay/``, keyed by the table's runs, ``n`` and everything
    that sets the searcher apart, so that an interrupted ``make bench`` does not replay them again, and
    gapsearch at its defaults takes the replays of a candidate with the same settings (the same searcher
    replayed with the same seeds gives the same replays). A searcher whose figures the committed
    ``results/replay.json`` holds for the same table, number of replays, clock and settings keeps them (a
    clean clone replays only what changed), unless it queues a portfolio.
    """
    from tests.benchmarks.replay_summary import reusable, same_searcher, summarize

    table = Table.load(dataset)
    # Long enough for random search to try the whole grid; gapsearch stops at its largest budget.
    horizon = len(table.configs) * table.full_trial_seconds()
    times = np.linspace(0.0, horizon, 201)
    earlier = reusable(earlier_figures(dataset), table, times, n)
    rows: dict[str, dict[str, Any]] = {}
    reused: dict[str, Any] = {}
    for name, searcher in searchers(portfolio_without(dataset)).items():
        entry = (earlier or {}).get("searchers", {}).get(name)
        if entry is not None and same_searcher(entry, searcher):
            reused[name] = {**entry, "settings": getattr(searcher, "settings", {})}  # as the candidate names them now
            print(f"{dataset} {name}: {n} replays' figures kept from results/replay.json", flush=True)
            continue
        if only and not any(part in name for part in only):
            continue
        started = time.perf_counter()
        replays, kept = _kept_replays(table, searcher, n, horizon)
        rows[name] = {"replays": replays, "searcher": searcher}
        how = "kept from an earlier run" if kept else f"in {time.perf_counter() - started:.0f}s"
        print(f"{dataset} {name}: {n} replays {how}", flush=True)
    return summarize(table, rows, times, {**earlier, "searchers": reused} if earlier and reused else None)


def earlier_figures(dataset: str) -> dict[str, Any] | None:
    """``dataset``'s figures in the committed ``results/replay.json``, if any."""
    import json

    from tests.benchmarks._common import RESULTS

    path = RESULTS / "replay.json"
    if not path.exists():
        return None
    figures = json.loads(path.read_text()).get("datasets", {}).get(dataset)
    return figures if isinstance(figures, dict) else None


def _kept_replays(table: Table, searcher: Searcher, n: int, horizon: float) -> tuple[list[Replay], bool]:
    """``searcher``'s ``n`` replays on ``table``: from ``build/bench/replay/`` when the same searcher has been
    replayed on the same table before, else replayed now and kept there."""
    import dataclasses
    import hashlib
    import json

    from tests.benchmarks.curves import WORK

    parts = [
        table.dataset,
        sum(len(seeds) for seeds in table.values),
        n,
        round(horizon, 3),
        type(searcher).__name__,
        searcher.describe(),
        getattr(searcher, "promote", False),
        getattr(searcher, "report_best", False),
        getattr(searcher, "max_trials", None),
        dataclasses.asdict(searcher.overhead) if hasattr(searcher, "overhead") else None,
    ]
    if getattr(searcher, "queued", ()):
        parts.append(list(searcher.queued))  # type: ignore[attr-defined]
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]
    path = WORK.parent / "replay" / f"{table.dataset}-{digest}.json"
    if path.exists():
        return [Replay(**fields) for fields in json.loads(path.read_text())], True
    replays = run_replays(table, searcher, n, horizon)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([dataclasses.asdict(replay) for replay in replays]))
    return replays, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", action="append", choices=("mr", "sst5", "imdb"))
    parser.add_argument("--replays", type=int, default=200)
    parser.add_argument("--searcher", action="append", help="Only the searchers whose name contains this.")
    args = parser.parse_args()
    import optuna

    from tests.benchmarks.replay_summary import write

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a study is created per replay
    datasets = args.dataset or ["mr", "sst5", "imdb"]
    results = {dataset: replay_dataset(dataset, args.replays, args.searcher) for dataset in datasets}
    write(results, replays=args.replays)


if __name__ == "__main__":
    main()
