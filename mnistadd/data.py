"""Multi-digit number strips (28x84) rendered from MNIST digits, entirely in TensorFlow ops.

A number 0..255 is written with its decimal digits. Each digit is a random MNIST image of that digit,
warped by its own random affine map about its center (scale 0.8-1.0 per axis, shift +-10 %, rotation
+-15 deg, shear +-5 deg), then cut to a window around its ink.

Each warped digit is rounded to whole pixel values, as the course's uint8 images are, so faint edge
pixels of value 1-2 survive as ink and everything under 0.5 is 0. Two cuts:
- "course" is the course's own rule. A column is inked if any of its pixels is; t0 and t1 are the
  first two columns after which the inked/blank state changes (normally the column before the ink and
  the last inked column of the first inked run). The window is [t0 - c1, t1 + c2) with c1, c2 uniform
  on {-1, 0, 1, 2}; with fewer than two changes (ink touching an edge), a negative start, or a window
  narrower than 6 columns, the whole 28-column digit is kept. `python -m benchmarks.fidelity` measures
  how close our strips are to the course's own.
- "clean" keeps the whole digit plus a 2 px margin on each side.

The windows go left to right and the strip is padded to 84 columns, the odd column on the left.

For training, `elastic` bends each warped digit further by a smooth random displacement field (Simard et
al., 2003), so the reader sees new handwriting rather than the same training digits over and over, and
`stroke` thickens or thins each digit's strokes by a random amount, as other pens and writers would.

All randomness is stateless and comes from one `seed`, so a batch is a pure function of
`(numbers, seed)`. Because nothing here runs Python per image, the same function serves the homework's
numpy generators (`number_pairs`, which `data_generator.py` wraps), the `tf.data` training pipelines and
the Space's examples.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from mnistadd.digits import digits_of
from mnistadd.geometry import DIGIT_SIZE as DIGIT
from mnistadd.geometry import INK_LEVEL, MAX_DIGITS, MAX_NUMBER, MAX_PIXEL, STRIP_HEIGHT, STRIP_WIDTH
from mnistadd.mnist import load_mnist

VALIDATION_FRACTION = 0.1  # of the training digits, held out for validation
CUTS = ("course", "clean")

# The course's crop: the window starts t0 - c1 and ends t1 + c2, c1 and c2 uniform on CROP_JITTER.
CROP_JITTER = (-1, 2)
MIN_WINDOW = 6  # a narrower window keeps the whole digit instead
CLEAN_MARGIN = 2
ELASTIC_GRID = 4  # control points per side of the elastic displacement field
PAIRS_PER_CALL = 512  # rendering several small batches in one call amortizes TensorFlow's per-op cost
NUMBER_DIGITS = tf.constant(digits_of(np.arange(MAX_NUMBER + 1), MAX_DIGITS), tf.int32)  # (256, 3)


def split_digits(split, mnist_dir=None):
    """MNIST images and labels of one split: "train" and "val" partition the training digits (the last
    10 % are validation), "train+val" is all of them, "test" is the MNIST test set."""
    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_dir)
    n_val = int(len(x_train) * VALIDATION_FRACTION)
    parts = {
        "train": (x_train[:-n_val], y_train[:-n_val]),
        "val": (x_train[-n_val:], y_train[-n_val:]),
        "train+val": (x_train, y_train),
        "test": (x_test, y_test),
    }
    if split not in parts:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(parts)}")
    return parts[split]


def _affine_transforms(seed, n):
    """Per-digit projective transform vectors (n, 8) mapping output pixels to input pixels."""
    seeds = tf.random.split(seed, 6)
    uniform = lambda i, low, high: tf.random.stateless_uniform([n], seeds[i], low, high)
    sx, sy = uniform(0, 0.8, 1.0), uniform(1, 0.8, 1.0)
    tx, ty = uniform(2, -0.1 * DIGIT, 0.1 * DIGIT), uniform(3, -0.1 * DIGIT, 0.1 * DIGIT)
    rotation = uniform(4, -15.0, 15.0) * (math.pi / 180)
    shear = uniform(5, -5.0, 5.0) * (math.pi / 180)
    # Forward map around the digit's center: p_out = c + t + R @ Sh @ S @ (p_in - c).
    cos, sin, tan = tf.cos(rotation), tf.sin(rotation), tf.tan(shear)
    m00, m01 = cos * sx, (cos * tan - sin) * sy
    m10, m11 = sin * sx, (sin * tan + cos) * sy
    det = m00 * m11 - m01 * m10
    i00, i01, i10, i11 = m11 / det, -m01 / det, -m10 / det, m00 / det
    c = (DIGIT - 1) / 2
    ux, uy = c + tx, c + ty
    zeros = tf.zeros([n])
    return tf.stack(
        [i00, i01, c - i00 * ux - i01 * uy, i10, i11, c - i10 * ux - i11 * uy, zeros, zeros], axis=1
    )


def _elastic_warp(glyphs, seed, strength):
    """Bends each glyph (n, 28, 28, 1) by its own smooth random displacement field: random offsets
    (standard deviation `strength` px) on a 4x4 grid of control points, interpolated bicubically to
    every pixel, then bilinear resampling; ink pushed past the glyph's edge is lost."""
    n = tf.shape(glyphs)[0]
    grid = tf.random.stateless_normal([n, ELASTIC_GRID, ELASTIC_GRID, 2], seed, stddev=strength)
    field = tf.image.resize(grid, [DIGIT, DIGIT], method="bicubic")  # (n, 28, 28, 2): dy, dx
    batch, rows, cols = tf.meshgrid(tf.range(tf.cast(n, tf.float32)), tf.range(DIGIT, dtype=tf.float32),
                                    tf.range(DIGIT, dtype=tf.float32), indexing="ij")
    warped = keras.ops.image.map_coordinates(glyphs[..., 0], [batch, rows + field[..., 0], cols + field[..., 1]],
                                             order=1, fill_mode="constant")  # outside the glyph, ink is 0
    return warped[..., None]


def _stroke_width(glyphs, seed, strength):
    """Thickens or thins each glyph (n, 28, 28, 1) by its own random amount t in [-strength, strength]:
    |t| steps of 3x3 grey dilation (t > 0: each step up to a pixel wider on every side) or erosion
    (t < 0), a fractional step blending the glyph before and after it."""
    t = tf.random.stateless_uniform([tf.shape(glyphs)[0], 1, 1, 1], seed, -strength, strength)
    thinned, thickened = glyphs, glyphs
    for step in range(math.ceil(strength)):
        dilated = tf.nn.max_pool2d(thickened, 3, 1, "SAME")
        eroded = -tf.nn.max_pool2d(-thinned, 3, 1, "SAME")
        glyphs += (tf.clip_by_value(t - step, 0.0, 1.0) * (dilated - thickened)
                   + tf.clip_by_value(-t - step, 0.0, 1.0) * (eroded - thinned))
        thinned, thickened = eroded, dilated
    return glyphs


class StripRenderer:
    """Renders numbers as 28x84 strips from one set of MNIST digits."""

    def __init__(self, images, labels, cut="course", augment=True, elastic=0.0, stroke=0.0):
        """`augment` applies the course's random affine map to each digit; `elastic` > 0 bends each
        digit further (`_elastic_warp`, displacement in px) and `stroke` > 0 changes its stroke width
        (`_stroke_width`, in 3x3 steps), training augmentations only."""
        if cut not in CUTS:
            raise ValueError(f"unknown cut {cut!r}; expected one of {CUTS}")
        labels = np.asarray(labels)
        if set(np.unique(labels)) != set(range(10)):
            raise ValueError("the digit set must hold every digit 0-9")
        order = np.argsort(labels, kind="stable")
        counts = np.bincount(labels, minlength=10)
        self.images = tf.constant(np.asarray(images, np.float32)[order][..., None])
        self.counts = tf.constant(counts, tf.float32)
        self.offsets = tf.constant(np.concatenate([[0], np.cumsum(counts)[:-1]]), tf.int32)
        self.cut, self.augment, self.elastic, self.stroke = cut, augment, elastic, stroke

    @classmethod
    def from_split(cls, split, mnist_dir=None, digits=None, **kwargs):
        """A renderer over one split's digits, or only its first `digits` (a smaller data budget)."""
        images, labels = split_digits(split, mnist_dir)
        return cls(images[:digits], labels[:digits], **kwargs)

    def _windows(self, numbers, seed):
        """Warped glyphs (N, 3, 28, 28) and their windows: start, width (0 for absent slots), and
        whether the window cuts off ink on the right."""
        n = tf.shape(numbers)[0]
        lengths = 1 + tf.cast(numbers >= 10, tf.int32) + tf.cast(numbers >= 100, tf.int32)
        slot_digits = tf.gather(NUMBER_DIGITS, numbers)  # (N, 3), hundreds first
        present = tf.range(MAX_DIGITS)[None, :] >= MAX_DIGITS - lengths[:, None]  # (N, 3)
        seeds = tf.random.split(tf.cast(seed, tf.int64), 7)

        # Pick a random MNIST image of each digit, then warp it.
        digit = tf.reshape(slot_digits, [-1])
        u = tf.random.stateless_uniform(tf.shape(digit), seeds[0])
        index = tf.gather(self.offsets, digit) + tf.cast(u * tf.gather(self.counts, digit), tf.int32)
        glyphs = tf.gather(self.images, index)  # (3N, 28, 28, 1)
        if self.augment:
            glyphs = tf.raw_ops.ImageProjectiveTransformV3(
                images=glyphs,
                transforms=_affine_transforms(seeds[1], 3 * n),
                output_shape=[DIGIT, DIGIT],
                fill_value=0.0,
                interpolation="BILINEAR",
                fill_mode="CONSTANT",
            )
        if self.elastic > 0:
            glyphs = _elastic_warp(glyphs, seeds[5], self.elastic)
        if self.stroke > 0:
            glyphs = _stroke_width(glyphs, seeds[6], self.stroke)
        glyphs = tf.reshape(glyphs, [n, MAX_DIGITS, DIGIT, DIGIT])

        # The course's images are uint8: rounding decides which faint edge pixels count as ink.
        glyphs = tf.round(tf.clip_by_value(glyphs, 0.0, float(MAX_PIXEL)))

        # Cut each glyph to a window [start, end) of its columns, around its ink.
        column_max = tf.reduce_max(glyphs, axis=2)  # (N, 3, 28)
        strong = column_max > INK_LEVEL  # the clean cut's ink: faint edge pixels do not widen its margin
        last = DIGIT - 1 - tf.argmax(tf.cast(strong[..., ::-1], tf.int32), axis=2, output_type=tf.int32)
        if self.cut == "clean":
            first = tf.argmax(tf.cast(strong, tf.int32), axis=2, output_type=tf.int32)
            start = tf.maximum(first - CLEAN_MARGIN, 0)
            end = tf.minimum(last + 1 + CLEAN_MARGIN, DIGIT)
        else:
            start, end = self._course_crop(column_max > 0, seeds[2])
        width = tf.where(present, end - start, 0)
        return glyphs, start, width, present & (end <= last)

    @staticmethod
    def _course_crop(ink, seed):
        """The course's window [start, end) for each glyph from its inked columns (N, 3, 28)."""
        changes = ink[..., 1:] != ink[..., :-1]  # (N, 3, 27): change after column t
        column = tf.range(DIGIT - 1)
        t0 = tf.argmax(tf.cast(changes, tf.int32), axis=2, output_type=tf.int32)
        t1 = tf.argmax(tf.cast(changes & (column > t0[..., None]), tf.int32), axis=2, output_type=tf.int32)
        jitter = tf.random.stateless_uniform(tf.concat([[2], tf.shape(t0)], 0), seed, CROP_JITTER[0],
                                             CROP_JITTER[1] + 1, tf.int32)
        start, end = t0 - jitter[0], tf.minimum(t1 + jitter[1], DIGIT)  # Python's slice stops at the edge
        whole = (tf.reduce_sum(tf.cast(changes, tf.int32), axis=2) < 2) | (start < 0) | (end - start < MIN_WINDOW)
        return tf.where(whole, 0, start), tf.where(whole, DIGIT, end)

    @tf.function(reduce_retracing=True)
    def render(self, numbers, seed):
        """(N,) ints 0..255 and a stateless seed (2,) -> (N, 28, 84) float32 pixels 0..255."""
        glyphs, start, width, _ = self._windows(tf.cast(numbers, tf.int32), seed)
        # Lay the windows side by side, padded as the course pads (the odd column on the left), by
        # gathering each strip column from its glyph.
        padding = STRIP_WIDTH - tf.reduce_sum(width, axis=1, keepdims=True)
        offset = padding - padding // 2 + tf.cumsum(width, axis=1, exclusive=True)  # (N, 3)
        x = tf.range(STRIP_WIDTH)[None, None, :]
        inside = (x >= offset[..., None]) & (x < (offset + width)[..., None])  # (N, 3, 84)
        source = tf.clip_by_value(start[..., None] + x - offset[..., None], 0, DIGIT - 1)
        columns = tf.gather(tf.transpose(glyphs, [0, 1, 3, 2]), source, axis=2, batch_dims=2)
        strip = tf.reduce_sum(columns * tf.cast(inside, tf.float32)[..., None], axis=1)  # (N, 84, 28)
        return tf.transpose(strip, [0, 2, 1])

    @tf.function(reduce_retracing=True)
    def sample(self, batch_size, seed):
        """A batch of uniformly random numbers 0..255 and their strips: (images, numbers)."""
        seed = tf.random.split(tf.cast(seed, tf.int64), 2)
        numbers = tf.random.stateless_uniform([batch_size], seed[0], 0, MAX_NUMBER + 1, tf.int32)
        return self.render(numbers, seed[1]), numbers

    def dataset(self, batch_size, seed=0, start=0):
        """An endless `tf.data` stream of (images, numbers) batches, generated in parallel graph ops; batch k
        depends on (seed, k) alone, so the stream from `start` on is the same stream's tail."""
        return (
            tf.data.Dataset.counter(start)
            .map(lambda i: self.sample(batch_size, tf.stack([tf.constant(seed, tf.int64), i])),
                 num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )

    @tf.function(reduce_retracing=True)
    def window_stats(self, numbers, seed):
        """Widths and right-side cuts of the windows of the digits present, for measuring spacing."""
        _, _, width, cut_off = self._windows(tf.cast(numbers, tf.int32), seed)
        return width[width > 0], cut_off[width > 0]

    def fixed_set(self, size, seed):
        """`size` strips drawn once, as numpy arrays (images, numbers): a validation or test set."""
        images, numbers = self.sample(size, tf.constant([seed, 0], tf.int64))
        return images.numpy(), numbers.numpy()



def number_pairs(split, batch_size=32, seed=None, cut="course", mnist_dir=None):
    """Endless batches `(x, numbers, sums)` of number pairs written with one split's digits: x float32
    (batch_size, 2, 28, 84), numbers int64 (batch_size, 2), sums (batch_size, 1). The homework's API
    (`data_generator.py`) and the test sets of `mnistadd.evaluate`."""
    renderer = StripRenderer.from_split(split, mnist_dir, cut=cut)
    rng = np.random.default_rng(seed)
    batches_per_call = max(1, PAIRS_PER_CALL // batch_size)
    while True:
        images, numbers = renderer.sample(2 * batch_size * batches_per_call, rng.integers(2**62, size=2))
        images = images.numpy().reshape(batches_per_call, batch_size, 2, STRIP_HEIGHT, STRIP_WIDTH)
        numbers = numbers.numpy().reshape(batches_per_call, batch_size, 2).astype(np.int64)
        for x, pair in zip(images, numbers):
            yield x, pair, pair.sum(axis=1, keepdims=True)
