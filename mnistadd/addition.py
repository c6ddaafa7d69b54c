"""Multi-digit MNIST addition (the neuro-symbolic benchmark), learned from sums alone.

Two N-digit numbers are written with N MNIST digits each, most significant first; the only label is
their sum. A digit network (one set of weights for every digit) gives each digit a distribution over
0..9, and `CarrySumLikelihood` turns the 2N distributions into the log-probability of the observed sum,
exactly and differentiably, so that the whole trains by maximizing it.

Enumerating the numbers costs 10^N, and the convolution of two number distributions (what
`mnistadd.end2end.SumDistribution` does for 0..255) (10^N)^2. Addition has a carry structure instead:
going from the units up, the sum's digit i and the carry out depend only on the two digits at i and the
carry in. With q_i(t) = P(a_i + b_i = t), t = 0..18, each position is a 2x2 matrix over (carry in,
carry out),

    M_i[c, c'] = q_i(s_i + 10 c' - c),

and the likelihood of the sum s (its N + 1 digits, the first being the last carry) is a product of them:

    P(a + b = s) = [1, 0] M_N ... M_1 [the column of carry s_0],   M_N the units' matrix.

It costs N small matrix products, one step of a symbolic loop each; here it runs in log space (`logsumexp`
for sums of products), so that a thousand digits' probabilities never underflow.

At test time a sum is predicted by reading each digit's most likely value and adding the two numbers
(`add_digits`): that is the most likely pair of numbers, and with digits read at 99 % and more the most
likely sum almost always comes from it; it also keeps prediction linear in N.
"""

import keras
import numpy as np
from keras import layers, ops

from mnistadd.digits import digits_of, numbers_of  # noqa: F401  (the trainers and predictors use them from here)
from mnistadd.geometry import DIGIT_SHAPE

DIGITS = 10
NEG_INF = -1e9  # log(0) that stays finite, so impossible terms have zero gradient rather than NaN
# log of the indicator [a + b == t], for the 100 digit pairs (a, b) as rows and the 19 sums t as columns
PAIR_SUM_LOG_MASK = np.where(np.add.outer(np.arange(DIGITS), np.arange(DIGITS)).reshape(-1, 1) == np.arange(2 * DIGITS - 1),
                             0.0, NEG_INF).astype("float32")
# The digit pair sum t = s + 10 c' - c read for (carry in c, carry out c') = (0, 0), (0, 1), (1, 0), (1, 1)
CARRY_OFFSETS = np.array([0, 10, -1, 9])


@keras.saving.register_keras_serializable("mnistadd")
class CarrySumLikelihood(layers.Layer):
    """log P(a + b = s): digit log-probabilities of a and b (B, N, 10), most significant first, and the
    sum's N + 1 digits (B, N + 1), most significant first -> (B,). `carry_in` is the probability of a
    carry into the units: 0 for whole numbers, more for the top digits of longer ones."""

    def __init__(self, carry_in=0.0, **kwargs):
        super().__init__(**kwargs)
        self.carry_in = carry_in

    def get_config(self):
        return {**super().get_config(), "carry_in": self.carry_in}

    def call(self, log_a, log_b, sum_digits):
        batch, n = ops.shape(log_a)[0], log_a.shape[1]
        pairs = ops.reshape(log_a[..., :, None] + log_b[..., None, :], (batch, n, DIGITS * DIGITS, 1))
        log_q = ops.logsumexp(pairs + PAIR_SUM_LOG_MASK, axis=2)  # (B, N, 19): log P(a_i + b_i = t)
        edge = ops.full((batch, n, 1), NEG_INF, dtype=log_q.dtype)  # t = -1 and t = 19 are impossible
        log_q = ops.concatenate([edge, log_q, edge], axis=-1)  # index t + 1
        sum_digits = ops.cast(sum_digits, "int32")
        index = sum_digits[:, 1:, None] + ops.convert_to_tensor(CARRY_OFFSETS + 1, "int32")
        log_m = ops.reshape(ops.take_along_axis(log_q, index, axis=-1), (batch, n, 2, 2))  # [c, c']
        with np.errstate(divide="ignore"):  # log(0) = -inf, then NEG_INF
            log_start = np.maximum(np.log([1 - self.carry_in, self.carry_in]), NEG_INF).astype("float32")
        log_alpha = ops.broadcast_to(log_start, (batch, 2))  # the carry into the units
        log_m = ops.flip(log_m, axis=1)  # units first
        # a symbolic loop: unrolled, 500 positions take minutes to compile
        log_alpha = ops.fori_loop(0, n, lambda i, alpha: ops.logsumexp(alpha[:, :, None] + ops.take(log_m, i, axis=1), axis=1),
                                  log_alpha)
        return ops.take_along_axis(log_alpha, sum_digits[:, :1], axis=1)[:, 0]

    def compute_output_shape(self, log_a_shape, log_b_shape, sum_digits_shape):
        return (log_a_shape[0],)


class SumNegativeLogLikelihood(keras.losses.Loss):
    """The loss: -log P(a + b = s) for targets s (B, N + 1) and the model's digit log-probabilities
    (B, 2, N, 10) of the two numbers."""

    def __init__(self, carry_in=0.0, name="sum_nll", **kwargs):
        super().__init__(name=name, **kwargs)
        self.likelihood = CarrySumLikelihood(carry_in)

    def call(self, sum_digits, digit_log_probs):
        return -self.likelihood(digit_log_probs[:, 0], digit_log_probs[:, 1], sum_digits)


def add_digits(digits_a, digits_b):
    """Digits (B, N) of two numbers, most significant first -> their sum's N + 1 digits (B, N + 1)."""
    carry, out = ops.zeros_like(digits_a[:, 0]), []
    for i in reversed(range(digits_a.shape[1])):
        total = digits_a[:, i] + digits_b[:, i] + carry
        out.append(total % DIGITS)
        carry = total // DIGITS
    return ops.stack([carry] + out[::-1], axis=1)


def sum_accuracy(sum_digits, digit_log_probs):
    """Whether each predicted sum (each digit's most likely value, then added) is the target's."""
    digits = ops.argmax(digit_log_probs, axis=-1)
    predicted = add_digits(digits[:, 0], digits[:, 1])
    return ops.cast(ops.all(predicted == ops.cast(sum_digits, predicted.dtype), axis=1), "float32")


@keras.saving.register_keras_serializable("mnistadd")
class EachDigit(layers.Wrapper):
    """Runs the wrapped digit network on every digit (B, N, 28, 28) -> (B, N, ...) as one call on B*N
    digits: Keras' TimeDistributed makes one call per position, 200 calls for two 100-digit numbers."""

    def build(self, input_shape):
        self.layer.build((None, *input_shape[2:]))
        self.built = True

    def call(self, digits, training=None):
        batch, n = ops.shape(digits)[0], digits.shape[1]
        read = self.layer(ops.reshape(digits, (-1, *digits.shape[2:])), training=training)
        return ops.reshape(read, (batch, n, *read.shape[1:]))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], *self.layer.compute_output_shape((None, *input_shape[2:]))[1:])


def augmentation(strength):
    """Random small rotations, shifts and zooms of each digit, scaled by `strength` (1: up to 10 degrees,
    10 % shifts and zooms), active in training only."""
    return [layers.RandomRotation(strength * 10 / 360, fill_mode="constant"),
            layers.RandomTranslation(strength * 0.1, strength * 0.1, fill_mode="constant"),
            layers.RandomZoom(strength * 0.1, fill_mode="constant")] if strength else []


def build_digit_net(filters=32, dense=128, dropout=0.3, design="lenet", augment=0.0, name="digit_net"):
    """A CNN: raw digit (28, 28) 0-255 -> log-probabilities of 0..9. "lenet", the papers' network: two
    5x5 convolution blocks (batch norm, ReLU, 2x2 max-pool; `filters` then twice as many). "vgg": two
    blocks of two 3x3 convolutions each (same widths), deeper at the same resolution. Then a dense
    layer, dropout, and `augment` (`augmentation`) on the training digits."""
    stack = [keras.Input(DIGIT_SHAPE), layers.Rescaling(1 / 255), layers.Reshape((*DIGIT_SHAPE, 1)), *augmentation(augment)]
    kernel, convolutions = {"lenet": (5, 1), "vgg": (3, 2)}[design]
    for width in (filters, 2 * filters):
        for _ in range(convolutions):
            stack += [layers.Conv2D(width, kernel, padding="valid" if design == "lenet" else "same", use_bias=False),
                      layers.BatchNormalization(), layers.ReLU()]
        stack += [layers.MaxPooling2D()]
    stack += [layers.Flatten(), layers.Dense(dense, activation="relu"), layers.Dropout(dropout),
              layers.Dense(DIGITS), layers.Activation("log_softmax")]
    return keras.Sequential(stack, name=name)


def build_addition(n, digit_net_kwargs=None, name="addition"):
    """Digits {"digits_a", "digits_b"} (B, N, 28, 28) raw 0-255, most significant first -> digit
    log-probabilities (B, 2, N, 10) of both numbers, read by one shared digit network."""
    digit_net = EachDigit(build_digit_net(**(digit_net_kwargs or {})), name="read_digits")
    inputs = {key: keras.Input((n, *DIGIT_SHAPE), name=key) for key in ("digits_a", "digits_b")}
    both = layers.Concatenate(axis=1)([digit_net(inputs[key]) for key in ("digits_a", "digits_b")])  # (B, 2N, 10)
    return keras.Model(inputs, layers.Reshape((2, n, DIGITS), name="numbers")(both), name=name)
