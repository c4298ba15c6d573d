"""Sums over the time steps of a long text are taken in float32 under mixed precision.

bfloat16 holds integers exactly only up to 256 (float16 up to 2048, and a sum near 1,000 only to 0.5): a
400-step review's mean, counted and summed in bfloat16, is not its mean. Every pooling that sums over the
steps (average, GeM, attention, mixed) is checked on 400 real steps of 16-bit inputs, and masked average
pooling on 1,000 too, against the float64 reference of the same (rounded) inputs.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from gapsearch.models.layers import (
    AttentionPooling1D,
    GeneralizedMeanPooling1D,
    MaskedGlobalAveragePooling1D,
    MixedPooling1D,
)
from gapsearch.models.layers._base import accumulation_dtype, masked_sum

STEPS, REAL, FEATURES = 512, 400, 3


def long_batch(dtype: str, steps: int = STEPS, real: int = REAL) -> tuple[np.ndarray, np.ndarray]:
    """Two texts of 400 real steps among 512 (or ``real`` among ``steps``), the first's at the start and the
    second's at the end, each feature near 1 (so a bfloat16 running sum stalls)."""
    rng = np.random.default_rng(3)
    values = 1.0 + 0.05 * rng.standard_normal((2, steps, FEATURES))
    mask = np.zeros((2, steps), dtype=bool)
    mask[0, :real] = True
    mask[1, steps - real :] = True
    rounded = ops.convert_to_numpy(ops.cast(ops.cast(values, dtype), "float64"))
    return rounded, mask


@pytest.mark.parametrize(("dtype", "wide"), [("bfloat16", "float32"), ("float16", "float32"), ("float64", "float64")])
def test_the_accumulation_dtype_widens_only_half_precision(dtype, wide):
    assert accumulation_dtype(dtype) == wide


def test_the_masked_sum_of_400_bfloat16_steps_is_taken_and_kept_in_float32():
    values, mask = long_batch("bfloat16")
    total, count = masked_sum(ops.cast(values, "bfloat16"), ops.expand_dims(ops.convert_to_tensor(mask), -1))
    assert keras.backend.standardize_dtype(total.dtype) == keras.backend.standardize_dtype(count.dtype) == "float32"
    # bfloat16 cannot hold every integer past 256.
    np.testing.assert_array_equal(ops.convert_to_numpy(count), [[REAL], [REAL]])
    expected = np.stack([values[row][mask[row]].sum(axis=0) for row in range(2)])
    np.testing.assert_allclose(ops.convert_to_numpy(total), expected, rtol=1e-5)


@pytest.mark.parametrize(("steps", "real"), [(STEPS, REAL), (1200, 1000)], ids=["400_steps", "1000_steps"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_average_of_400_and_1000_half_precision_steps_is_their_mean(dtype, steps, real):
    values, mask = long_batch(dtype, steps, real)
    pooled = MaskedGlobalAveragePooling1D(dtype=dtype)(ops.cast(values, dtype), mask=mask)
    assert keras.backend.standardize_dtype(pooled.dtype) == dtype
    expected = np.stack([values[row][mask[row]].mean(axis=0) for row in range(2)])
    # One rounding of the result to the compute dtype: half its spacing near 1 (2**-8 for bfloat16).
    tolerance = 2.0**-8 if dtype == "bfloat16" else 2.0**-11
    np.testing.assert_allclose(ops.convert_to_numpy(ops.cast(pooled, "float64")), expected, atol=tolerance)


@pytest.mark.parametrize(
    "make",
    [GeneralizedMeanPooling1D, lambda **kw: AttentionPooling1D(units=8, **kw), MixedPooling1D],
    ids=["gem", "attention", "mixed"],
)
def test_the_other_summing_poolings_agree_with_float32_on_400_bfloat16_steps(make):
    # A check of the outputs, not of the fix alone: TensorFlow's and torch's own reductions already accumulate
    # bfloat16 in float32, so these agree without it too; the masked-sum test above is the one that tells.
    values, mask = long_batch("bfloat16")
    narrow = make(dtype="bfloat16")
    wide = make(dtype="float32")
    narrow.build((None, STEPS, FEATURES))
    wide.build((None, STEPS, FEATURES))
    wide.set_weights([ops.convert_to_numpy(ops.cast(w, "float32")) for w in narrow.get_weights()])
    got = ops.convert_to_numpy(ops.cast(narrow(ops.cast(values, "bfloat16"), mask=mask), "float64"))
    reference = ops.convert_to_numpy(wide(ops.cast(values, "float32"), mask=mask)).astype("float64")
    # A few roundings of bfloat16 (relative 2**-8 each) around a value near 1, not a sum that stalled.
    np.testing.assert_allclose(got, reference, atol=4 * 2.0**-8)
