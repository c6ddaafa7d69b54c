"""Where trained models live by default, and what a model folder must hold to be loaded. A module of
its own so that light modules (the Hub CLI) can know it without importing TensorFlow."""

import os
from pathlib import Path

MODELS_DIR = Path(os.environ.get("MNISTADD_MODELS_DIR", Path(__file__).resolve().parent.parent / "models"))
REQUIRED_FILES = ("model.keras", "config.json")
