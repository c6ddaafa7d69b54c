"""`load(name)`: a trained model, from `models/<name>/` or a Hugging Face Hub repo, behind a small
predictor with a numpy interface.

    from mnistadd import load
    reader = load("reader")                 # models/reader
    reader = load("reader", repo_id="org/mnistadd-reader")   # pulled from the Hub, cached
    reader.predict(images)                  # (N, 28, 84) raw pixels 0-255 -> (N,) ints

Models load with Keras safe mode: a model file that carries Python code is refused.
"""

import hashlib
import warnings
from pathlib import Path

import keras
import numpy as np

from mnistadd import adder as adder_model
from mnistadd import addition as addition_model  # noqa: F401  registers the models' own layers for loading
from mnistadd import end2end as end2end_model  # noqa: F401
from mnistadd.abstention import CALIBRATION_FILE, decide
from mnistadd.digits import numbers_of
from mnistadd.geometry import DIGIT_SHAPE, MAX_NUMBER, MAX_PIXEL, STRIP_SHAPE
from mnistadd.io import read_json
from mnistadd.paths import MODELS_DIR, REQUIRED_FILES
from mnistadd.reader import ensemble_members, read_numbers


def _check_images(images, name="images"):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3 or images.shape[1:] != STRIP_SHAPE:
        raise ValueError(f"{name}: expected shape (N, {STRIP_SHAPE[0]}, {STRIP_SHAPE[1]}) raw pixels, got {images.shape}")
    return _check_pixels(images, name)


def _check_pixels(images, name):
    if not np.isfinite(images).all() or images.min() < 0 or images.max() > MAX_PIXEL:
        raise ValueError(f"{name}: pixels must be finite values in 0..{MAX_PIXEL} (ink high, background 0)")
    return images


def _check_digits(digits, name, n):
    digits = np.asarray(digits, dtype=np.float32)
    if digits.ndim != 4 or digits.shape[1:] != (n, *DIGIT_SHAPE):
        raise ValueError(f"{name}: expected shape (B, {n}, {DIGIT_SHAPE[0]}, {DIGIT_SHAPE[1]}) raw digits, most "
                         f"significant first, got {digits.shape}")
    return _check_pixels(digits, name)


def check_numbers(values, name, low=0, high=MAX_NUMBER):
    """Integers in low..high as an int array, or a ValueError that says what is wrong."""
    array = np.asarray(values)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected integers {low}..{high}, got {array.dtype} values")
    if array.size and (array.min() < low or array.max() > high):
        raise ValueError(f"{name}: values must be in {low}..{high}, got {array.min()}..{array.max()}")
    return np.atleast_1d(array).astype(np.int64)


def _infer(model, inputs, batch_size=512):
    """The model's outputs as numpy. One small batch runs as a single compiled call: `predict`'s per-call
    set-up, or an eager call through the layers, costs more than the model itself for the handful of
    images a demo request brings (a reader on one strip, 2 busy cores: 5 ms compiled, 70 ms eager)."""
    n = len(next(iter(inputs.values())) if isinstance(inputs, dict) else inputs)
    if n <= batch_size:
        return model.predict_on_batch(inputs)
    return model.predict(inputs, batch_size=batch_size, verbose=0)


class Reader:
    """Reads the number in each 28x84 strip, and declines what does not look like a number 0..255 (or a
    number it is too unsure of) when its folder holds a calibration (`mnistadd.abstention`, written by
    `python -m train.calibrate`)."""

    def __init__(self, model, config, calibration=None):
        self.model, self.config, self.calibration = model, config, calibration
        # Each ensemble member's own output, which the model averages, and its last hidden layer: the
        # evidence for declining an image (mnistadd.abstention).
        image, members = keras.Input(STRIP_SHAPE), ensemble_members(model)
        hidden = [[layer for layer in m.layers if isinstance(layer, keras.layers.Dense)][-2] for m in members]
        views = [keras.Model(m.inputs, [m.output, h.output])(image) for m, h in zip(members, hidden)]
        self.members = keras.Model(image, [[probs for probs, _ in views], [features for _, features in views]])

    def read(self, images):
        """(numbers (N,), confidences (N,), position probabilities (N, 3, 11)) for raw strips."""
        probs = _infer(self.model, _check_images(images))
        numbers, confidence = read_numbers(probs)
        return numbers, confidence, probs

    def read_or_decline(self, images):
        """(best guesses (N,), calibrated confidences (N,), declined (N,) bools, position probabilities
        (N, 3, 11)): a declined image does not look like a number 0..255, or its reading is too unsure (its
        calibrated confidence is below the rule's floor); its guess is only a guess."""
        images = _check_images(images)
        member_probs, member_features = self.evidence(images)
        numbers, confidence, declined = decide(member_probs, member_features, images, self.calibration)
        return numbers, confidence, declined, member_probs.mean(axis=0)

    def evidence(self, images, batch_size=512):
        """Each member's position probabilities (M, N, 3, 11) and last hidden layer (M, N, D)."""
        probs, features = _infer(self.members, _check_images(images), batch_size)
        return np.stack(probs), np.stack(features)

    def predict(self, images):
        return self.read(images)[0]


class Adder:
    """Adds two numbers 0..255 with the seq2seq model."""

    def __init__(self, model, config):
        self.model, self.config = model, config
        self.reverse = config["architecture"]["reverse"]
        self.layout = config["architecture"]["layout"]

    def predict(self, a, b):
        a, b = check_numbers(a, "a"), check_numbers(b, "b")
        if a.shape != b.shape:
            raise ValueError(f"a and b must have the same length, got {a.shape} and {b.shape}")
        tokens = adder_model.encode_queries(a, b, reverse=self.reverse, layout=self.layout)
        return adder_model.decode_sums(_infer(self.model, tokens, batch_size=4096))


class EndToEnd:
    """Sums the numbers in two strips with one model: images in, sum out."""

    def __init__(self, model, config):
        self.model, self.config = model, config

    def sum_probabilities(self, images_a, images_b):
        a, b = _check_images(images_a, "images_a"), _check_images(images_b, "images_b")
        if len(a) != len(b):
            raise ValueError(f"images_a and images_b must hold as many strips, got {len(a)} and {len(b)}")
        return _infer(self.model, {"image_a": a, "image_b": b})

    def predict(self, images_a, images_b):
        return self.sum_probabilities(images_a, images_b).argmax(axis=1)


class Addition:
    """Adds two N-digit numbers written with MNIST digits (the MNIST-addition benchmark's models)."""

    def __init__(self, model, config):
        self.model, self.config = model, config
        self.digits = config["architecture"]["digits"]

    def predict(self, digits_a, digits_b):
        """Two (B, N, 28, 28) raw 0-255 digit batches, most significant first -> (B,) int64 sums."""
        a, b = (_check_digits(digits, name, self.digits) for digits, name in ((digits_a, "digits_a"), (digits_b, "digits_b")))
        if len(a) != len(b):
            raise ValueError(f"digits_a and digits_b must hold as many numbers, got {len(a)} and {len(b)}")
        digits = _infer(self.model, {"digits_a": a, "digits_b": b}).argmax(axis=-1)  # (B, 2, N)
        return numbers_of(digits[:, 0]) + numbers_of(digits[:, 1])


PREDICTORS = {"reader": Reader, "adder": Adder, "end2end": EndToEnd, "addition": Addition}


def model_folder(name, repo_id=None, revision=None, models_dir=None):
    """The folder holding model `name` (a folder of `models/`, such as "reader" or "end2end-sum-only"):
    downloaded from `repo_id` (cached) when given, else the local one."""
    if repo_id:
        from mnistadd.hub import download

        folder = download(repo_id, revision=revision)
        source = f"Hub repo {repo_id}"
    else:
        folder = Path(models_dir or MODELS_DIR) / name
        source = str(folder)
    missing = [f for f in REQUIRED_FILES if not (Path(folder) / f).exists()]
    if missing:
        raise FileNotFoundError(
            f"no {name} model: {source} lacks {', '.join(missing)}. Pass repo_id= (a Hugging Face Hub repo) or "
            f"models_dir= (a folder holding {name}/), or set MNISTADD_MODELS_DIR to such a folder; "
            f"in a checkout, python -m train.{name} trains one")
    return Path(folder)


def reader_fingerprint(folder):
    """Which reader a folder holds: the start of its model.keras file's sha256 (what train.calibrate records)."""
    return hashlib.sha256((Path(folder) / "model.keras").read_bytes()).hexdigest()[:16]


def _reader_calibration(folder):
    """The folder's calibration.json, unless it was fitted to another reader (its reader_sha256 is not
    this model file's): its rule reads the reader's hidden features, meaningless for another model."""
    path = folder / CALIBRATION_FILE
    if not path.exists():
        return None
    calibration = read_json(path)
    fitted_to = calibration.get("reader_sha256")
    if fitted_to and fitted_to != reader_fingerprint(folder)[:len(fitted_to)]:
        warnings.warn(f"{path} was fitted to another reader: the reader will not decline anything until "
                      "python -m train.calibrate is run again", stacklevel=3)
        return None
    return calibration


def load_folder(folder):
    """A predictor for the model in `folder`; its config.json says which kind of model it is."""
    folder = Path(folder)
    config = read_json(folder / "config.json")
    kind = config.get("model", folder.name)
    if kind not in PREDICTORS:
        raise ValueError(f"{folder}: unknown model kind {kind!r}; expected one of {sorted(PREDICTORS)}")
    model = keras.saving.load_model(folder / "model.keras", compile=False, safe_mode=True)
    if kind == "reader":
        return Reader(model, config, _reader_calibration(folder))
    return PREDICTORS[kind](model, config)


def load(name, repo_id=None, revision=None, models_dir=None):
    """A predictor for model `name` ("reader", "adder", "end2end", or another folder of `models/`)."""
    return load_folder(model_folder(name, repo_id, revision, models_dir))
