"""Recipes: the settings each model in `models/` was trained with, as files (`train/recipes/<name>.toml`),
and the runner that trains them, step by step.

    python -m train.reader                                 # the recipe "reader": reproduces models/reader
    python -m train.end2end --recipe end2end-sum-only      # another recipe of the same trainer
    python -m train.reader --recipe reader-small           # the same design in minutes, for trying things
    python -m train.reader --epochs 10                     # a flag overrides the recipe's value, in every step
    python -m train.reader --resume                        # finished steps are skipped, the interrupted one goes on
    python -m train.reader --recipe none --members 2       # no recipe: the trainer's own defaults and the flags

A recipe file is TOML:

    about = "The shipped reader: ..."   # one line, shown by --help
    trainer = "train.reader"            # the module that trains it
    small = "reader-small"              # its small version (a small recipe names none)
    out = "{runs}/models/reader-small"  # optional: the model folder it writes; default {models}/<name>
    train_seconds = 15768               # optional: what all its steps took on 2 CPU cores (for the time left)

    [settings]                          # the trainer's flags by their argparse names (keep_members for
    filters = 32                        # --keep-members), typed as TOML: 32, 1.0, true, "text", [...]

    [[steps]]                           # optional: runs one after another, each over [settings]
    seed = 4
    [[steps]]
    seed = 5
    keep_members = "{previous}"         # the model folder of the step before

Strings may name `{models}` (`mnistadd.paths.MODELS_DIR`), `{runs}` (`RUNS_DIR`) and `{previous}`. A flag
given on the command line overrides the recipe's value in every step. Each step runs in its own work
directory, `<work dir>/step-K` (a recipe of one step: the work dir itself, default `runs/<name>`); all
steps but the last write their model folder to `<work dir>/models/step-K`, the last to `--out`. A finished
step leaves `done.json` in its work directory: with `--resume` the steps finished before are skipped and the
first unfinished one continues where it stopped (the trainer's own `--resume`). Before each step a line says
which step of how many, and about how long is left: from the steps timed so far, or from `train_seconds`.

The model folder's config.json then holds the last step's settings ("training") and "recipe": its name,
the one command that reproduces the folder and the training seconds of all its steps
(`mnistadd.training.finish_training`).

A trainer joins the machinery in four parts (train/reader.py is one):

- `build_parser()`: its argparse parser, `parents=[common_flags(NAME)]` (and `data_flags()` for one that
  reads MNIST), `formatter_class=HelpFormatter`, a help text on every flag (so `--help` shows its default);
- `check_args(parser, args)` (optional): what argparse cannot check alone, returning the args;
- `run(args)`: trains one step and, unless `args.out` is "none", writes the folder through `finish_training`;
  returns the step's validation metrics, with `train_seconds_this_run` (or `train_seconds`);
- `main(argv=None)`: `recipe.main(sys.modules[__name__], argv)`; `parse_args(argv=None)`:
  `recipe.parse(sys.modules[__name__], argv)`, the trainer's own defaults without a recipe (sweeps, tests).
  `DEFAULT_RECIPE` names the recipe that runs without `--recipe` (default: the module's last name, "reader"
  for train.reader).
"""

import argparse
import importlib
import shlex
import sys
import time
import tomllib
from pathlib import Path

from mnistadd.io import read_json, write_json
from mnistadd.paths import MODELS_DIR, RUNS_DIR

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"
NO_RECIPE = "none"
SHOWN_PREVIOUS = "<the step before's model>"  # what --help shows for {previous}
RUN_FLAGS = ("--resume", "--private", "--push-to-hub", "--recipe")  # how a run goes, not what it trains


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The docstring as written, and each flag's default (with a recipe: the recipe's) after its help; none
    for switches and unset flags."""

    def _get_help_string(self, action):
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def common_flags(name=None):
    """The flags every trainer has: the recipe, where it writes, resuming, the Hub, the seed. `name` gives
    the default model folder and work directory (models/NAME, runs/NAME)."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument("--recipe", default=name, help=f'a recipe of train/recipes/, or "{NO_RECIPE}" for the '
                                                      "trainer's own defaults")
    flags.add_argument("--seed", type=int, default=0, help="weights' and training data's seed")
    flags.add_argument("--out", default=str(MODELS_DIR / name) if name else None,
                       help='the model folder to write, or "none" to write none')
    flags.add_argument("--work-dir", default=str(RUNS_DIR / name) if name else None,
                       help="checkpoints and history while training (a step of several: its step-K folder)")
    flags.add_argument("--resume", action="store_true", help="go on with an interrupted run in the work dir")
    flags.add_argument("--push-to-hub", metavar="ORG/NAME", help="push the finished model folder to this Hub repo")
    flags.add_argument("--private", action="store_true", help="make the pushed Hub repo private")
    return flags


def data_flags():
    """The flags of the trainers that read MNIST."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument("--mnist-dir", help="MNIST's folder (default: MNISTADD_MNIST_DIR, then Keras' copy)")
    flags.add_argument("--train-digits", type=int, help="train on the first N training digits only (default: all 54,000)")
    return flags


def recipe_names(trainer=None):
    """The recipes in train/recipes/, or those of one trainer module."""
    return sorted(path.stem for path in RECIPES_DIR.glob("*.toml") if trainer in (None, load(path.stem)["trainer"]))


def load(name):
    """A recipe as a dict: its file's keys, with "name" and "steps" (at least one, each over [settings])."""
    path = RECIPES_DIR / f"{name}.toml"
    if not path.exists():
        raise SystemExit(f"no recipe {name!r}: train/recipes/ has {', '.join(recipe_names())}")
    with path.open("rb") as f:
        recipe = tomllib.load(f)
    missing = {"about", "trainer"} - set(recipe)
    if missing:
        raise SystemExit(f"{path} lacks {', '.join(sorted(missing))}")
    settings = recipe.get("settings", {})
    recipe.update(name=name, steps=[{**settings, **step} for step in recipe.get("steps", [{}])])
    return recipe


def expand(value, previous=None):
    """A recipe value with {models}, {runs} and {previous} (the step before's model folder) filled in."""
    if isinstance(value, list):
        return [expand(item, previous) for item in value]
    if not isinstance(value, str):
        return value
    if "{previous}" in value and previous is None:
        raise SystemExit(f"{value!r}: the first step has no step before it")
    return value.format(models=MODELS_DIR, runs=RUNS_DIR, previous=previous)


def parse(trainer, argv=None, defaults=None, epilog=None, check=True):
    """The trainer's arguments: `argv` over `defaults` (a recipe step's settings) over its own defaults;
    `check`: with the trainer's own checks (`check_args`)."""
    trainer = importlib.import_module(trainer) if isinstance(trainer, str) else trainer
    parser = trainer.build_parser()
    if defaults:
        unknown = set(defaults) - set(vars(parser.parse_args([])))
        if unknown:
            raise SystemExit(f"{module_name(trainer)} has no setting {', '.join(sorted(unknown))}")
        parser.set_defaults(**defaults)
    parser.epilog = epilog
    args = parser.parse_args(argv)
    return trainer.check_args(parser, args) if check and hasattr(trainer, "check_args") else args


def command(recipe, trainer, argv):
    """The one command line that trains this recipe with these flags (those of how it runs left out)."""
    words = ["python", "-m", module_name(trainer)]
    if recipe["name"] != default_recipe(trainer):
        words += ["--recipe", recipe["name"]]
    flags, words_left = [], iter(argv)
    for word in words_left:
        name = word.split("=")[0]
        if name in RUN_FLAGS:
            if name in ("--push-to-hub", "--recipe") and "=" not in word:
                next(words_left, None)  # and its value
            continue
        flags.append(word)
    return shlex.join(words + flags)


def module_name(trainer):
    """The trainer's module name, also when it runs as `python -m` (where its __name__ is "__main__")."""
    return trainer.__spec__.name if trainer.__name__ == "__main__" else trainer.__name__


def default_recipe(trainer):
    return getattr(trainer, "DEFAULT_RECIPE", module_name(trainer).rsplit(".", 1)[-1])


def duration(seconds):
    """Seconds in words: "under a minute", "about 12 min", "about 4 h 23 min"."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    return f"about {minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"about {minutes} min"


def step_seconds(metrics):
    return metrics.get("train_seconds_this_run", metrics.get("train_seconds", 0))


def help_text(recipe):
    """The recipe as --help shows it below the flags, whose defaults are its last step's settings."""
    lines = [f"recipe {recipe['name']}: {recipe['about']}"]
    if len(recipe["steps"]) > 1:
        lines.append(f"{len(recipe['steps'])} steps, the defaults above are the last one's:")
        lines += [f"  step {k}: " + ", ".join(f"{key}={expand(value, SHOWN_PREVIOUS)}" for key, value in step.items()
                                             if key not in recipe.get("settings", {}))
                  for k, step in enumerate(recipe["steps"], 1)]
    if "train_seconds" in recipe:
        lines.append(f"{duration(recipe['train_seconds'])} of training on 2 CPU cores")
    if "small" in recipe:
        lines.append(f"the same design in minutes: --recipe {recipe['small']}")
    return "\n".join(lines)


def main(trainer, argv=None):
    """Runs the recipe that `--recipe` names (default: the trainer's) with the flags in `argv`."""
    trainer = importlib.import_module(trainer) if isinstance(trainer, str) else trainer
    argv = sys.argv[1:] if argv is None else list(argv)
    picker = argparse.ArgumentParser(add_help=False)
    picker.add_argument("--recipe", default=default_recipe(trainer))
    name = picker.parse_known_args(argv)[0].recipe
    if name == NO_RECIPE:
        return trainer.run(parse(trainer, argv))
    recipe = load(name)
    if recipe["trainer"] != module_name(trainer):
        raise SystemExit(f"recipe {name} is trained by {recipe['trainer']}: python -m {recipe['trainer']} --recipe {name}")
    paths = {"recipe": name, "out": expand(recipe.get("out", "{models}/" + name)), "work_dir": str(RUNS_DIR / name)}
    shown = {**paths, **{key: expand(value, SHOWN_PREVIOUS) for key, value in recipe["steps"][-1].items()}}
    # where to write and whether to resume, as the flags and the recipe say; --help shows the last step
    top = parse(trainer, argv, shown, help_text(recipe), check=False)
    return run_steps(trainer, recipe, argv, top)


def run_steps(trainer, recipe, argv, top):
    """Every step of `recipe` in turn (see the module's docstring); returns the last step's metrics."""
    steps, work_dir = recipe["steps"], Path(top.work_dir)
    step_dirs = [work_dir / f"step-{k}" for k in range(1, len(steps) + 1)] if len(steps) > 1 else [work_dir]
    outs = [str(work_dir / "models" / f"step-{k}") for k in range(1, len(steps))] + [top.out]
    resuming, timed, earlier_seconds, metrics = top.resume, [], 0, None
    for k, (step, step_dir, out) in enumerate(zip(steps, step_dirs, outs, strict=True), 1):
        marker = step_dir / "done.json"
        if resuming and marker.exists():
            done = read_json(marker)
            earlier_seconds += done["train_seconds"]
            print(f"recipe {recipe['name']}: step {k} of {len(steps)} finished before ({done['seconds']} s), skipped")
            continue
        per_step = sum(timed) / len(timed) if timed else recipe.get("train_seconds", 0) / len(steps)
        left = f", {duration(per_step * (len(steps) - k + 1))} left" if per_step else ""
        source = " (as the steps so far took)" if timed else " (as the recipe's recorded run took)" if left else ""
        print(f"recipe {recipe['name']}: step {k} of {len(steps)}{left}{source}", flush=True)
        previous = outs[k - 2] if k > 1 else None
        args = parse(trainer, argv, {key: expand(value, previous) for key, value in step.items()})
        args.recipe, args.work_dir, args.out = recipe["name"], str(step_dir), out
        args.resume = resuming  # only the first unfinished step can have an interrupted run to go on with
        args.recipe_entry = {"name": recipe["name"], "command": command(recipe, trainer, argv),
                             "earlier_train_seconds": earlier_seconds}
        if k < len(steps):
            args.push_to_hub = None  # only the finished model goes to the Hub
        marker.unlink(missing_ok=True)
        started = time.time()
        metrics = trainer.run(args)
        timed.append(time.time() - started)
        earlier_seconds += step_seconds(metrics)
        write_json(marker, {"seconds": round(timed[-1]), "train_seconds": step_seconds(metrics), "out": out})
        resuming = False
    print(f"recipe {recipe['name']}: {len(steps)} step{'s' * (len(steps) > 1)} done, {earlier_seconds} s of training")
    return metrics
