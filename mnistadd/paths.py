"""Where trained models and the trainers' work directories live by default, and what a model folder must
hold to be loaded. A module of its own so that light modules (the Hub CLI) can use it without importing
TensorFlow."""

import os
from pathlib import Path

MODELS_DIR = Path(os.environ.get("MNISTADD_MODELS_DIR", Path(__file__).resolve().parent.parent / "models"))
RUNS_DIR = Path(os.environ.get("MNISTADD_RUNS_DIR", Path(__file__).resolve().parent.parent / "runs"))  # trainers' work
REQUIRED_FILES = ("model.keras", "config.json")

