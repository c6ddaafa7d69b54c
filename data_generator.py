"""The homework's data API ("Neural Networks, Homework 3"), re-implemented on `mnistadd.data`.

    from data_generator import training_generator
    x, numbers, sums = next(training_generator(batch_size=32))
    # x: float32 (32, 2, 28, 84), pixels 0-255, ink high; numbers: int (32, 2); sums: int (32, 1)

Training pairs use only MNIST training digits, test pairs only MNIST test digits. Pass `seed` for a
reproducible stream, `cut="clean"` for whole digits instead of the course's tight spacing, and
`mnist_dir` (or set MNISTADD_MNIST_DIR) to say where MNIST is.
"""

import numpy as np

from mnistadd.data import StripRenderer


PAIRS_PER_CALL = 512  # rendering several small batches in one call amortizes TensorFlow's per-op cost


def _pairs(split, batch_size, seed, cut, mnist_dir):
    renderer = StripRenderer.from_split(split, mnist_dir, cut=cut)
    rng = np.random.default_rng(seed)
    batches_per_call = max(1, PAIRS_PER_CALL // batch_size)
    while True:
        images, numbers = renderer.sample(2 * batch_size * batches_per_call, rng.integers(2**62, size=2))
        images = images.numpy().reshape(batches_per_call, batch_size, 2, 28, 84)
        numbers = numbers.numpy().reshape(batches_per_call, batch_size, 2).astype(np.int64)
        for x, pair in zip(images, numbers):
            yield x, pair, pair.sum(axis=1, keepdims=True)


def training_generator(batch_size=32, seed=None, cut="course", mnist_dir=None):
    """Endless batches `(x, numbers, sums)` of number pairs written with MNIST training digits."""
    return _pairs("train+val", batch_size, seed, cut, mnist_dir)


def test_generator(batch_size=32, seed=None, cut="course", mnist_dir=None):
    """Endless batches `(x, numbers, sums)` of number pairs written with MNIST test digits."""
    return _pairs("test", batch_size, seed, cut, mnist_dir)
