"""The held-out test: train the chosen configuration once more and measure it on the test split.

The test split chooses nothing: the configuration and the number of epochs come from the search
(the trial's best epoch, averaged over folds), training runs without early stopping, on the batches
a trial trains on (length buckets included), and the test set is only measured at the end. The
metrics are stored on the study as the user attribute ``test_metrics`` (a mapping from trial number
to its measurement).
"""

from __future__ import annotations

from dataclasses import dataclass

from gapsearch.spec.study import StudySpec
from gapsearch.study_attrs import HeldOutMetrics

TEST_METRICS_ATTR = HeldOutMetrics.KEY


@dataclass(frozen=True)
class TestResult:
    """The test metrics of one trial's configuration."""

    trial_number: int
    epochs: int
    include_validation: bool
    n_train: int
    n_test: int
    metrics: dict[str, float]


def evaluate_study(
    spec: StudySpec,
    storage_url: str,
    *,
    trial_number: int | None = None,
    by: str | None = None,
    include_validation: bool = False,
) -> TestResult:
    """Trains trial ``trial_number``'s configuration (default: the best, see
    :func:`gapsearch.search.selection.choose_trial`) and measures it on the test split.

    Raises:
        UserError: no such trial, or it did not complete.
        StorageError: no such study, or no completed trial.
        DataError: the data has no test split.
    """
    from gapsearch.runtime import import_keras
    from gapsearch.search.selection import choose_trial, retraining
    from gapsearch.storage.database import load_existing_study

    study = load_existing_study(storage_url, spec.name)  # the database first: a bad one is said before Keras loads
    trial = choose_trial(spec, study, trial_number, by=by)
    import_keras()
    from gapsearch.data.dataset import load_splits
    from gapsearch.search.runs import vectors_file
    from gapsearch.spec.hyperparameters import length_buckets
    from gapsearch.training.fit import fit_epochs, validation_batch_size

    splits = load_splits(spec.data, spec.base_dir, spec.seed, with_test=True)
    plan = retraining(spec, trial)  # the trial's hyperparameters, its first attempt's seed, its best epochs
    hp, epochs = plan.hp, plan.epochs
    vectors = vector_words = None
    path = vectors_file(spec, hp)
    if path is not None:
        from gapsearch.data.vectors import VectorWords, look_up, read_vectors

        # The words of every text the final model trains on or scores that the file has a vector for: the
        # vocabulary takes the test split's too, as the search's runs take the words of the rows they score.
        texts = (*splits.train_tokens, *splits.validation_tokens, *(splits.test_tokens or ()))
        words, table = read_vectors(path, {token for tokens in texts for token in tokens})
        vector_words = VectorWords(str(path), frozenset(words))
    data = splits.vectorize_final(
        hp.max_tokens, int(hp.sequence_length), include_validation=include_validation, vector_words=vector_words
    )
    if vector_words is not None:
        vectors = look_up(data.vocabulary.tokens, words, table)
    model = plan.model(spec, data, n_classes=len(splits.class_names), task=splits.task, vectors=vectors)
    fit_epochs(
        model,
        data.x_train,
        data.y_train,
        epochs=epochs,
        batch_size=hp.batch_size,
        length_buckets=length_buckets(hp),
        seed=plan.seed,
    )
    logs = model.evaluate(
        data.x_validation,
        data.y_validation,
        batch_size=validation_batch_size(hp.batch_size),
        verbose=0,
        return_dict=True,
    )
    metrics = {f"test_{name}": float(value) for name, value in logs.items()}
    result = TestResult(trial.number, epochs, include_validation, len(data.x_train), len(data.x_validation), metrics)
    HeldOutMetrics(metrics, epochs, include_validation, result.n_train, result.n_test).write(study, trial.number)
    return result


def format_result(result: TestResult) -> str:
    trained = "train + validation" if result.include_validation else "train"
    values = "  ".join(f"{name}={value:.4f}" for name, value in result.metrics.items())
    return (
        f"trial {result.trial_number}: trained on {trained} ({result.n_train} examples) for {result.epochs} "
        f"epochs, tested on {result.n_test} examples\n  {values}"
    )
