"""mnistadd: read handwritten multi-digit numbers (MNIST strips) and add them.

    from mnistadd import load
    load("reader").predict(images)              # (N, 28, 84) raw pixels -> (N,) numbers
    load("adder").predict(a, b)                 # (N,), (N,) ints 0..255 -> (N,) sums
    load("end2end").predict(images_a, images_b) # two image batches -> (N,) sums
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the output

__version__ = "0.1.0"


def load(name, repo_id=None, revision=None, models_dir=None):
    """A trained model's predictor; see `mnistadd.api.load`."""
    from mnistadd.api import load as _load  # imports TensorFlow only when a model is wanted

    return _load(name, repo_id=repo_id, revision=revision, models_dir=models_dir)
