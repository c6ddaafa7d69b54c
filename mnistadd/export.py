"""A model folder's network as a legacy HDF5 file, the homework's format.

    python -m mnistadd.export models/reader             # writes models/reader/model.h5
    python -m mnistadd.export models/* [--float32]      # every folder given

The file is `model.keras`'s network saved with `model.save("model.h5")`: Keras 3 writes and reads its
int8 Dense kernels (with their scales) in HDF5 too, so the file reads exactly as `model.keras` does, at
the same size. `--float32` instead rebuilds the network in float32 from its config with the dequantized
weights (`copy_weights`: kernel / scale), for a Keras that knows no int8 layers: four times larger, and
its outputs differ from the int8 network's by float rounding. Either loads back with
`keras.saving.load_model(path, safe_mode=True)` once the project's layers are registered
(`import mnistadd.end2end, mnistadd.addition`); the export checks that it predicts exactly as the network
it was saved from before writing it. The TensorFlow and Keras versions that wrote it go into
config.json ("h5"), beside the training environment's, and the card is rewritten to name the file.
"""

import argparse
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import mnistadd.addition  # noqa: F401  registers the models' own layers, for loading and saving
import mnistadd.end2end  # noqa: F401
from mnistadd.cards import write_model_card
from mnistadd.io import atomic_path, read_json, write_json
from mnistadd.training import copy_weights

H5_FILE = "model.h5"
QUANTIZED_POLICIES = ("QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy")


def _float_config(config):
    """A model config with every quantized dtype policy (int8 Dense layers) replaced by its float source."""
    if isinstance(config, dict):
        if config.get("class_name") in QUANTIZED_POLICIES:
            return config["config"].get("source_name", "float32")
        return {key: _float_config(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_float_config(value) for value in config]
    return config


def float_model(model):
    """`model` with its int8 Dense layers back in float32: the same layers, the dequantized weights."""
    copy = model.__class__.from_config(_float_config(model.get_config()))
    copy_weights(model, copy)
    return copy


def _example_inputs(model, count=8):
    """Random inputs of the model's shapes: pixels 0..255, or token ids for an integer input."""
    rng = np.random.default_rng(0)
    arrays = {tensor.name: (rng.integers(0, 12, (count, *tensor.shape[1:])) if "int" in tensor.dtype
                            else rng.uniform(0, 255, (count, *tensor.shape[1:]))).astype(tensor.dtype)
              for tensor in model.inputs}
    return arrays if len(arrays) > 1 else next(iter(arrays.values()))


def check_round_trip(model, path):
    """Loads `path` in safe mode and checks that it predicts exactly what `model`, the network saved, does."""
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    inputs = _example_inputs(model)
    if not np.array_equal(model.predict(inputs, verbose=0), loaded.predict(inputs, verbose=0)):
        raise RuntimeError(f"{path} does not predict what the network it was saved from does")


def export_h5(folder, float32=False):
    """Writes `folder/model.h5` (atomically, once it loads back and predicts as the network does) from
    `folder/model.keras`, records the versions that wrote it in config.json, and rewrites the card.
    Returns the file's path."""
    folder = Path(folder)
    model = keras.saving.load_model(folder / "model.keras", compile=False, safe_mode=True)
    path = folder / H5_FILE
    network = float_model(model) if float32 else model
    with atomic_path(path) as staging, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras calls HDF5 "legacy": it is the format asked for
        network.save(staging)
        check_round_trip(network, staging)  # a file that would not is never written
    config = read_json(folder / "config.json")
    config["h5"] = {"file": H5_FILE, "dense_kernels": "float32" if float32 else "as model.keras",
                    "tensorflow": tf.__version__, "keras": keras.__version__}
    write_json(folder / "config.json", config)
    write_model_card(folder)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="model folders holding model.keras")
    parser.add_argument("--float32", action="store_true", help="dequantize int8 Dense kernels to float32 first")
    args = parser.parse_args(argv)
    for folder in args.folders:
        if not (folder / "model.keras").exists():
            parser.error(f"{folder} holds no model.keras")
        path = export_h5(folder, args.float32)
        print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
