"""train.recipe and the recipes in train/recipes/: every recipe's small version trains end to end on tiny
data and writes a folder that loads and predicts; steps chain, resume and report progress (a stand-in
trainer, no training); --help shows a recipe's settings; each model folder's config.json is its recipe."""

import importlib
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from conftest import random_strips
from mnistadd import load
from mnistadd.geometry import DIGIT_SHAPE
from train import recipe

ROOT = Path(__file__).resolve().parent.parent
RECIPES = recipe.recipe_names()
FULL_RECIPES = [name for name in RECIPES if "small" in recipe.load(name)]
SMALL_RECIPES = sorted({recipe.load(name)["small"] for name in FULL_RECIPES})
# what shrinks any trainer's run to seconds, where it has the flag (a recipe's own values stay otherwise)
TINY = {"epochs": 1, "steps_per_epoch": 1, "val_size": 8, "batch_size": 8, "filters": 4, "blocks": 2, "dense": 8,
        "hidden": 8, "embedding": 4, "train_fraction": 0.002, "seeds": 1, "starts": 1, "warmup_sums": 16}
PREDICT = {  # each kind of model's predictor on two inputs
    "reader": lambda model: model.predict(random_strips(2)),
    "adder": lambda model: model.predict(np.array([3, 255]), np.array([4, 255])),
    "end2end": lambda model: model.predict(random_strips(2, 1), random_strips(2, 2)),
    "addition": lambda model: model.predict(*(np.zeros((2, model.digits, *DIGIT_SHAPE), np.float32),) * 2),
}


def tiny_flags(trainer, small_mnist_dir):
    known = vars(recipe.parse(trainer, []))
    flags = [word for key, value in TINY.items() if key in known for word in (f"--{key.replace('_', '-')}", str(value))]
    return flags + (["--mnist-dir", str(small_mnist_dir)] if "mnist_dir" in known else [])


@pytest.mark.parametrize("name", RECIPES)
def test_every_recipe_names_its_trainer_settings_and_small_version(name):
    cooked = recipe.load(name)
    for step in cooked["steps"]:  # raises on a setting the trainer does not have
        recipe.parse(cooked["trainer"], [], {key: recipe.expand(value, "x") for key, value in step.items()}, check=False)
    if "small" in cooked:
        small = recipe.load(cooked["small"])
        assert small["trainer"] == cooked["trainer"] and "small" not in small
        assert small["out"].startswith("{runs}/")  # trying things never overwrites a model of models/
    else:
        assert name in SMALL_RECIPES, f"{name} is no recipe's small version"


@pytest.mark.parametrize("name", SMALL_RECIPES)
def test_every_small_recipe_trains_and_writes_a_folder_that_loads(name, models_dir, small_mnist_dir, tmp_path,
                                                                  monkeypatch, capsys):
    """Each recipe's small version, shrunk further by flags, on tiny data: its folder loads through
    mnistadd.load and predicts, and its config.json is the recipe (settings, name, the command)."""
    small = recipe.load(name)
    monkeypatch.setattr(recipe, "MODELS_DIR", models_dir)  # {models}/reader: the tests' tiny reader
    monkeypatch.setattr(recipe, "RUNS_DIR", tmp_path / "runs")
    trainer = importlib.import_module(small["trainer"])
    flags = tiny_flags(trainer, small_mnist_dir)
    trainer.main(["--recipe", small["name"]] + flags)
    folder = tmp_path / "runs" / "models" / small["name"]
    config = json.loads((folder / "config.json").read_text())
    assert config["recipe"]["name"] == small["name"]
    assert config["recipe"]["command"] == " ".join(["python", "-m", small["trainer"], "--recipe", small["name"], *flags])
    assert config["recipe"]["train_seconds"] >= 0
    shrunk = {key.lstrip("-").replace("-", "_") for key in flags[::2]}
    last = {key: recipe.expand(value, str(tmp_path / "runs" / small["name"] / "models" / f"step-{len(small['steps']) - 1}"))
            for key, value in small["steps"][-1].items() if key not in shrunk}
    assert {key: config["training"][key] for key in last} == last
    predicted = PREDICT[config["model"]](load(small["name"], models_dir=folder.parent))
    assert np.asarray(predicted).shape == (2,)
    out = capsys.readouterr().out
    assert all(f"step {k} of {len(small['steps'])}" in out for k in range(1, len(small["steps"]) + 1))


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """A trainer that records each step's arguments instead of training, and a three-step recipe for it."""
    trainer = types.ModuleType("stand_in_trainer")
    trainer.build_parser = lambda: _stand_in_parser()
    trainer.calls = []

    def run(args):
        trainer.calls.append(vars(args).copy())
        if args.seed == trainer.__dict__.get("fail_at"):
            raise KeyboardInterrupt
        Path(args.out).mkdir(parents=True, exist_ok=True)
        return {"train_seconds_this_run": 10 * args.seed}

    trainer.run = run
    monkeypatch.setitem(sys.modules, "stand_in_trainer", trainer)
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "stand_in_trainer.toml").write_text(
        'about = "three steps"\ntrainer = "stand_in_trainer"\ntrain_seconds = 600\n'
        '[settings]\nwidth = 3\n[[steps]]\nseed = 1\n[[steps]]\nseed = 2\nkeep = "{previous}"\n'
        '[[steps]]\nseed = 3\nkeep = "{previous}"\n')
    monkeypatch.setattr(recipe, "RECIPES_DIR", recipes)
    monkeypatch.setattr(recipe, "RUNS_DIR", tmp_path / "runs")
    monkeypatch.setattr(recipe, "MODELS_DIR", tmp_path / "models")
    return trainer


def _stand_in_parser():
    import argparse

    parser = argparse.ArgumentParser(parents=[recipe.common_flags("stand_in_trainer")])
    parser.add_argument("--width", type=int, default=1)
    parser.add_argument("--keep")
    return parser


def test_steps_run_in_order_each_keeping_the_one_before(stand_in, tmp_path, capsys):
    recipe.main(stand_in, ["--width", "5", "--out", str(tmp_path / "model")])
    work = tmp_path / "runs" / "stand_in_trainer"
    assert [call["seed"] for call in stand_in.calls] == [1, 2, 3]
    assert [call["width"] for call in stand_in.calls] == [5, 5, 5]  # a flag overrides the recipe in every step
    assert [call["work_dir"] for call in stand_in.calls] == [str(work / f"step-{k}") for k in (1, 2, 3)]
    assert [call["out"] for call in stand_in.calls] == [str(work / "models" / "step-1"), str(work / "models" / "step-2"),
                                                        str(tmp_path / "model")]
    assert [call["keep"] for call in stand_in.calls] == [None, str(work / "models" / "step-1"), str(work / "models" / "step-2")]
    entry = stand_in.calls[-1]["recipe_entry"]
    assert entry["command"] == f"python -m stand_in_trainer --width 5 --out {tmp_path / 'model'}"
    assert entry["earlier_train_seconds"] == 10 + 20  # and the last step's own seconds are added on writing
    out = capsys.readouterr().out
    assert "step 1 of 3, about 10 min left (as the recipe's recorded run took)" in out
    assert "step 3 of 3, under a minute left (as the steps so far took)" in out


def test_resume_skips_finished_steps_and_goes_on_with_the_interrupted_one(stand_in):
    stand_in.fail_at = 2
    with pytest.raises(KeyboardInterrupt):
        recipe.main(stand_in, [])
    stand_in.fail_at, stand_in.calls[:] = None, []
    recipe.main(stand_in, ["--resume"])
    assert [(call["seed"], call["resume"]) for call in stand_in.calls] == [(2, True), (3, False)]
    assert stand_in.calls[-1]["recipe_entry"]["earlier_train_seconds"] == 10 + 20  # the skipped step's seconds too
    stand_in.calls[:] = []
    recipe.main(stand_in, ["--resume"])  # everything finished: nothing to train
    assert stand_in.calls == []
    recipe.main(stand_in, [])  # without --resume: all again, from scratch
    assert [(call["seed"], call["resume"]) for call in stand_in.calls] == [(1, False), (2, False), (3, False)]


def test_a_recipe_is_checked_against_its_trainer(stand_in):
    with pytest.raises(SystemExit, match="no setting depth"):
        recipe.parse(stand_in, [], {"depth": 2})
    with pytest.raises(SystemExit, match="no recipe 'nothing'"):
        recipe.main(stand_in, ["--recipe", "nothing"])
    recipe.main(stand_in, ["--recipe", "none", "--seed", "7"])  # no recipe: one run over the trainer's own defaults
    assert [(call["seed"], call["width"], "recipe_entry" in call) for call in stand_in.calls] == [(7, 1, False)]


@pytest.mark.parametrize("argv, shown", [
    (["train.reader"], ["training data's seed (default: 7)", "(default: 32)",
                        "step 4: seed=7, keep_members=<the step before's model>", "recipe reader:"]),
    (["train.end2end", "--recipe", "end2end-sum-only"], ["{sum,aux}", "(default: sum)", "recipe end2end-sum-only:"]),
    (["train.adder"], ["(default: lstm)", "(default: aligned)", "--recipe adder-small"]),
])
def test_help_shows_the_recipes_settings_as_defaults(argv, shown, capsys):
    trainer = importlib.import_module(argv[0])
    with pytest.raises(SystemExit):
        trainer.main(argv[1:] + ["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(" ".join(part.split()) in text for part in shown)
    assert str(Path("models") / argv[-1].removeprefix("train.")) in text  # the recipe's model folder, from the repo root


SHIPPED = sorted(path.parent.name for path in (ROOT / "models").glob("*/config.json")
                 if (recipe.RECIPES_DIR / f"{path.parent.name}.toml").exists())


@pytest.mark.parametrize("name", SHIPPED)
def test_each_model_folder_records_the_recipe_that_reproduces_it(name):
    """models/NAME/config.json: "recipe" names the recipe NAME and its one command, and every setting the model
    was trained with ("training", and "kept_members" for the steps before the last) is what the recipe's step
    sets or leaves to the trainer's defaults. Where it wrote and what it started from are the recipe's own."""
    config = json.loads((ROOT / "models" / name / "config.json").read_text())
    cooked = recipe.load(name)
    default = name == cooked["trainer"].rsplit(".", 1)[-1]
    assert config["recipe"]["name"] == name
    assert config["recipe"]["command"] == f"python -m {cooked['trainer']}" + ("" if default else f" --recipe {name}")
    assert config["recipe"].get("train_seconds") == cooked.get("train_seconds")
    runs = [*config.get("kept_members", []), config["training"]]
    assert len(runs) == len(cooked["steps"])
    for step, shipped in zip(cooked["steps"], runs, strict=True):
        settings = vars(recipe.parse(cooked["trainer"], [], {key: recipe.expand(value, "the step before's model")
                                                              for key, value in step.items()}, check=False))
        paths = {"out", "work_dir", "mnist_dir", "recipe", "keep_members", "init_reader", "init"}
        # None: a setting the trainer replaced, e.g. the digit reader's size by --init-reader's architecture
        used = {key: value for key, value in shipped.items() if key not in paths and value is not None}
        assert {key: settings.get(key) for key in used} == used
        for key in paths & set(step):  # what it started from: the shipped folders, relative to the repo root
            assert step[key] == "{previous}" or recipe.expand(step[key]) == [str(ROOT / p) for p in shipped[key]] \
                or recipe.expand(step[key]) == str(ROOT / shipped[key])
