"""Length-bucketed batches: every text once per epoch, never cut, and the same loss as full padding."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from gapsearch.models.builder import build_model
from gapsearch.spec import Hyperparameters
from gapsearch.training.batching import LENGTH_MULTIPLE, LengthBucketedBatches, bucket_lengths, text_lengths
from gapsearch.training.fit import for_keras, train
from tests.conftest import require_module

WIDTH = 40
VOCABULARY_SIZE = 60


def padded_texts(n: int, seed: int = 0, width: int = WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """Texts of 0 to ``width`` ids (the first one empty), padded at the end, and 0/1 labels."""
    rng = np.random.default_rng(seed)
    lengths = [0, width, *rng.integers(1, width + 1, n - 2)]
    x = np.zeros((n, width), dtype="int32")
    for row, length in enumerate(lengths):
        x[row, :length] = rng.integers(1, VOCABULARY_SIZE, length)
    return x, rng.integers(0, 2, n).astype("int32")


def test_text_lengths_end_at_the_last_real_id_even_past_an_unknown_word():
    x = np.array([[5, 1, 7, 0, 0], [0, 0, 0, 0, 0], [3, 3, 3, 3, 3], [1, 0, 0, 0, 0]], dtype="int32")
    assert text_lengths(x).tolist() == [3, 0, 5, 1]


def test_bucket_lengths_are_few_rounded_ascending_and_fit_the_longest_text():
    lengths = np.array([3, 5, 9, 12, 17, 20, 31, 33, 35, 50])
    buckets = bucket_lengths(lengths, 4, 56)
    assert len(buckets) <= 4
    assert list(buckets) == sorted(set(buckets))
    assert all(b % LENGTH_MULTIPLE == 0 for b in buckets)
    assert buckets[-1] == 56  # 50 rounded up to 56
    assert bucket_lengths(lengths, 4, 52)[-1] == 52  # never wider than the arrays
    assert bucket_lengths(lengths, 1, 56) == (56,)
    assert bucket_lengths(lengths, 4, 56, longest=60)[-1] == 56
    assert bucket_lengths(np.array([3, 4]), 4, 56, longest=30)[-1] == 32  # another split's longest text fits


def test_every_text_is_in_exactly_one_batch_per_epoch_and_never_cut():
    x, y = padded_texts(203)
    lengths = bucket_lengths(text_lengths(x), 4, WIDTH)
    batches = LengthBucketedBatches(x, y, batch_size=16, lengths=lengths, shuffle=True, seed=3)
    for epoch in range(3):
        seen = []
        for length, rows in batches.batches_of_epoch(epoch):
            assert len(rows) <= 16 and length in lengths
            assert (text_lengths(x[rows]) <= length).all()  # cutting to the bucket drops only padding
            bx, by = batches.batch(length, rows)
            assert bx.shape == (len(rows), length)
            np.testing.assert_array_equal(by, y[rows])
            seen.extend(rows.tolist())
        assert sorted(seen) == list(range(len(x)))
    assert len(batches) == len(batches.batches_of_epoch(0))


def test_shuffling_draws_new_batches_each_epoch_reproducibly_from_the_seed():
    x, y = padded_texts(120)
    lengths = bucket_lengths(text_lengths(x), 3, WIDTH)

    def rows_of(seed: int, epoch: int) -> list[list[int]]:
        batches = LengthBucketedBatches(x, y, batch_size=8, lengths=lengths, shuffle=True, seed=seed)
        return [rows.tolist() for _, rows in batches.batches_of_epoch(epoch)]

    assert rows_of(1, 0) == rows_of(1, 0)
    assert rows_of(1, 0) != rows_of(1, 1)
    assert rows_of(1, 0) != rows_of(2, 0)
    unshuffled = LengthBucketedBatches(x, y, batch_size=8, lengths=lengths, shuffle=False)
    assert [r.tolist() for _, r in unshuffled.batches_of_epoch(0)] == [
        r.tolist() for _, r in unshuffled.batches_of_epoch(5)
    ]


def test_the_epoch_advances_when_keras_ends_an_epoch():
    x, y = padded_texts(40)
    batches = LengthBucketedBatches(x, y, batch_size=8, lengths=(16, WIDTH), shuffle=True, seed=0)
    first = [batches[i][1].tolist() for i in range(len(batches))]
    batches.on_epoch_end()
    assert batches.epoch == 1
    assert [batches[i][1].tolist() for i in range(len(batches))] != first


def test_a_text_longer_than_the_last_bucket_is_refused():
    x, y = padded_texts(10)
    with pytest.raises(ValueError, match=f"a text of {WIDTH} ids does not fit the longest bucket \\(16\\)"):
        LengthBucketedBatches(x, y, batch_size=4, lengths=(8, 16), shuffle=False)


def fixed_model(pooling: str, **options) -> keras.Model:
    keras.utils.set_random_seed(0)
    hp = Hyperparameters(
        sequence_length=WIDTH,
        embedding_dim=8,
        filters=6,
        pooling=pooling,
        attention_units=4,
        length_buckets=4,
        **options,
    )
    return build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=2)


@pytest.mark.parametrize("pooling", ["average", "max", "attention"])
def test_bucketed_batches_give_the_loss_of_full_padding_on_a_fixed_model(pooling):
    x, y = padded_texts(150, seed=1)
    model = fixed_model(pooling, conv_layers=2)
    full = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    batches = LengthBucketedBatches(
        x, y, batch_size=32, lengths=bucket_lengths(text_lengths(x), 4, WIDTH), shuffle=False
    )
    assert len({length for length, _ in batches.batches_of_epoch(0)}) > 1  # several lengths really occur
    bucketed = model.evaluate(for_keras(batches), verbose=0, return_dict=True)
    assert bucketed["loss"] == pytest.approx(full["loss"], rel=1e-5, abs=1e-6)
    assert bucketed["accuracy"] == pytest.approx(full["accuracy"], abs=1e-6)


def test_without_the_mask_padding_changes_the_output_which_is_what_the_ablation_measures():
    x, _ = padded_texts(20, seed=2)
    lengths = text_lengths(x)
    short = x[(lengths > 0) & (lengths <= WIDTH // 2)]
    masked, unmasked = fixed_model("average"), fixed_model("average", mask_padding=False)
    for model, padding_matters in ((masked, False), (unmasked, True)):
        tight = model.predict(short[:, : WIDTH // 2], verbose=0)
        loose = model.predict(short, verbose=0)
        assert (not np.allclose(tight, loose, atol=1e-6)) is padding_matters


def test_training_on_bucketed_batches_reports_every_epoch_and_learns():
    x, y = padded_texts(256, seed=4)
    y = (x[:, 0] % 2).astype("int32")  # learnable from the first token
    model = fixed_model("max", learning_rate=1e-2)
    reports = []
    result = train(
        model,
        x,
        y,
        x[:64],
        y[:64],
        metric="val_accuracy",
        direction="maximize",
        epochs=4,
        batch_size=16,
        patience=0,
        length_buckets=4,
        seed=7,
        report=lambda epoch, value: reports.append(epoch),
    )
    assert reports == [1, 2, 3, 4]
    assert result.epochs_run == 4
    assert result.history["loss"][-1] < result.history["loss"][0]


def test_under_tensorflow_the_pipeline_gives_the_pydatasets_batches_a_new_draw_each_epoch():
    tf = require_module("tensorflow")
    from gapsearch.training.tf_batching import as_tf_dataset

    x, y = padded_texts(90, seed=5)
    lengths = bucket_lengths(text_lengths(x), 3, WIDTH)
    for shuffle in (True, False):
        batches = LengthBucketedBatches(x, y, batch_size=8, lengths=lengths, shuffle=shuffle, seed=3)
        dataset = as_tf_dataset(batches)
        assert dataset.element_spec[0].shape.as_list() == [None, None]  # any length fits the traced step
        assert int(tf.data.experimental.cardinality(dataset)) == len(batches)
        for epoch in range(2):  # each pass over the dataset is the next epoch's draw
            expected = [batches.batch(length, rows) for length, rows in batches.batches_of_epoch(epoch)]
            got = [(bx.numpy(), by.numpy()) for bx, by in dataset]
            assert len(got) == len(expected)
            for (got_x, got_y), (want_x, want_y) in zip(got, expected, strict=True):
                np.testing.assert_array_equal(got_x, want_x)
                np.testing.assert_array_equal(got_y, want_y)
