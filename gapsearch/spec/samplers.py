"""The ``sampler:`` section: one class per Optuna sampler, chosen by ``type``."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from gapsearch.spec._base import Frozen


class _Sampler(Frozen):
    seed: int | None = Field(None, description="Sampler seed; the study's seed when left out.")


class TPESampler(_Sampler):
    type: Literal["tpe"]
    n_startup_trials: int = Field(10, ge=0, description="Random trials before TPE takes over.")
    multivariate: bool = Field(True, description="Model parameters jointly rather than one by one.")
    constant_liar: bool = Field(True, description="Keep concurrent workers from sampling the same point.")


class NSGAIISampler(_Sampler):
    type: Literal["nsga2"]
    population_size: int = Field(50, ge=2, description="Trials per generation.")
    mutation_prob: float | None = Field(
        None, ge=0.0, le=1.0, description="Chance that a parameter mutates; 1/(number of parameters) when left out."
    )
    crossover_prob: float = Field(0.9, ge=0.0, le=1.0, description="Chance that a child is a crossover of two parents.")
    swapping_prob: float = Field(0.5, ge=0.0, le=1.0, description="Chance of taking each parameter from either parent.")


class RandomSampler(_Sampler):
    type: Literal["random"]


class GridSampler(_Sampler):
    type: Literal["grid"]


class GPSampler(_Sampler):
    type: Literal["gp"]
    n_startup_trials: int = Field(10, ge=0, description="Random trials before the Gaussian process takes over.")


class CmaEsSampler(_Sampler):
    type: Literal["cmaes"]
    n_startup_trials: int = Field(1, ge=0, description="Random trials before CMA-ES takes over.")


class QMCSampler(_Sampler):
    type: Literal["qmc"]
    qmc_type: Literal["sobol", "halton"] = Field("sobol", description="The low-discrepancy sequence.")


SamplerSpec = Annotated[
    Union[TPESampler, RandomSampler, GridSampler, GPSampler, CmaEsSampler, QMCSampler, NSGAIISampler],
    Field(discriminator="type"),
]
