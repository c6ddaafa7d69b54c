"""The end-to-end model: two strips in, the distribution of their sum (0..510) out, trainable as one.

A digit reader (the reader's architecture, one set of weights shared by both images) gives each image
three right-aligned digit distributions. `SumDistribution` then computes the sum's distribution
exactly: each number's distribution over 0..255 from its digits (`number_log_probs`), and the sum's as
the convolution of the two numbers' distributions,

    p(s) = sum_a p_A(a) * p_B(s - a).

Every step is differentiable, so the model can learn from the sum alone (the "MNIST addition" setting
of DeepProbLog and A-NeSI), or from the sum plus the numbers as auxiliary targets.

The digit reader may also be an ensemble: several readers (each started from a trained reader) whose
position probabilities are averaged, still one model trained as a whole.

The alternative, `combine="neural"`, replaces the exact sum by a learned decoder: an MLP from both
images' position probabilities to the sum's 511 classes. It has to learn addition too, from the same
sums; `train.end2end --combine neural` trains it for the comparison in the README.

Learning from sums alone, the loss may also read the sum through the carry chain of
`mnistadd.addition` instead of the convolution (`PositionDigits`, `train.end2end --sum-layer carry`):
cheaper, linear in the digits, but blind to the 0..255 limit (REPORT.md compares the two).
"""

import keras
import numpy as np
from keras import layers, ops

from mnistadd.geometry import STRIP_SHAPE
from mnistadd.reader import BLANK, CLASSES, MAX_NUMBER, POSITIONS, build_reader, ensemble, number_log_probs

MAX_SUM = 2 * MAX_NUMBER
# For p(s) = sum_a p_A(a) p_B(s - a): the index of p_B(s - a), or of an appended zero where s - a is out of range.
_offsets = np.arange(MAX_SUM + 1)[:, None] - np.arange(MAX_NUMBER + 1)[None, :]
SHIFT_INDEX = np.where((_offsets >= 0) & (_offsets <= MAX_NUMBER), _offsets, MAX_NUMBER + 1)


@keras.saving.register_keras_serializable("mnistadd")
class SumDistribution(layers.Layer):
    """Two images' position probabilities (N, 3, 11) -> the sum's probabilities (N, 511)."""

    def call(self, positions_a, positions_b):
        p_a = ops.exp(number_log_probs(positions_a))  # (N, 256)
        p_b = ops.exp(number_log_probs(positions_b))
        p_b = ops.concatenate([p_b, ops.zeros_like(p_b[:, :1])], axis=1)  # (N, 257), last is p = 0
        shifted = ops.take(p_b, SHIFT_INDEX, axis=1)  # (N, 511, 256): p_B(s - a)
        return ops.einsum("nsa,na->ns", shifted, p_a)

    def compute_output_shape(self, positions_a_shape, positions_b_shape):
        return (positions_a_shape[0], MAX_SUM + 1)


@keras.saving.register_keras_serializable("mnistadd")
class PositionDigits(layers.Layer):
    """Two images' position probabilities (N, 3, 11) -> both numbers' digit log-probabilities (N, 2, 3, 10),
    what `mnistadd.addition.CarrySumLikelihood` reads. A blank position counts as a leading 0, so the
    carry chain sees numbers 0..999 in three digits: the 0..255 limit is not local to a digit, and the
    chain cannot hold it, where the convolution over the valid numbers does."""

    def call(self, positions_a, positions_b):
        both = ops.stack([positions_a, positions_b], axis=1)
        digits = ops.concatenate([both[..., :1] + both[..., BLANK:], both[..., 1:BLANK]], axis=-1)
        return ops.log(ops.clip(digits, 1e-7, 1.0))

    def compute_output_shape(self, positions_a_shape, positions_b_shape):
        return (positions_a_shape[0], 2, POSITIONS, BLANK)


def neural_sum_decoder(hidden=512, name="sum"):
    """Two images' position probabilities (N, 3, 11) -> sum probabilities (N, 511), learned."""
    positions_a, positions_b = keras.Input((POSITIONS, CLASSES)), keras.Input((POSITIONS, CLASSES))
    x = layers.Concatenate()([layers.Flatten()(positions_a), layers.Flatten()(positions_b)])
    for _ in range(2):
        x = layers.Dense(hidden, activation="relu")(x)
    return keras.Model([positions_a, positions_b], layers.Dense(MAX_SUM + 1, activation="softmax")(x), name=name)


COMBINES = ("exact", "neural")


def build_digit_reader(reader_kwargs=None):
    """Image (N, 28, 84) -> position probabilities (N, 3, 11): one reader (`reader_kwargs` a dict of
    `build_reader` arguments), or the average of several ("member_0", ...: a list of such dicts)."""
    if not isinstance(reader_kwargs, list):
        return build_reader(name="digit_reader", **(reader_kwargs or {}))
    return ensemble([build_reader(name=f"member_{i}", **kwargs) for i, kwargs in enumerate(reader_kwargs)], "digit_reader")


def build_end2end(reader_kwargs=None, combine="exact", name="end2end"):
    """Images {"image_a", "image_b"} (N, 28, 84) raw pixels -> sum probabilities (N, 511).

    Returns the model and a training view of it that also outputs both images' position
    probabilities ("positions_a", "positions_b"), for the auxiliary-supervision regime."""
    if combine not in COMBINES:
        raise ValueError(f"unknown combine {combine!r}; expected one of {COMBINES}")
    digit_reader = build_digit_reader(reader_kwargs)
    inputs = {name: keras.Input(STRIP_SHAPE, name=name) for name in ("image_a", "image_b")}
    positions_a, positions_b = digit_reader(inputs["image_a"]), digit_reader(inputs["image_b"])
    if combine == "exact":
        sums = SumDistribution(name="sum")(positions_a, positions_b)
    else:
        sums = neural_sum_decoder()([positions_a, positions_b])
    model = keras.Model(inputs, sums, name=name)
    with_positions = keras.Model(inputs, {"sum": sums, "positions_a": positions_a, "positions_b": positions_b})
    return model, with_positions
