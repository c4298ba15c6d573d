"""The Python API: a study file loaded once, and the CLI's commands as typed methods.

    >>> import gapsearch
    >>> study = gapsearch.load("study.yaml")  # doctest: +SKIP
    >>> outcome = study.run(n_trials=3)        # doctest: +SKIP

Each method calls the same library function as its command (``gapsearch run``, ``best``, ``trials``,
``export``, ``evaluate``, ``compare``, ``report``; ``predict`` with the trial's model loaded here rather
than exported) and raises the same :class:`~gapsearch.errors.GapsearchError` subclasses the CLI turns
into one line; :attr:`Study.optuna` is the ``optuna.Study`` itself, for Optuna's own tools. Importing this
module imports neither Keras, TensorFlow nor Optuna: the methods import what they need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gapsearch.errors import UserError
from gapsearch.spec import load_study
from gapsearch.spec.study import StudySpec
from gapsearch.trial_attrs import TrialResult, stored_attrs

if TYPE_CHECKING:
    import optuna
    import pandas

    from gapsearch.models.text_classifier import TextClassifier
    from gapsearch.results.compare import Comparison
    from gapsearch.results.evaluation import TestResult
    from gapsearch.results.export import Exported, Prediction
    from gapsearch.results.report import ReportFiles
    from gapsearch.search.runner import RunOutcome


@dataclass(frozen=True)
class TrialRecord:
    """One trial as stored: its state, its value per objective, its parameters and what it recorded.

    ``result`` is what gapsearch recorded, typed (costs, training, placement...: see
    :class:`gapsearch.trial_attrs.TrialResult`), the same from databases of older releases;
    ``user_attrs`` are the attributes as stored, which optuna-dashboard shows.
    """

    number: int
    state: str  # COMPLETE, PRUNED, FAIL, RUNNING or WAITING
    values: dict[str, float] | None  # objective name -> value; None unless COMPLETE
    params: dict[str, Any]
    seconds: float | None
    user_attrs: dict[str, Any]
    result: TrialResult

    @property
    def value(self) -> float | None:
        """The first objective's value."""
        return None if self.values is None else next(iter(self.values.values()))

    @classmethod
    def of(cls, trial: optuna.trial.FrozenTrial, objectives: Sequence[str]) -> TrialRecord:
        values = None if trial.values is None else dict(zip(objectives, trial.values, strict=True))
        seconds = round(trial.duration.total_seconds(), 3) if trial.duration else None
        attrs = stored_attrs(trial)
        return cls(trial.number, trial.state.name, values, dict(trial.params), seconds, attrs, TrialResult.read(trial))


class TrialList(list[TrialRecord]):
    """A list of :class:`TrialRecord`; :meth:`to_dataframe` gives the table ``gapsearch trials`` prints."""

    def __init__(self, records: Sequence[TrialRecord], table: list[dict[str, Any]]) -> None:
        super().__init__(records)
        self._table = table

    def to_dataframe(self) -> pandas.DataFrame:
        """The trials as a pandas DataFrame, one row per trial, indexed by number (needs pandas).

        Raises:
            UserError: pandas is not installed.
        """
        try:
            import pandas
        except ImportError:
            raise UserError(
                "to_dataframe() needs pandas, which gapsearch's notebook extra installs: pip install "
                "'gapsearch[notebook]' (from a clone: pip install -e '.[notebook]'); the list itself needs nothing"
            ) from None
        return pandas.DataFrame(self._table).set_index("number")


class Study:
    """A study file and the database it lives in; see :func:`load`."""

    def __init__(self, spec: StudySpec, storage_url: str) -> None:
        self.spec = spec
        self.storage_url = storage_url
        self._models: dict[int, TextClassifier] = {}  # trial number -> its model, loaded once by predict

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def optuna(self) -> optuna.Study:
        """The ``optuna.Study`` in the database, for Optuna's own tools (``optuna.visualization``...).

        Loaded afresh at each access, so that it holds the trials finished since.

        Raises:
            StorageError: no study database, or no such study in it (run the study first).
        """
        from gapsearch.storage.database import load_existing_study

        return load_existing_study(self.storage_url, self.spec.name)

    def __repr__(self) -> str:
        from gapsearch.storage.database import mask_url

        return f"<gapsearch.Study {self.spec.name!r} in {mask_url(self.storage_url)}>"

    def run(
        self,
        n_trials: int | None = None,
        *,
        timeout: float | None = None,
        workers: int | None = None,
        gpus: str | None = None,
        trials_per_gpu: int | None = None,
        progress: bool = False,
        verbose: bool = False,
    ) -> RunOutcome:
        """Run trials until the study holds ``n_trials`` (default: the file's) finished trials, as ``gapsearch run``.

        Warm-start lines are printed; with ``progress`` a progress bar too. Optuna's own log (a line for the
        new study and for each trial) is held back to its warnings during the run, as the CLI holds it back,
        unless ``verbose``.
        """
        from gapsearch.results.console import TrialProgress
        from gapsearch.runtime import optuna_log_level
        from gapsearch.workers.launch import plan_for, run_study
        from gapsearch.workers.signals import StopSignals

        slots = plan_for(self.spec, workers=workers, gpus=gpus, trials_per_gpu=trials_per_gpu)
        display = TrialProgress(self.spec.objective_names, enabled=progress)
        with StopSignals() as stop, optuna_log_level(verbose=verbose):
            try:
                return run_study(
                    self.spec,
                    storage_url=self.storage_url,
                    slots=slots,
                    create=True,
                    n_trials=n_trials,
                    timeout=timeout,
                    callbacks=[display] if progress else [],
                    on_start=display.start if progress else None,
                    on_warm_start=lambda warm: print(*warm.notes, warm.summary(), sep="\n"),
                    stop=stop,
                )
            finally:
                display.close()

    def best(self) -> list[TrialRecord]:
        """The best (feasible) trial, alone in a list; with several objectives the Pareto front (``gapsearch best``).

        Raises:
            StorageError: no completed (feasible) trial yet.
        """
        from gapsearch.search.selection import require_best_trials

        trials = require_best_trials(self.spec, self.optuna)
        return [TrialRecord.of(trial, self.spec.objective_names) for trial in trials]

    def trials(self) -> TrialList:
        """Every trial, by number; ``.to_dataframe()`` on the result gives a DataFrame (as ``gapsearch trials``)."""
        from gapsearch.results.console import trial_records

        frozen = self.optuna.get_trials(deepcopy=False)
        records = [TrialRecord.of(trial, self.spec.objective_names) for trial in frozen]
        return TrialList(records, trial_records(frozen, self.spec.objective_names))

    def export(
        self,
        output: str | Path,
        *,
        trial: int | str = "best",
        by: str | None = None,
        savedmodel: str | Path | None = None,
    ) -> Exported:
        """Write a trial's model as one ``.keras`` file that takes raw strings, as ``gapsearch export``.

        ``trial`` is ``"best"`` or a number; with several objectives ``by`` names the objective in which the
        chosen Pareto-optimal trial is best (default: the monitored metric).
        """
        from gapsearch.results.export import export_study_model

        target = Path(savedmodel) if savedmodel is not None else None
        return export_study_model(self.spec, self.storage_url, trial, Path(output), by=by, savedmodel=target)

    def evaluate(
        self, trial: int | None = None, *, by: str | None = None, include_validation: bool = False
    ) -> TestResult:
        """Train a trial's configuration again (default: the best) and measure it on the test split, as
        ``gapsearch evaluate``; the metrics are also stored on the study (user attribute ``test_metrics``).

        Raises:
            DataError: the data has no test split.
        """
        from gapsearch.results.evaluation import evaluate_study

        return evaluate_study(
            self.spec, self.storage_url, trial_number=trial, by=by, include_validation=include_validation
        )

    def predict(self, texts: Sequence[str], *, trial: int | str = "best", by: str | None = None) -> list[Prediction]:
        """Classify raw texts with a trial's model (default: the best's), as ``gapsearch predict`` does with it
        exported: each text's label, its probability and every class's probability.

        The model comes from the artifact store and stays loaded for the next call on the same trial.

        Raises:
            ExportError: the trial saved no model (``artifacts.save_models``), or it was removed.
        """
        from gapsearch.results.export import load_trial_model, predict_texts
        from gapsearch.search.selection import choose_trial

        if isinstance(texts, str):
            raise UserError(f"predict takes a list of texts, not one string; for example study.predict([{texts!r}])")
        study = self.optuna
        chosen = choose_trial(self.spec, study, trial, by=by)
        if chosen.number not in self._models:
            self._models[chosen.number] = load_trial_model(self.spec, study, chosen)
        return predict_texts(self._models[chosen.number], texts)

    def compare(
        self,
        param: str,
        *,
        n_seeds: int = 5,
        trial: int | None = None,
        by: str | None = None,
        test: Literal["t", "wilcoxon"] = "t",
    ) -> Comparison:
        """Train each value of ``param`` with the same seeds, the rest fixed at a trial's, as ``gapsearch compare``."""
        from gapsearch.results.compare import compare

        return compare(
            self.spec,
            storage_url=self.storage_url,
            param=param,
            n_seeds=n_seeds,
            trial_number=trial,
            by=by,
            test=test,
        )

    def report(self, output: str | Path) -> ReportFiles:
        """Write ``report.html`` and its figures into the folder ``output``, as ``gapsearch report``."""
        from gapsearch.results.report import write_study_report

        return write_study_report(self.spec, self.storage_url, Path(output))


def load(study_file: str | Path, storage: str | None = None) -> Study:
    """Load and check a study file: the :class:`Study` it names, in ``storage``.

    The storage is ``storage``, else ``$GAPSEARCH_STORAGE``, else the file's ``storage``, else
    ``sqlite:///gapsearch.db`` in the working directory (as ``--storage`` for the CLI).

    Raises:
        StudyFileError: the file breaks a rule (the message names the key, the value and what is allowed).
    """
    from gapsearch.storage.database import resolve_storage_url

    spec = load_study(Path(study_file))
    return Study(spec, resolve_storage_url(storage, spec.storage))


__all__ = ["Study", "TrialList", "TrialRecord", "load"]
