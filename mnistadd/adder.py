"""The adder: a recurrent encoder-decoder that adds two numbers 0..255 given as digit strings.

The query "123+45" is written in seven characters ("255+255" is the longest). Two layouts: "ragged"
writes it as is and pads the end, as in the Keras `addition_rnn` example, so a digit's place depends on
the numbers' lengths; "aligned" right-aligns each number in three characters ("123+ 45"), so the units
digits always sit at the same steps and the encoder never has to work out which digit is which. By
default the query is also reversed, as in `addition_rnn`: that puts the units digits, which the first
output step depends on, close to the end of the encoder's input.

Characters are embedded, an LSTM encoder reads them into one state vector, `RepeatVector` hands that
vector to each of the three decoder steps, and a decoder LSTM writes the sum's hundreds, tens and units
digits (zero-padded, 000..510), one softmax each.
"""

import keras
import numpy as np
from keras import layers

from mnistadd.digits import digits_of, numbers_of
from mnistadd.geometry import MAX_NUMBER

VOCABULARY = "0123456789+ "
QUERY_LENGTH = len(f"{MAX_NUMBER}+{MAX_NUMBER}")
SUM_DIGITS = 3
LAYOUTS = {"ragged": "{}+{}", "aligned": "{:>3}+{:>3}"}


def encode_queries(a, b, reverse=True, layout="aligned"):
    """Two int arrays (N,) -> token ids (N, 7) of the strings "a+b" in `layout` (reversed if asked)."""
    pairs = zip(np.asarray(a).tolist(), np.asarray(b).tolist())
    queries = [LAYOUTS[layout].format(x, y).ljust(QUERY_LENGTH) for x, y in pairs]
    if reverse:
        queries = [q[::-1] for q in queries]
    ids = {char: i for i, char in enumerate(VOCABULARY)}
    return np.array([[ids[c] for c in q] for q in queries], dtype=np.int32).reshape(-1, QUERY_LENGTH)


def encode_sums(sums):
    """Sums (N,) 0..510 -> their three digits (N, 3), hundreds first."""
    return digits_of(sums, SUM_DIGITS).astype(np.int32)


def decode_sums(digit_probs):
    """Digit probabilities (N, 3, 10) -> sums (N,)."""
    return numbers_of(np.asarray(digit_probs).argmax(axis=-1))


RNN = {"lstm": layers.LSTM, "gru": layers.GRU}


def build_adder(hidden=128, cell="lstm", embedding=16, name="adder"):
    """Encoder-decoder: tokens (N, 7) -> sum digit probabilities (N, 3, 10)."""
    tokens = keras.Input((QUERY_LENGTH,), dtype="int32", name="tokens")
    x = layers.Embedding(len(VOCABULARY), embedding)(tokens)
    state = RNN[cell](hidden, name="encoder")(x)
    x = layers.RepeatVector(SUM_DIGITS)(state)
    x = RNN[cell](hidden, return_sequences=True, name="decoder")(x)
    return keras.Model(tokens, layers.Dense(10, activation="softmax", name="digits")(x), name=name)


def build_single_rnn_adder(hidden=128, cell="lstm", embedding=16, name="single_rnn_adder"):
    """The baseline that is not an encoder-decoder: one RNN layer and a dense head for all digits."""
    tokens = keras.Input((QUERY_LENGTH,), dtype="int32", name="tokens")
    x = RNN[cell](hidden)(layers.Embedding(len(VOCABULARY), embedding)(tokens))
    x = layers.Reshape((SUM_DIGITS, 10))(layers.Dense(SUM_DIGITS * 10)(x))
    return keras.Model(tokens, layers.Softmax(name="digits")(x), name=name)


@keras.saving.register_keras_serializable("mnistadd")
def sequence_accuracy(y_true, y_pred):
    """Fraction of sums whose three digits are all right."""
    predicted = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), "int32")
    match = keras.ops.all(keras.ops.equal(keras.ops.cast(y_true, "int32"), predicted), axis=-1)
    return keras.ops.mean(keras.ops.cast(match, "float32"))


def all_pairs():
    """Every pair (a, b) of numbers 0..255: two arrays of 65,536."""
    a, b = np.meshgrid(np.arange(MAX_NUMBER + 1), np.arange(MAX_NUMBER + 1), indexing="ij")
    return a.ravel(), b.ravel()


def pair_split(train_fraction, val_fraction, seed):
    """Indices into `all_pairs()`: (train, validation, held out), a fixed random partition. The
    held-out pairs are never trained on nor used to choose anything."""
    order = np.random.default_rng(seed).permutation((MAX_NUMBER + 1) ** 2)
    n_train, n_val = int(len(order) * train_fraction), int(len(order) * val_fraction)
    return order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]
