"""Shared by the Space's tests: tiny stand-in models in the layout of the real model folders, and the
app served in this process on a free local port."""

import importlib.util
import socket
from pathlib import Path

import numpy as np
from PIL import Image

from mnistadd.adder import build_adder
from mnistadd.end2end import build_end2end
from mnistadd.reader import build_reader
from mnistadd.training import inference_copy, save_model_folder

APP_FILE = Path(__file__).resolve().parent.parent / "space" / "app.py"
TINY_READER = {"filters": 4, "blocks": 2, "dense": 8}


def make_standin_models(models_dir, names=("reader", "adder", "end2end")):
    """Untrained tiny models saved as models_dir/<name>/, with a metrics.json and a plot each."""
    builders = {
        "reader": lambda: (build_reader(**TINY_READER), {"architecture": TINY_READER}),
        "adder": lambda: (build_adder(hidden=8), {"architecture": {"reverse": True, "layout": "aligned", "hidden": 8}}),
        "end2end": lambda: (build_end2end(TINY_READER)[0], {"architecture": TINY_READER}),
    }
    history = Path(models_dir) / "history.csv"
    history.parent.mkdir(parents=True, exist_ok=True)
    history.write_text("epoch,loss\n0,1.0\n")
    plot = Image.fromarray(np.full((20, 40, 3), 200, np.uint8))
    for name in names:
        model, config = builders[name]()
        save_model_folder(Path(models_dir) / name, inference_copy(model), {"model": name, **config},
                          {"test": {"accuracy": 0.5, "examples": 10}}, history,
                          [("history.png", plot.save)])
    return Path(models_dir)


def import_app():
    """space/app.py as a module (space/ is not a package)."""
    spec = importlib.util.spec_from_file_location("mnistadd_space_app", APP_FILE)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    return app


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_app(models_dir):
    """Builds the app over the models in `models_dir` (never a Hub repo) and serves it in a thread;
    returns (demo, url). Close with demo.close()."""
    app = import_app()
    models = app.load_models({name: None for name in ("reader", "adder", "end2end")}, models_dir=models_dir)
    demo = app.build_demo(models)
    _, url, _ = app.launch(demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    return demo, url
