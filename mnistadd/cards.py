"""Model cards: the README.md of a model folder, which is also its Hugging Face model repo's card.

    python -m mnistadd.hub card models/reader      # (re)write models/reader/README.md

`write_model_card` builds the card from the folder's files alone: YAML metadata (`library_name: keras`,
license, tags, and a `model-index` of the measured accuracies, so the Hub shows them) and a body
(templates/model_card.md.j2) that says what the model does, what goes in and out, its architecture, its
training data, the one command that reproduces it (config.json's "recipe"), every number in
`metrics.json`, the plots, its limitations, how to load it, and the TensorFlow and Keras versions it was
saved with. The same files always give the same card.
"""

import json
import re
import zipfile
from pathlib import Path
from typing import NamedTuple

import jinja2
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from mnistadd.io import read_json, write_text_atomic
from mnistadd.tables import markdown_table

TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("mnistadd", "templates"), trim_blocks=True,
                               keep_trailing_newline=True, autoescape=False)


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
KEY_WORDS = {"course_val": "course strips"}  # the course's own strips of the validation digits
# A model-index result is an accuracy of this model: not a spread over seeds, not the reader + adder
# pipeline it is compared with, not the figure before its training started.
NOT_RESULTS = re.compile(r"(_std$|^pipeline_|_at_start$)")


def _leaves(mapping, path=()):
    """(key path, value) for each value of a nested dict that is not itself a dict."""
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _leaves(value, path + (str(key),))
        else:
            yield path + (str(key),), value


def numeric_metrics(metrics):
    """(split, key path, value) for each number in metrics.json, whose top-level keys name splits."""
    for path, value in _leaves(metrics):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            split, key = (path[0], path[1:]) if len(path) > 1 else (None, path)
            yield split, key, value


def is_accuracy(key):
    """Whether a metrics.json key path names one of this model's accuracies (an exact-match rate), the
    only figures the model-index publishes: not seconds, counts or fractions such as `lucky_fraction`."""
    return "accuracy" in key[-1] and not NOT_RESULTS.search(key[-1])


def metric_name(split, key):
    """A readable metric name: ("validation", ("val_number_accuracy",)) -> "validation number accuracy"."""
    text = " ".join(key)
    for phrase, words in KEY_WORDS.items():
        text = text.replace(phrase, words)
    words = text.replace("_", " ").split()
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
    return markdown_table(header, [[_cell(value) for value in row] for row in rows])


def _settings_table(settings):
    return _table(("setting", "value"), [(".".join(path), value) for path, value in _leaves(settings)
                                         if value is not None])  # None: a setting left at "not given"


def _describe(value):
    """An input or output contract (a dict or a sentence) as one line."""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_cell(item)}" for key, item in value.items())
    return _cell(value)


def model_kind(folder, config):
    """Which kind of model (a key of ABOUT) a folder holds, or a ValueError that says why not."""
    kind = config.get("model") or Path(folder).name  # models/<name>/ names its model when config.json does not
    if kind not in ABOUT:
        raise ValueError(f"{folder}: cannot tell which model this is (config.json 'model' is "
                         f"{config.get('model')!r}; expected one of {', '.join(ABOUT)})")
    return kind


def _eval_results(metrics, about):
    """The model-index: the accuracies of metrics.json (`is_accuracy`)."""
    return [
        EvalResult(task_type=about.task[0], task_name=about.task[1], dataset_type=about.dataset[0],
                   dataset_name=about.dataset[1], dataset_split=split, metric_type=".".join(key),
                   metric_name=metric_name(split, key), metric_value=value)
        for split, key, value in numeric_metrics(metrics) if isinstance(value, float) and is_accuracy(key)
    ]


def _training_size(training, history_csv):
    """How much training the run did, from its settings and the epochs history.csv recorded."""
    if not history_csv.exists():
        return f"At most {training['epochs']} epochs." if "epochs" in training else ""
    epochs = max(len(history_csv.read_text().splitlines()) - 1, 0)
    size = f"Trained for {epochs} epoch{'s' if epochs != 1 else ''}"
    if "steps_per_epoch" in training and "batch_size" in training:
        examples = epochs * training["steps_per_epoch"] * training["batch_size"]
        size += f" of {training['steps_per_epoch']} steps of {training['batch_size']}: {examples:,} examples drawn"
    return size + "."


def _duration(seconds):
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def has_int8_kernels(model_file):
    """Whether the saved model keeps Dense kernels in int8 (`mnistadd.training.inference_copy`; folders
    written before it keep float32)."""
    if not model_file.exists():
        return False
    with zipfile.ZipFile(model_file) as archive:
        return '"mode": "int8"' in archive.read("config.json").decode()


def _kept_members(config):
    """train.reader --keep-members: the first CNNs come from earlier runs, frozen; their settings."""
    kept = config.get("kept_members", [])
    if not kept:
        return None
    return {"count": len(kept), "trained": config["architecture"]["members"] - len(kept),
            "tables": [_settings_table(settings) for i, settings in enumerate(kept) if settings not in kept[:i]]}


def _card_body(folder, kind, config, metrics, repo_id):
    environment = config.get("environment") or {}
    recipe = config.get("recipe")
    if recipe:
        recipe = {**recipe, "duration": _duration(recipe["train_seconds"]) if recipe.get("train_seconds") else None}
    versions = " and ".join(f"{name} {environment[key]}" for key, name in (("tensorflow", "TensorFlow"), ("keras", "Keras"))
                            if environment.get(key))
    rows = [(split or "", "/".join(key), value) for split, key, value in numeric_metrics(metrics)]
    return TEMPLATES.get_template("model_card.md.j2").render(
        kind=kind, about=ABOUT[kind], repo_id=repo_id, recipe=recipe, versions=versions,
        contract=[(part, _describe(config[part])) for part in ("input", "output") if part in config],
        architecture=config.get("architecture") and _settings_table(config["architecture"]),
        training=config.get("training") and _settings_table(config["training"]),
        training_size=_training_size(config.get("training") or {}, folder / "history.csv"),
        kept=_kept_members(config), results=rows and _table(("split", "metric", "value"), rows),
        plots=[(PLOT_CAPTIONS.get(plot.stem, plot.stem.replace("_", " ")), plot.name)
               for plot in sorted(folder.glob("*.png"))],
        int8_kernels=has_int8_kernels(folder / "model.keras"),
        h5=(folder / "model.h5").exists() and config.get("h5"),
        environment=environment and _settings_table(environment))


def build_model_card(folder, repo_id=None):
    """The model card of model folder `folder`, built from its files alone. `repo_id`, when known, goes into
    the card's loading example and names the model-index."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a model folder")
    config, metrics = read_json(folder / "config.json", default={}), read_json(folder / "metrics.json", default={})
    kind = model_kind(folder, config)
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
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n{_card_body(folder, kind, config, metrics, repo_id)}")


def write_model_card(folder, repo_id=None):
    """Writes `folder/README.md` (see `build_model_card`) atomically: a reader of the folder sees the old
    card or the new one, never half of one. Returns its path."""
    path = Path(folder) / "README.md"
    write_text_atomic(path, str(build_model_card(folder, repo_id)))
    return path
