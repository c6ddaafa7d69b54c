"""Share the models and the demo on the Hugging Face Hub.

    python -m mnistadd.hub card models/reader                      # (re)write models/reader/README.md
    python -m mnistadd.hub push models/reader ORG/NAME [--private]   # card, then upload the folder
    python -m mnistadd.hub deploy-space ORG/SPACE [--bundle-models] [--reader-repo ORG/NAME] ...

A model folder (`models/<name>/`, written whole by `mnistadd.training.save_model_folder`) is already
laid out as a Hub model repo: `model.keras`, `config.json`, `metrics.json`,
`history.csv` and the plots. What it lacks is a model card, the repo's `README.md`.
`write_model_card` builds one from those files alone: YAML metadata (`library_name: keras`, license,
tags, and a `model-index` of the measured results, so the Hub shows them) and a body that says what the
model does, what goes in and out, its architecture, its training data, every number in `metrics.json`,
the plots, its limitations and how to load it. The same files always give the same card.

`push` uploads a folder to a model repo; `download` (what `mnistadd.load(name, repo_id=...)` calls)
brings a repo back as a local folder, cached by huggingface_hub, so it also works with
`HF_HUB_OFFLINE=1` once pulled. The token comes from `token=`, else `HF_TOKEN`, else the
`hf auth login` cache. Whatever goes wrong on the way (no token, a rejected token, no network, an
unknown repo) comes back as a `HubError` with a one-line message. `push` rewrites the folder's card
only after the Hub has accepted the token, so a push refused for those reasons leaves the folder as it was.

## The Space

`deploy_space` uploads the Gradio demo to a Space repo: the contents of `space/` (`app.py`, the Space
card `README.md`, `requirements.txt`) at the repo's root, the `mnistadd/` package beside them, and a
`space_config.json` that tells the app where each model comes from:

    {"reader": "ORG/mnistadd-reader", "adder": null, "end2end": null}

A repo id means "load from that Hub model repo"; `null` means "load `models/<name>/` inside the Space",
which `--bundle-models` uploads (what loading, the decline rule, the About tab and the card need) for each trained model given
no repo. A model neither bundled nor given a repo is null too: the app should show it as unavailable.
The app reads the file with `read_space_config()`, where a Space variable `MNISTADD_<NAME>_REPO` (e.g.
`MNISTADD_READER_REPO`) overrides one entry without a new commit; with no file (running locally), every
model is local:

    sources = read_space_config()
    reader = load("reader", repo_id=sources["reader"])   # None: models/reader
"""

import argparse
import csv
import fnmatch
import json
import os
import sys
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx2
from huggingface_hub import (CommitOperationAdd, EvalResult, HfApi, ModelCard, ModelCardData, constants, get_token,
                             snapshot_download)
from huggingface_hub.errors import (HfHubHTTPError, HFValidationError, LocalEntryNotFoundError, OfflineModeIsEnabled,
                                    RepositoryNotFoundError, RevisionNotFoundError)

from mnistadd.paths import MODELS_DIR, REQUIRED_FILES, write_text_atomic

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
SPACE_DIR = ROOT / "space"
MODELS = ("reader", "adder", "end2end")
SPACE_CONFIG_FILE = "space_config.json"
# What a Space needs of a bundled model folder: the model, what its predictor reads (config.json, and the
# reader's calibration.json: without it nothing is declined), the figures About shows (*.json, *.png), the card.
BUNDLED_MODEL_FILES = ("model.keras", "*.json", "README.md", "*.png")
# Never uploaded from a model folder: the atomic writers' temporary files and anything hidden.
IGNORED_FILES = ["*.tmp", ".*"]


class HubError(RuntimeError):
    """A Hub operation failed; the message is one line that says what to do about it."""


# ---------------------------------------------------------------------------------------------------
# The model card
# ---------------------------------------------------------------------------------------------------


class ModelAbout(NamedTuple):
    """What a card says about one kind of model beyond what its files hold."""

    summary: str
    task: tuple  # model-index task: (type, name)
    dataset: tuple  # model-index dataset: (type, name)
    tags: list
    data: str
    usage: str  # the predictor call, after `load`
    limitations: list


ABOUT = {
    "reader": ModelAbout(
        summary="reads the number (0..255) handwritten in a 28x84 strip of one to three MNIST digits. A CNN "
                "gives each of three right-aligned positions (hundreds, tens, units) a distribution over the "
                "ten digits and \"blank\"; the predictor returns the most likely valid number.",
        task=("image-classification", "Reading handwritten numbers"),
        dataset=("mnist", "MNIST digit strips (28x84)"),
        tags=["image-classification", "handwriting-recognition"],
        data="Strips of one to three handwritten digits (numbers 0..255), rendered on the fly "
             "(`mnistadd.data`) from the MNIST training digits minus their last 10 %, which render the "
             "fixed validation set. The MNIST test digits are never used in training.",
        usage="numbers = reader.predict(images)  # (N, 28, 84) raw pixels 0-255 -> (N,) numbers 0..255",
        limitations=[
            "Trained and measured only on strips this project renders from MNIST digits: light ink on a "
            "black background, 28 px high, digits side by side. Other handwriting, scans (dark ink on "
            "paper), other sizes and touching or overlapping digits are out of distribution.",
            "Reads 0..255 only: any strip is read as the most likely number in that range. "
            "`Reader.read` also returns the confidence, worth checking.",
            "The accuracy above is on rendered strips; accuracy on real-world writing is unmeasured.",
        ],
    ),
    "adder": ModelAbout(
        summary="adds two numbers 0..255 given as digit strings: a recurrent encoder-decoder reads the query "
                "\"a+b\" and writes the three digits of the sum (0..510).",
        task=("text2text-generation", "Adding numbers"),
        dataset=("number-pairs", "Pairs of numbers 0..255"),
        tags=["seq2seq", "arithmetic"],
        data="The 65,536 pairs of numbers 0..255, split once into training pairs, a few validation pairs "
             "for early stopping, and held-out pairs that training never sees: accuracy on those says "
             "whether the model learned to add or memorized its table.",
        usage="sums = adder.predict(a, b)  # two (N,) int arrays 0..255 -> (N,) sums",
        limitations=[
            "Adds numbers 0..255 only; the predictor refuses anything else.",
            "A learned model, not arithmetic: below 100 % held-out accuracy it gets some pairs wrong. "
            "It is here to study sequence learning; use `a + b` for sums you rely on.",
        ],
    ),
    "end2end": ModelAbout(
        summary="sums the numbers written in two 28x84 strips with one model: a digit reader (one set of "
                "weights for both strips) reads each strip, and a layer turns the two numbers' distributions "
                "into the distribution of their sum (0..510): exactly and differentiably (`combine: exact`), "
                "or with a learned MLP (`combine: neural`).",
        task=("image-classification", "Adding handwritten numbers"),
        dataset=("mnist", "Pairs of MNIST digit strips (28x84)"),
        tags=["image-classification", "neuro-symbolic"],
        data="Pairs of strips rendered on the fly from the MNIST training digits minus their last 10 % "
             "(which render the validation pairs), labelled with their sum and, with `supervision: aux`, "
             "the two numbers.",
        usage="sums = end2end.predict(images_a, images_b)  # two (N, 28, 84) strip batches -> (N,) sums",
        limitations=[
            "The strips' limitations are the reader's: only strips rendered from MNIST digits, numbers "
            "0..255, were seen in training and measurement.",
            "The sum's distribution is exact given the digits', so its errors are misread digits; trained "
            "on sums alone, the digit reader may also confuse digits that sums cannot tell apart.",
        ],
    ),
    "addition": ModelAbout(
        summary="adds two N-digit numbers, each written with N MNIST digits (most significant first), and was "
                "trained on the multi-digit MNIST-addition benchmark from their sums alone: a LeNet-style CNN "
                "reads every digit, and during training an exact carry-chain layer gives the likelihood of the "
                "observed sum from the 2N digit distributions. The predictor reads each digit's most likely "
                "value and adds the two numbers.",
        task=("image-classification", "Multi-digit MNIST addition"),
        dataset=("mnist", "MNIST addition (N-digit numbers, sums only)"),
        tags=["image-classification", "neuro-symbolic", "mnist-addition"],
        data="The first 54,000 MNIST training digits, shuffled with the run's seed and cut into pairs of "
             "N-digit numbers labelled only with their sum; the last 6,000 cut the same way into validation "
             "sums. Digit labels are never a target; they only measure the test digit accuracy. Test: the "
             "10,000 MNIST test digits cut into 10000 // 2N sums with a fixed seed, and 100 other pairings.",
        usage="sums = addition.predict(digits_a, digits_b)  # two (B, N, 28, 28) digit batches -> (B,) int64 sums",
        limitations=[
            "Only MNIST-like digits (light ink on black, 28x28, centered) were seen in training and measurement.",
            "N is fixed by the model; the digit network inside works for any N, but this predictor refuses others.",
            "A sum is right only if every digit is read right (or errors cancel), so accuracy falls with N "
            "roughly as the digit accuracy to the power 2N.",
        ],
    ),
}

PLOT_CAPTIONS = {
    "history": "Learning curves",
    "filters": "First convolution's filters",
    "activations": "Feature maps of one validation strip",
    "seeds": "Validation sum accuracy of every seed",
}
SPLIT_WORDS = ("validation", "test", "train", "training", "held")


def _read_json(path):
    """A JSON file's content, {} when the file is missing."""
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise HubError(f"{path} is not valid JSON: {error}") from error


def _leaves(mapping, path=()):
    """(key path, value) for each value of a nested dict that is not itself a dict."""
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _leaves(value, path + (str(key),))
        else:
            yield path + (str(key),), value


def _numeric_metrics(metrics):
    """(split, key path, value) for each number in metrics.json, whose top-level keys name splits."""
    for path, value in _leaves(metrics):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            split, key = (path[0], path[1:]) if len(path) > 1 else (None, path)
            yield split, key, value


def _metric_name(split, key):
    """A readable metric name: ("validation", ("val_number_accuracy",)) -> "validation number accuracy"."""
    words = " ".join(key).replace("_", " ").split()
    if words[0] == "val":
        words[0] = "validation"
    if split and words[0] not in SPLIT_WORDS:  # keys like held_out_accuracy name their own split
        words.insert(0, split)
    return " ".join(words)


def _cell(value):
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return json.dumps(value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows])


def _settings_table(settings):
    return _table(("setting", "value"), [(".".join(path), value) for path, value in _leaves(settings)
                                         if value is not None])  # None: a setting left at "not given"


def _describe(value):
    """An input or output contract (a dict or a sentence) as one line."""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_cell(item)}" for key, item in value.items())
    return _cell(value)


def _model_kind(folder, config):
    kind = config.get("model") or folder.name  # models/<name>/ names its model when config.json does not
    if kind not in ABOUT:
        raise HubError(f"{folder}: cannot tell which model this is (config.json 'model' is {config.get('model')!r}; "
                       f"expected one of {', '.join(MODELS)})")
    return kind


def _eval_results(metrics, about):
    """The model-index: the scores (floats) of metrics.json. Integers there are counts (images,
    parameters, seconds), which the card's table shows but which are not results."""
    return [
        EvalResult(task_type=about.task[0], task_name=about.task[1], dataset_type=about.dataset[0],
                   dataset_name=about.dataset[1], dataset_split=split, metric_type=".".join(key),
                   metric_name=_metric_name(split, key), metric_value=value)
        for split, key, value in _numeric_metrics(metrics) if isinstance(value, float)
    ]


def _training_size(training, history_csv):
    """How much training the run did, from its settings and the epochs history.csv recorded."""
    epochs = None
    if history_csv.exists():
        with history_csv.open() as f:
            epochs = sum(1 for _ in csv.DictReader(f))
    if epochs is None:
        return f"At most {training['epochs']} epochs." if "epochs" in training else ""
    size = f"Trained for {epochs} epoch{'s' if epochs != 1 else ''}"
    if "steps_per_epoch" in training and "batch_size" in training:
        examples = epochs * training["steps_per_epoch"] * training["batch_size"]
        size += f" of {training['steps_per_epoch']} steps of {training['batch_size']}: {examples:,} examples drawn"
    return size + "."


def has_int8_kernels(model_file):
    """Whether the saved model keeps Dense kernels in int8 (`mnistadd.training.inference_copy`; folders
    written before it keep float32)."""
    if not model_file.exists():
        return False
    with zipfile.ZipFile(model_file) as archive:
        return '"mode": "int8"' in archive.read("config.json").decode()


def _card_body(kind, about, config, metrics, plots, training_size, repo_id, int8_kernels=False):
    sections = [f"# mnistadd {kind}", f"This model {about.summary}",
                "It is one of the models of **mnistadd**, which reads handwritten multi-digit MNIST "
                "numbers and adds them: the reader (strip -> number), the adder (two numbers -> sum), the "
                "end-to-end model (two strips -> sum) and the MNIST-addition benchmark models (two N-digit "
                "numbers -> sum, learned from sums alone)."]
    contract = [f"- **{part.capitalize()}**: {_describe(config[part])}"
                for part in ("input", "output") if part in config]
    if contract:
        sections += ["## Input and output", "\n".join(contract)]
    if config.get("architecture"):
        sections += ["## Architecture", _settings_table(config["architecture"])]
    sections += ["## Training data", " ".join(filter(None, [about.data, training_size]))]
    if config.get("training"):
        sections += ["The run's settings:", _settings_table(config["training"])]
    kept = config.get("kept_members", [])
    if kept:  # train.reader --keep-members: the first CNNs come from an earlier run, frozen
        sections += [f"These settings trained the last {config['architecture']['members'] - len(kept)} CNNs; the first "
                     f"{len(kept)} were kept unchanged from earlier runs, with these settings:"]
        sections += [_settings_table(settings) for i, settings in enumerate(kept) if settings not in kept[:i]]
    sections.append("## Results")
    rows = [(split or "", "/".join(key), value) for split, key, value in _numeric_metrics(metrics)]
    if rows:
        sections += ["As `metrics.json` records them. The validation split chose when to stop training; the "
                     "other splits (test digits, held-out pairs) were never trained on.",
                     _table(("split", "metric", "value"), rows)]
    else:
        sections.append("No measurements recorded (`metrics.json` is missing or holds no numbers).")
    if plots:
        sections += ["## Plots"] + [f"![{PLOT_CAPTIONS.get(plot.stem, plot.stem.replace('_', ' '))}]({plot.name})"
                                    for plot in plots]
    sections += ["## Limitations", "\n".join(f"- {line}" for line in about.limitations)]
    sections += ["## How to use",
                 "With this project's `mnistadd` package installed (the predictors check their inputs):",
                 "```python\nfrom mnistadd import load\n\n"
                 f'{kind} = load("{kind}", repo_id="{repo_id or "ORG/NAME"}")  # downloaded once, then cached\n'
                 f"{about.usage}\n```",
                 "`model.keras` is a plain Keras 3 file, loadable with `keras.saving.load_model` "
                 "(the end-to-end model's `SumDistribution` layer needs `import mnistadd.end2end` first)."
                 + (" Its Dense kernels are stored in int8 with a scale per unit (Keras post-training "
                    "quantization, which leaves the readings as they were); `mnistadd.training.copy_weights` "
                    "turns them back into float weights to train on." if int8_kernels else "")]
    if config.get("environment"):
        sections += ["## Environment", "Where these numbers came from:", _settings_table(config["environment"])]
    return "\n\n".join(sections) + "\n"


def build_model_card(folder, repo_id=None):
    """The model card of model folder `folder`, built from its files alone. `repo_id`, when known, goes into
    the card's loading example and names the model-index."""
    folder = Path(folder)
    if not folder.is_dir():
        raise HubError(f"{folder} is not a model folder")
    config, metrics = _read_json(folder / "config.json"), _read_json(folder / "metrics.json")
    kind = _model_kind(folder, config)
    about = ABOUT[kind]
    eval_results = _eval_results(metrics, about)
    card_data = ModelCardData(
        library_name="keras",
        license="mit",
        tags=["keras", "mnist", "mnistadd", kind] + about.tags,
        datasets=["mnist"] if about.dataset[0] == "mnist" else None,
        # The model-index's name; without results there is no model-index to name.
        model_name=(repo_id.split("/")[-1] if repo_id else f"mnistadd-{kind}") if eval_results else None,
        eval_results=eval_results or None,
    )
    training_size = _training_size(config.get("training") or {}, folder / "history.csv")
    body = _card_body(kind, about, config, metrics, sorted(folder.glob("*.png")), training_size, repo_id,
                      has_int8_kernels(folder / "model.keras"))
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n{body}")


def write_model_card(folder, repo_id=None):
    """Writes `folder/README.md` (see `build_model_card`) atomically: a reader of the folder sees the old
    card or the new one, never half of one. Returns its path."""
    path = Path(folder) / "README.md"
    write_text_atomic(path, str(build_model_card(folder, repo_id)))
    return path


# ---------------------------------------------------------------------------------------------------
# Talking to the Hub
# ---------------------------------------------------------------------------------------------------


@contextmanager
def _explained(action):
    """Turns what huggingface_hub and the network raise into a HubError whose one line starts with `action`."""
    try:
        yield
    except HFValidationError as error:  # a malformed repo id, refused before any request
        raise HubError(f"{action}: {error}") from error
    except RevisionNotFoundError as error:
        raise HubError(f"{action}: no such revision") from error
    except RepositoryNotFoundError as error:
        raise HubError(f"{action}: repo not found (or private, and the token cannot see it)") from error
    except LocalEntryNotFoundError as error:
        raise HubError(f"{action}: not in the local cache, and the Hub cannot be reached "
                       "(no network, or HF_HUB_OFFLINE is set)") from error
    except HfHubHTTPError as error:
        status = error.response.status_code
        if status == 401:
            raise HubError(f"{action}: the Hub rejected the token (401); set a valid HF_TOKEN or run "
                           "`hf auth login`") from error
        if status == 403:
            raise HubError(f"{action}: the token lacks permission for this repo (403)") from error
        reason = (error.server_message or str(error)).strip().splitlines()
        raise HubError(f"{action}: the Hub answered {status}: {reason[0] if reason else 'no details'}") from error
    except (httpx2.TransportError, OfflineModeIsEnabled) as error:
        raise HubError(f"{action}: cannot reach the Hub at {constants.ENDPOINT} ({type(error).__name__})") from error


def _authenticated_api(token):
    """An HfApi with a token (argument, else HF_TOKEN, else the `hf auth login` cache), or a HubError."""
    token = token or get_token()
    if not token:
        raise HubError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (the token needs write access)")
    return HfApi(token=token)


def _key_metrics(folder):
    """The run's top-level scores, for a commit message: "validation number accuracy 0.9853, ..."."""
    metrics = _read_json(Path(folder) / "metrics.json")
    return ", ".join(f"{_metric_name(split, key)} {value:.4f}" for split, key, value in _numeric_metrics(metrics)
                     if isinstance(value, float) and len(key) == 1)


def push(folder, repo_id, private=False, token=None):
    """Uploads model folder `folder` to the Hub model repo `repo_id`, created if missing, after
    regenerating its card. Returns the commit's URL."""
    folder = Path(folder)
    missing = [name for name in REQUIRED_FILES if not (folder / name).exists()]
    if missing:
        raise HubError(f"{folder} lacks {', '.join(missing)}: not a trained model folder")
    kind = _model_kind(folder, _read_json(folder / "config.json"))
    api = _authenticated_api(token)
    with _explained(f"push {folder} to {repo_id}"):
        # Creating the repo is the first request: it proves the token and the network before the card is rewritten.
        api.create_repo(repo_id, repo_type="model", exist_ok=True, private=private)
        write_model_card(folder, repo_id)
        # The repo mirrors the folder, which is always written whole: files it no longer has are deleted.
        commit = api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="model",
                                   commit_message=f"Upload {kind}: {_key_metrics(folder) or 'no metrics'}",
                                   ignore_patterns=IGNORED_FILES, delete_patterns=["*"])
    return commit.commit_url


def download(repo_id, revision=None):
    """The local folder holding Hub model repo `repo_id` at `revision` (default: main), downloaded into
    huggingface_hub's cache on first use; with HF_HUB_OFFLINE=1 or no network, the cached copy."""
    with _explained(f"download {repo_id}" + (f" at {revision}" if revision else "")):
        return Path(snapshot_download(repo_id, revision=revision))


# ---------------------------------------------------------------------------------------------------
# The Space
# ---------------------------------------------------------------------------------------------------


def read_space_config(path=None):
    """Where the Space loads each model from: {"reader": repo id or None, ...}, None meaning
    `models/<name>/` beside the app. Read from `path` (default: space_config.json at the Space's root),
    then MNISTADD_<NAME>_REPO variables override; no file means every model is local."""
    path = Path(path) if path else ROOT / SPACE_CONFIG_FILE
    config = _read_json(path)
    return {name: os.environ.get(f"MNISTADD_{name.upper()}_REPO") or config.get(name) for name in MODELS}


def _space_files(space_dir, models_dir, bundled):
    """{path in the Space repo: local file} for the app, the package and the bundled model folders."""
    files = {path.relative_to(space_dir).as_posix(): path for path in sorted(space_dir.rglob("*"))
             if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith(".")}
    files.update({f"mnistadd/{path.name}": path for path in sorted(PACKAGE_DIR.glob("*.py"))})
    for name in bundled:
        for path in sorted((models_dir / name).iterdir()):
            if any(fnmatch.fnmatch(path.name, pattern) for pattern in BUNDLED_MODEL_FILES):
                files[f"models/{name}/{path.name}"] = path
    return files


def deploy_space(space_repo_id, model_repos=None, bundle_models=False, private=False, token=None,
                 space_dir=SPACE_DIR, models_dir=MODELS_DIR):
    """Uploads the Gradio demo to Space repo `space_repo_id`, created if missing: `space_dir`'s files, the
    mnistadd package and space_config.json, which maps each model to its Hub repo in `model_repos`
    ({"reader": "ORG/NAME", ...}) or to null. With `bundle_models`, the models without a repo are uploaded
    from `models_dir` (those trained). Returns the commit's URL."""
    space_dir, models_dir, model_repos = Path(space_dir), Path(models_dir), dict(model_repos or {})
    if not space_dir.is_dir() or not any(space_dir.iterdir()):
        raise HubError(f"{space_dir} is missing or empty: no Space app to deploy")
    unknown = sorted(set(model_repos) - set(MODELS))
    if unknown:
        raise HubError(f"unknown models {unknown}; expected some of {', '.join(MODELS)}")
    space_config = {name: model_repos.get(name) for name in MODELS}
    bundled = [name for name, repo in space_config.items()
               if bundle_models and not repo and (models_dir / name / "model.keras").exists()]
    if bundle_models and not bundled and None in space_config.values():
        raise HubError(f"--bundle-models: no trained model folder in {models_dir}")
    operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(local))
                  for path, local in _space_files(space_dir, models_dir, bundled).items() if path != SPACE_CONFIG_FILE]
    operations.append(CommitOperationAdd(path_in_repo=SPACE_CONFIG_FILE,
                                         path_or_fileobj=(json.dumps(space_config, indent=2) + "\n").encode()))
    api = _authenticated_api(token)
    sources = ", ".join(f"{name}: {repo or (f'models/{name}' if name in bundled else 'none')}"
                        for name, repo in space_config.items())
    with _explained(f"deploy the Space {space_repo_id}"):
        api.create_repo(space_repo_id, repo_type="space", space_sdk="gradio", exist_ok=True, private=private)
        commit = api.create_commit(space_repo_id, operations, repo_type="space",
                                   commit_message=f"Deploy the demo ({sources})")
    return commit.commit_url


# ---------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mnistadd.hub", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    card = commands.add_parser("card", help="(re)write a model folder's README.md")
    card.add_argument("folder")
    card.add_argument("--repo-id", help="the repo the card is for (its loading example)")
    push_command = commands.add_parser("push", help="upload a model folder to a Hub model repo")
    push_command.add_argument("folder")
    push_command.add_argument("repo_id", metavar="ORG/NAME")
    push_command.add_argument("--private", action="store_true")
    space = commands.add_parser("deploy-space", help="upload the Gradio demo to a Space")
    space.add_argument("space_repo_id", metavar="ORG/SPACE")
    space.add_argument("--bundle-models", action="store_true", help="upload models/<name>/ for models given no repo")
    for name in MODELS:
        space.add_argument(f"--{name}-repo", metavar="ORG/NAME", help=f"Hub model repo the Space loads the {name} from")
    space.add_argument("--private", action="store_true")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.command == "card":
            print(f"wrote {write_model_card(args.folder, args.repo_id)}")
        elif args.command == "push":
            print(push(args.folder, args.repo_id, private=args.private))
        else:
            model_repos = {name: getattr(args, f"{name}_repo") for name in MODELS if getattr(args, f"{name}_repo")}
            print(deploy_space(args.space_repo_id, model_repos, args.bundle_models, args.private))
    except HubError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
