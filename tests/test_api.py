"""mnistadd.api: model folders as the trainers write them, `load(...).predict` on raw inputs, and clear errors
on bad input or a missing folder."""

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from conftest import random_strips
from mnistadd import load
from mnistadd.training import leaf_layers


def test_reader_folder_and_predict(models_dir):
    folder = models_dir / "reader"
    for name in ("model.keras", "config.json", "metrics.json", "history.csv", "history.png",
                 "filters.png", "activations.png"):
        assert (folder / name).exists(), name
    assert len((folder / "history.csv").read_text().splitlines()) == 3  # header + 2 epochs
    reader = load("reader", models_dir=models_dir)
    numbers = reader.predict(random_strips(5))
    assert numbers.shape == (5,) and numbers.dtype.kind == "i" and (0 <= numbers).all() and (numbers <= 255).all()
    with pytest.raises(ValueError, match=r"\(N, 28, 84\)"):
        reader.predict(np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="0..255"):
        reader.predict(np.full((1, 28, 84), 300.0))


@pytest.mark.parametrize("name", ["reader", "adder", "end2end"])
def test_model_folders_hold_no_optimizer_state_and_are_readable_by_all(models_dir, name):
    folder = models_dir / name
    with zipfile.ZipFile(folder / "model.keras") as archive, archive.open("model.weights.h5") as weights:
        with h5py.File(io.BytesIO(weights.read())) as h5:
            assert "optimizer" not in h5
    for path in (folder, *folder.iterdir()):
        assert path.stat().st_mode & 0o004, f"{path.name} is not readable by all"


@pytest.mark.parametrize("name", ["reader", "end2end"])
def test_saved_models_keep_dense_kernels_in_int8(models_dir, name):
    model = keras.saving.load_model(models_dir / name / "model.keras", compile=False, safe_mode=True)
    dense = [layer for layer in leaf_layers(model) if isinstance(layer, keras.layers.Dense)]
    assert dense and {layer.quantization_mode for layer in dense} == {"int8"}


def test_adder_folder_predict_and_input_checks(models_dir):
    adder = load("adder", models_dir=models_dir)
    sums = adder.predict(np.array([1, 200]), np.array([2, 255]))
    assert sums.shape == (2,) and ((0 <= sums) & (sums <= 999)).all()
    for bad, message in (([256], "0..255"), ([-1], "0..255"), ([1.5], "integers"), (["7"], "integers")):
        with pytest.raises(ValueError, match=message):
            adder.predict(bad, [1])
    with pytest.raises(ValueError, match="same length"):
        adder.predict([1, 2], [3])


def test_end2end_folder_and_predict(models_dir):
    end2end = load("end2end", models_dir=models_dir)
    a, b = random_strips(3, 1), random_strips(3, 2)
    sums = end2end.predict(a, b)
    assert sums.shape == (3,) and ((0 <= sums) & (sums <= 510)).all()
    np.testing.assert_allclose(end2end.sum_probabilities(a, b).sum(1), 1, rtol=1e-4)
    loaded = keras.saving.load_model(models_dir / "end2end" / "model.keras", compile=False)
    np.testing.assert_array_equal(loaded.predict({"image_a": a, "image_b": b}, verbose=0).argmax(1), sums)
    with pytest.raises(ValueError, match="as many strips"):
        end2end.predict(a, b[:2])


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="lacks model.keras"):
        load("reader", models_dir=tmp_path)
    (tmp_path / "writer").mkdir()
    (tmp_path / "writer" / "model.keras").write_bytes(b"")
    (tmp_path / "writer" / "config.json").write_text('{"model": "writer"}')
    with pytest.raises(ValueError, match="unknown model kind 'writer'"):
        load("writer", models_dir=tmp_path)


def test_inference_imports_no_training_nor_project_scripts(models_dir):
    """`mnistadd.api` loads and predicts with the package alone: none of the trainers, the app, the
    benchmarks, the homework's generator module nor the training code is imported (a fresh interpreter)."""
    script = f"""
import sys
import numpy as np
from mnistadd.api import load
numbers = load("reader", models_dir={str(models_dir)!r}).predict(np.zeros((2, 28, 84), np.float32))
assert numbers.shape == (2,)
print(sorted(name for name in sys.modules if name.split(".")[0] in ("train", "space", "benchmarks", "data_generator")
             or name == "mnistadd.training"))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
