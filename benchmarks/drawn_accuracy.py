"""The reader's accuracy on numbers given the way a person gives them, read through `to_strip`, next to
its accuracy on the generator's strips of the same numbers.

    python -m benchmarks.drawn_accuracy [--numbers 2000] [--models-dir models] [--mnist-dir DIR]
                                        [--out models/reader/drawn_accuracy.json | none]
    python -m benchmarks.drawn_accuracy --split val --numbers 4000 --target-heights 20 21 22 23 24 \
                                        --out experiments/to_strip_target_height.json

A "drawn" image is made from a generator strip of MNIST test digits ("clean" cut, so each digit is whole
and digits are at least 4 px apart), redrawn as a person would give it. `--split val` draws validation
digits instead: what to_strip's settings are chosen on (`--target-heights`: the drawings read through
to_strip at each ink height, `drawn_to_strip_by_target_height`). The drawing is
`mnistadd.drawing.draw_like_a_person`.

Reported accuracies (the most likely valid number equals the true one):

- `course_strips`, `clean_strips`: the generator's strips themselves ("course" is the test setting;
  "clean" uses the same digits and warps as the drawings);
- `drawn_to_strip`: the drawings through `mnistadd.preprocess.to_strip`, as the Space reads them;
- `drawn_naive_resize`: the drawings simply resized to 28x84 with the ink made high, without to_strip;
- `drawn_centered_by_box`, `drawn_centered_by_mass`: to_strip's output shifted so that both axes are
  centered by the ink's bounding box, or both by its center of mass (to_strip centers columns by box
  and rows by mass, as the training strips are): which placement reads best.
"""

import argparse
import json
import time

import numpy as np
from PIL import Image

from mnistadd.api import load, model_folder
from mnistadd.data import StripRenderer
from mnistadd.drawing import CANVAS, draw_like_a_person
from mnistadd.geometry import STRIP_HEIGHT as HEIGHT
from mnistadd.geometry import STRIP_WIDTH as WIDTH
from mnistadd.io import write_json
from mnistadd.preprocess import TARGET_HEIGHT, to_strip


def naive_strip(picture):
    """The drawing squeezed to 28x84 with the ink made high: what the reader would get without to_strip."""
    gray = np.asarray(Image.fromarray(picture).resize((WIDTH, HEIGHT), Image.BILINEAR), np.float32)
    return 255 - gray if np.median(gray) > 127 else gray


def recentered(strip, by):
    """`strip` shifted so its ink is centered on both axes by bounding box ("box") or center of mass ("mass")."""
    ys, xs = np.nonzero(strip)
    if by == "box":
        center_y, center_x = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
    else:
        weights = strip[ys, xs]
        center_y, center_x = ys @ weights / weights.sum(), xs @ weights / weights.sum()
    dy = int(np.clip(round((HEIGHT - 1) / 2 - center_y), -ys.min(), HEIGHT - 1 - ys.max()))
    dx = int(np.clip(round((WIDTH - 1) / 2 - center_x), -xs.min(), WIDTH - 1 - xs.max()))
    return np.roll(strip, (dy, dx), axis=(0, 1))  # the clip keeps the ink from wrapping around


def accuracy(reader, strips, numbers):
    return round(float(np.mean(reader.predict(np.stack(strips)) == numbers)), 4)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--numbers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models-dir", help="folder holding reader/ (default: models/ or $MNISTADD_MODELS_DIR)")
    parser.add_argument("--mnist-dir")
    parser.add_argument("--split", choices=["test", "val"], default="test",
                        help="MNIST digits to draw: test (the figure reported) or validation (to choose settings on)")
    parser.add_argument("--target-heights", type=float, nargs="+",
                        help="also read the drawings through to_strip at each of these ink heights (px)")
    parser.add_argument("--out", default=None, help='JSON file (default, test split only: <models-dir>/reader/drawn_accuracy.json; '
                                                     '"none": print only)')
    args = parser.parse_args(argv)
    if args.out is None and args.split != "test":
        parser.error("--split val measures what settings are chosen on, not the reader's figure: name its file with --out")

    reader = load("reader", models_dir=args.models_dir)
    rng = np.random.default_rng(args.seed)
    numbers = rng.integers(0, 256, args.numbers)
    seed = np.array([args.seed, 1])
    renderers = {cut: StripRenderer.from_split(args.split, args.mnist_dir, cut=cut) for cut in ("course", "clean")}
    course, clean = (renderers[cut].render(numbers, seed).numpy() for cut in ("course", "clean"))
    pictures = [draw_like_a_person(strip, rng) for strip in clean]
    started = time.perf_counter()
    drawn = [to_strip(picture) for picture in pictures]
    to_strip_ms = (time.perf_counter() - started) / len(pictures) * 1000

    report = {
        "numbers": args.numbers,
        "split": args.split,
        "seed": args.seed,
        "canvas": list(CANVAS),
        "accuracy": {
            "course_strips": accuracy(reader, course, numbers),
            "clean_strips": accuracy(reader, clean, numbers),
            "drawn_to_strip": accuracy(reader, drawn, numbers),
            "drawn_naive_resize": accuracy(reader, [naive_strip(p) for p in pictures], numbers),
            "drawn_centered_by_box": accuracy(reader, [recentered(s, "box") for s in drawn], numbers),
            "drawn_centered_by_mass": accuracy(reader, [recentered(s, "mass") for s in drawn], numbers),
        },
        "to_strip_ms_per_image": round(to_strip_ms, 2),
        # rows from the first to the last with any ink: what to_strip's target height is compared with
        "course_strips_ink_height_median": float(np.median([np.ptp(np.flatnonzero(s.any(axis=1))) + 1 for s in course])),
    }
    if args.target_heights:
        report["drawn_to_strip_by_target_height"] = {
            f"{height:g}": report["accuracy"]["drawn_to_strip"] if height == TARGET_HEIGHT  # measured above
            else accuracy(reader, [to_strip(p, target_height=height) for p in pictures], numbers)
            for height in args.target_heights}
    print(json.dumps(report, indent=1))
    if args.out != "none":
        write_json(args.out or model_folder("reader", models_dir=args.models_dir) / "drawn_accuracy.json", report)


if __name__ == "__main__":
    main()
