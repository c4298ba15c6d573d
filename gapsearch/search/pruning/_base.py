"""What every multi-objective pruner answers: prune this trial at this epoch, and why."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna


@dataclass(frozen=True)
class TrialStanding:
    """Where a running trial stands: what it costs (known before training) and its values so far.

    Attributes:
        number: The trial's number (a trial is never its own peer).
        costs: Each cost the pruner compares by, as measured on the built model.
        curve: The monitored validation metric at each step reported so far (step = epoch, 1-based,
            offset by ``run index * epochs`` for folds and repeats).
        last_step: The step the trial ends at when it trains to the end (its last run's last epoch);
            None when unknown. Pruning there would save nothing and lose a finished trial.
    """

    number: int
    costs: Mapping[str, float]
    curve: Mapping[int, float]
    last_step: int | None = None


class MultiObjectivePruner(abc.ABC):
    """Decides, from the trials a study has stored, whether a running trial should stop now.

    Attributes:
        costs: The costs a :class:`TrialStanding` must carry for this pruner (known before training).
    """

    costs: tuple[str, ...] = ()

    @abc.abstractmethod
    def prune(self, study: optuna.Study, trial: TrialStanding, step: int) -> str | None:
        """Why ``trial`` should stop at ``step`` (one line, recorded on the trial), or None to go on."""
