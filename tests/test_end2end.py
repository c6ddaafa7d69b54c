"""mnistadd.end2end: the sum layers (the exact convolution, the digits fed to the carry chain) and the build."""

import keras
import numpy as np
import pytest

from mnistadd.addition import CarrySumLikelihood
from mnistadd.end2end import PositionDigits, SumDistribution, build_end2end
from mnistadd.reader import NUMBER_CLASSES, number_log_probs


def test_sum_distribution_is_the_exact_convolution():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 2, 3, 11)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    p_sum = keras.ops.convert_to_numpy(SumDistribution()(probs[0], probs[1]))
    p_a, p_b = (np.exp(keras.ops.convert_to_numpy(number_log_probs(p))) for p in probs)
    expected = np.stack([np.convolve(p_a[i], p_b[i]) for i in range(2)])
    np.testing.assert_allclose(p_sum, expected, rtol=1e-4, atol=1e-7)
    # certain digits give a certain sum
    certain = np.eye(11, dtype=np.float32)[NUMBER_CLASSES[[123, 45]]]
    assert keras.ops.convert_to_numpy(SumDistribution()(certain[:1], certain[1:])).argmax() == 168


def test_position_digits_feed_the_carry_chain():
    certain = np.eye(11, dtype=np.float32)[NUMBER_CLASSES[[123, 45, 7]]]  # 45 and 7 start with blanks
    digits = PositionDigits()(certain[:2], certain[1:])
    assert digits.shape == (2, 2, 3, 10)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(digits).argmax(-1), [[[1, 2, 3], [0, 4, 5]], [[0, 4, 5], [0, 0, 7]]])
    sums = np.array([[0, 1, 6, 8], [0, 0, 5, 2]])  # 123 + 45, 45 + 7
    log_likelihood = CarrySumLikelihood()(digits[:, 0], digits[:, 1], sums)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(log_likelihood), 0, atol=1e-4)
    assert (keras.ops.convert_to_numpy(CarrySumLikelihood()(digits[:, 0], digits[:, 1], sums + [0, 0, 0, 1])) < -10).all()


def test_end2end_rejects_an_unknown_combine():
    with pytest.raises(ValueError, match="unknown combine"):
        build_end2end({"filters": 4, "blocks": 2, "dense": 8}, "exactly")
