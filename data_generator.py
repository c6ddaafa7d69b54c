"""The homework's data API ("Neural Networks, Homework 3"), on `mnistadd.data`.

    from data_generator import training_generator
    x, numbers, sums = next(training_generator(batch_size=32))
    # x: float32 (32, 2, 28, 84), pixels 0-255, ink high; numbers: int (32, 2); sums: int (32, 1)

Training pairs use only MNIST training digits, test pairs only MNIST test digits. Pass `seed` for a
reproducible stream, `cut="clean"` for whole digits instead of the course's tight spacing, and
`mnist_dir` (or set MNISTADD_MNIST_DIR) to say where MNIST is.
"""

from mnistadd.data import number_pairs


def training_generator(batch_size=32, seed=None, cut="course", mnist_dir=None):
    """Endless batches `(x, numbers, sums)` of number pairs written with MNIST training digits."""
    return number_pairs("train+val", batch_size, seed, cut, mnist_dir)


def test_generator(batch_size=32, seed=None, cut="course", mnist_dir=None):
    """Endless batches `(x, numbers, sums)` of number pairs written with MNIST test digits."""
    return number_pairs("test", batch_size, seed, cut, mnist_dir)
