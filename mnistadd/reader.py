"""The reader: a CNN that reads the number (0..255) written in one 28x84 strip.

Output design: three right-aligned digit positions (hundreds, tens, units), each a softmax over the ten
digits and a "blank" class for positions left of a short number. The strip is a row of 1-3 glyphs, so a
convolutional trunk with pooling sees each glyph, and one dense layer over the whole feature map
learns where each position's glyph sits, whatever the number's length.

Reading a number takes the most likely *valid* number, not the per-position argmax: the log-probability
of each number 0..255 is the sum of its three positions' log-probabilities (`number_log_probs`), which
rules out "05" or "2_1" and ties the positions together. The end-to-end model uses the same function to
turn digit distributions into number distributions.

The alternative output design, CTC over image columns (`build_ctc_reader`, `train.reader --output
ctc`), is an experiment of the sweep (REPORT.md); its reading is constrained to valid numbers the same
way, through each number's CTC likelihood (`ctc_number_log_probs`).
"""

import keras
import numpy as np
from keras import layers, ops

from mnistadd.digits import digits_of
from mnistadd.geometry import MAX_DIGITS as POSITIONS
from mnistadd.geometry import MAX_NUMBER, MAX_PIXEL, STRIP_SHAPE, STRIP_WIDTH

BLANK = 10
CLASSES = 11  # ten digits and blank


def encode_numbers(numbers):
    """Integers (N,) 0..255 -> position classes (N, 3), right-aligned, blank (10) left of the number."""
    numbers = np.asarray(numbers)
    digits = digits_of(numbers.ravel(), POSITIONS).reshape(*numbers.shape, POSITIONS)
    lengths = 1 + (numbers >= 10) + (numbers >= 100)
    return np.where(np.arange(POSITIONS) >= POSITIONS - lengths[..., None], digits, BLANK)


NUMBER_CLASSES = encode_numbers(np.arange(MAX_NUMBER + 1))  # (256, 3): the class of each position


def number_log_probs(position_probs):
    """Position probabilities (N, 3, 11) -> log-probabilities of the valid numbers 0..255 (N, 256),
    normalized over the valid numbers."""
    log_probs = ops.log(ops.clip(position_probs, 1e-7, 1.0))
    per_number = sum(ops.take(log_probs[:, k, :], NUMBER_CLASSES[:, k], axis=1) for k in range(POSITIONS))
    return ops.log_softmax(per_number, axis=-1)


def conv_trunk(filters=16, blocks=3, batch_norm=True, columns=False, name="trunk"):
    """Raw pixels (N, 28, 84) -> flat features: blocks of two 3x3 convolutions and a 2x2 max-pool,
    doubling the filters each block. Normalization to 0..1 happens here, inside the model.

    With `columns`, a sequence of column features (N, 21, features) instead, for CTC: blocks after the
    second pool only the height, so that each column stays 4 px wide (a digit spans several)."""
    stack = [keras.Input(STRIP_SHAPE), layers.Rescaling(1 / MAX_PIXEL), layers.Reshape((*STRIP_SHAPE, 1))]
    for block in range(blocks):
        for _ in range(2):
            stack.append(layers.Conv2D(filters * 2**block, 3, padding="same", use_bias=not batch_norm))
            if batch_norm:
                stack.append(layers.BatchNormalization(momentum=0.9))  # short runs need fresh statistics
            stack.append(layers.ReLU())
        stack.append(layers.MaxPooling2D((2, 1) if columns and block >= 2 else 2))
    if columns:
        stack += [layers.Permute((2, 1, 3)), layers.Reshape((STRIP_WIDTH // 2 ** min(blocks, 2), -1))]
    else:
        stack.append(layers.Flatten())
    return keras.Sequential(stack, name=name)


def build_reader(filters=16, blocks=3, dense=256, dropout=0.1, batch_norm=True, members=1, name="reader"):
    """The CNN reader: image (N, 28, 84) raw pixels -> position probabilities (N, 3, 11). With
    `members` > 1, an ensemble of that many such readers (`ensemble`)."""
    if members > 1:
        return ensemble([build_reader(filters, blocks, dense, dropout, batch_norm, name=f"member_{i}")
                         for i in range(members)], name)
    image = keras.Input(STRIP_SHAPE, name="image")
    x = conv_trunk(filters, blocks, batch_norm)(image)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(dense, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(POSITIONS * CLASSES)(x)
    x = layers.Reshape((POSITIONS, CLASSES))(x)
    # float32 even under a mixed-precision policy: the loss and `number_log_probs` need the precision
    return keras.Model(image, layers.Softmax(name="positions", dtype="float32")(x), name=name)


def ensemble(members, name="reader"):
    """Readers ("member_0", ...) whose position probabilities are averaged, as one model. Independent
    readers tend to err on different strips, which the average can outvote."""
    image = keras.Input(STRIP_SHAPE, name="image")
    return keras.Model(image, layers.Average(name="positions", dtype="float32")([m(image) for m in members]), name=name)


def ensemble_members(reader):
    """The readers that `reader` averages, in order; a single reader is its own only member."""
    return [layer for layer in reader.layers if layer.name.startswith("member_")] or [reader]


def build_mlp_reader(hidden=(512, 256), dropout=0.3, name="mlp_reader"):
    """The MLP baseline, with the same input and output as the CNN."""
    image = keras.Input(STRIP_SHAPE, name="image")
    x = layers.Flatten()(layers.Rescaling(1 / MAX_PIXEL)(image))
    for units in hidden:
        x = layers.Dropout(dropout)(layers.Dense(units, activation="relu")(x))
    x = layers.Reshape((POSITIONS, CLASSES))(layers.Dense(POSITIONS * CLASSES)(x))
    return keras.Model(image, layers.Softmax(name="positions", dtype="float32")(x), name=name)


def build_ctc_reader(filters=16, blocks=3, dense=256, dropout=0.1, batch_norm=True, name="ctc_reader"):
    """The CTC reader: image (N, 28, 84) raw pixels -> per-column logits (N, 21, 11), class 0 the CTC
    blank and class d + 1 the digit d, the same dense layers applied to every column."""
    image = keras.Input(STRIP_SHAPE, name="image")
    x = conv_trunk(filters, blocks, batch_norm, columns=True)(image)
    x = layers.Dropout(dropout)(x)
    x = layers.Dropout(dropout)(layers.Dense(dense, activation="relu")(x))
    return keras.Model(image, layers.Dense(CLASSES, name="columns", dtype="float32")(x), name=name)


# each number's digits as CTC classes (digit + 1), left-aligned and padded with the blank 0
CTC_LABELS = np.array([np.r_[row[row != BLANK] + 1, np.zeros((row == BLANK).sum(), int)] for row in NUMBER_CLASSES])


def ctc_number_log_probs(column_logits, chunk=128):
    """Per-column logits (N, T, 11) -> log-probabilities of the valid numbers 0..255 (N, 256): each
    number's CTC likelihood (over every alignment of its digits), normalized over the valid numbers."""
    lengths = (CTC_LABELS > 0).sum(axis=1)
    out = []
    for start in range(0, len(column_logits), chunk):
        strips = column_logits[start:start + chunk]
        logits = np.repeat(strips, MAX_NUMBER + 1, axis=0)  # each strip once per number 0..255
        neg_log_likelihood = ops.ctc_loss(np.tile(CTC_LABELS, (len(strips), 1)), logits, np.tile(lengths, len(strips)),
                                          np.full(len(logits), logits.shape[1]))
        out.append(ops.log_softmax(-ops.reshape(neg_log_likelihood, (len(strips), MAX_NUMBER + 1)), axis=-1))
    return ops.convert_to_numpy(ops.concatenate(out))


def read_numbers(position_probs):
    """Position probabilities (N, 3, 11) -> the most likely valid numbers (N,) and their probabilities."""
    log_probs = ops.convert_to_numpy(number_log_probs(position_probs))
    numbers = log_probs.argmax(axis=1)
    return numbers, np.exp(log_probs.max(axis=1))


@keras.saving.register_keras_serializable("mnistadd")
def number_accuracy(y_true, y_pred):
    """Fraction of strips whose three positions are all right (the per-position argmax, during training)."""
    predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
    return ops.mean(ops.cast(ops.all(ops.equal(ops.cast(y_true, "int32"), predicted), axis=-1), "float32"))
