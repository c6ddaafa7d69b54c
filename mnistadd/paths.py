"""Where trained models live by default, what a model folder must hold to be loaded, and how its text
files are written. A module of its own so that light modules (the Hub CLI) can use it without importing
TensorFlow."""

import os
import tempfile
from pathlib import Path

MODELS_DIR = Path(os.environ.get("MNISTADD_MODELS_DIR", Path(__file__).resolve().parent.parent / "models"))
RUNS_DIR = Path(os.environ.get("MNISTADD_RUNS_DIR", Path(__file__).resolve().parent.parent / "runs"))  # trainers' work
REQUIRED_FILES = ("model.keras", "config.json")


def write_text_atomic(path, text):
    """Writes `path` whole or not at all: to a temporary file beside it, then renamed over it. The
    temporary file is created private (600); the result is made readable by all (644), as the files of
    a model repo are meant to be."""
    path = Path(path)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as f:
        f.write(text)
    os.chmod(f.name, 0o644)
    os.replace(f.name, path)
