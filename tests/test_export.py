"""mnistadd.export: a model folder's network as a legacy HDF5 file that loads back in Keras safe mode and
predicts what model.keras predicts, its int8 Dense kernels kept or dequantized to float32."""

import json

import keras
import numpy as np
import pytest
from huggingface_hub import ModelCard

from conftest import random_strips
from mnistadd import export
from mnistadd.end2end import build_end2end
from mnistadd.reader import build_reader
from mnistadd.training import inference_copy, leaf_layers, save_model_folder


@pytest.fixture(scope="module")
def tiny_folders(tmp_path_factory):
    """A tiny reader and a tiny end-to-end model (the project's own sum layer), saved as model folders."""
    keras.utils.set_random_seed(0)
    root = tmp_path_factory.mktemp("export")
    history = root / "history.csv"
    history.write_text("epoch,loss\n0,1.0\n")
    end2end, _ = build_end2end({"filters": 4, "blocks": 2, "dense": 8}, "exact")
    models = {"reader": build_reader(filters=4, blocks=2, dense=8), "end2end": end2end}
    environment = {"tensorflow": "2.21.0", "keras": "3.15.1"}
    return {name: save_model_folder(root / name, inference_copy(model), {"model": name, "environment": environment},
                                    {}, history) for name, model in models.items()}


def inputs(name):
    if name == "reader":
        return random_strips(4)
    return {"image_a": random_strips(4, 1), "image_b": random_strips(4, 2)}


@pytest.mark.parametrize("float32", [False, True])
@pytest.mark.parametrize("name", ["reader", "end2end"])
def test_h5_loads_in_safe_mode_and_predicts_the_same(tiny_folders, name, float32):
    folder = tiny_folders[name]
    export.main([str(folder)] + (["--float32"] if float32 else []))
    saved = keras.saving.load_model(folder / "model.keras", compile=False, safe_mode=True)
    h5 = keras.saving.load_model(folder / "model.h5", compile=False, safe_mode=True)
    expected, got = saved.predict(inputs(name), verbose=0), h5.predict(inputs(name), verbose=0)
    if float32:  # int8 kernels and activations against their float originals: the rounding differs
        np.testing.assert_allclose(got, expected, atol=0.02)
        dense = [layer for layer in leaf_layers(export.float_model(saved)) if isinstance(layer, keras.layers.Dense)]
        assert dense and all(getattr(layer, "quantization_mode", None) is None for layer in dense)
    else:
        np.testing.assert_array_equal(got, expected)
    config = json.loads((folder / "config.json").read_text())
    assert config["h5"] == {"file": "model.h5", "dense_kernels": "float32" if float32 else "as model.keras",
                            "tensorflow": export.tf.__version__, "keras": keras.__version__}
    card = ModelCard.load(folder / "README.md").text
    assert "`model.h5` is the same network in the legacy HDF5 format" in card
    assert f"Keras {keras.__version__}" in card


def test_export_refuses_a_folder_without_a_model(tmp_path):
    with pytest.raises(SystemExit):
        export.main([str(tmp_path)])
    assert not (tmp_path / "model.h5").exists()
