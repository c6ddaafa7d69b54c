"""The reader on phone photos of numbers handwritten on paper, through the app's upload path.

    python -m benchmarks.photo_accuracy [--split test] [--count 200] [--seed 0] [--models-dir models]
                                        [--mnist-dir DIR] [--out experiments/photo_accuracy.json | none]
    python -m benchmarks.photo_accuracy --split val --out experiments/photo_accuracy_val.json

Each photo is a random number 0..255 written with MNIST digits ("clean" cut) and photographed by
`mnistadd.drawing.photo_of_number`: paper and pens of many kinds, light falloff, shadows, ruled and
squared paper, the table or a finger at the edge, glare, a turned and tilted page, blur, noise, JPEG,
phone sizes, some stored sideways. `--split val` photographs validation digits: what the foreground
step's settings (`mnistadd.preprocess`) are chosen on; the test digits give the reported figure.

Each photo goes the way an upload goes in the app: its JPEG bytes through `to_strip`, then the reader's
`read_or_decline`. A photo is read right, declined (the reader declines, or `to_strip` answers a message:
several lines of writing, nothing like handwriting) or read wrong. Times per photo: `to_strip` (decoding
included) and the reader's own call on its strip, and their ratio, since a shared machine's times wander;
and, for the largest photos (4032x3024), `to_strip` beside a plain full-size decode of the same file.
"""

import argparse
import io
import json
import time
from collections import defaultdict

import numpy as np
from PIL import Image

from mnistadd.api import load
from mnistadd.data import StripRenderer
from mnistadd.drawing import PHOTO_SIZES, photos
from mnistadd.io import write_record
from mnistadd.preprocess import to_strip
from mnistadd.training import environment

CONDITIONS = ("pen", "paper", "edge", "shadow", "glare", "orientation")


def read_photo(reader, jpeg):
    """(outcome: the number read, or None when declined; the message when to_strip gave one;
    to_strip's seconds; the reader's seconds)."""
    started = time.perf_counter()
    try:
        strip = to_strip(jpeg)
    except ValueError as error:
        return None, str(error), time.perf_counter() - started, None
    prepared = time.perf_counter()
    (number,), _, (declined,), _ = reader.read_or_decline(strip[None])
    return (None if declined else int(number)), None, prepared - started, time.perf_counter() - prepared


def decode_seconds(jpeg):
    started = time.perf_counter()
    Image.open(io.BytesIO(jpeg)).convert("RGB")
    return time.perf_counter() - started


def fraction(flags):
    return round(float(np.mean(flags)), 4) if len(flags) else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["test", "val"], default="test",
                        help="MNIST digits to write: test (the figure reported) or validation (to choose settings on)")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models-dir", help="folder holding reader/ (default: models/ or $MNISTADD_MODELS_DIR)")
    parser.add_argument("--mnist-dir")
    parser.add_argument("--out", default=None, help='JSON file (default, test split only: experiments/photo_accuracy.json; '
                                                     '"none": print only)')
    args = parser.parse_args(argv)
    if args.out is None and args.split != "test":
        parser.error("--split val measures what settings are chosen on, not the reported figure: name its file with --out")

    renderer = StripRenderer.from_split(args.split, args.mnist_dir, cut="clean")
    started = time.perf_counter()
    shots = photos(args.count, renderer, np.random.default_rng(args.seed))
    simulate_seconds = time.perf_counter() - started
    reader = load("reader", models_dir=args.models_dir)
    reader.read_or_decline(np.zeros((1, 28, 84), np.float32))  # compiles the reader's call

    outcomes, messages, prepare, read = [], defaultdict(int), [], []
    largest = {"to_strip": [], "decode": []}
    for jpeg, number, conditions in shots:
        answer, message, prepare_seconds, read_seconds = read_photo(reader, jpeg)
        outcomes.append("declined" if answer is None else "right" if answer == number else "wrong")
        prepare.append(prepare_seconds)
        if message:
            messages[message] += 1
        if read_seconds is not None:
            read.append(read_seconds)
        if max(conditions["size"]) == max(PHOTO_SIZES[-1]):
            largest["to_strip"].append(prepare_seconds)
            largest["decode"].append(decode_seconds(jpeg))
    outcomes = np.array(outcomes)

    by_condition = {}
    for key in CONDITIONS:
        values = [str(conditions.get(key, "none")) for _, _, conditions in shots]
        by_condition[key] = {value: {"photos": int(np.sum(np.array(values) == value)),
                                     "right": fraction(outcomes[np.array(values) == value] == "right")}
                             for value in sorted(set(values))}
    ms = lambda seconds: round(1000 * float(np.median(seconds)), 1) if seconds else None
    report = {
        "split": args.split,
        "photos": args.count,
        "seed": args.seed,
        "read_right": fraction(outcomes == "right"),
        "declined": fraction(outcomes == "declined"),
        "read_wrong": fraction(outcomes == "wrong"),
        "declined_with_a_message": {message: count for message, count in sorted(messages.items())},
        "by_condition": by_condition,
        "ms_per_photo": {
            "to_strip_median": ms(prepare),
            "reader_median": ms(read),
            "to_strip_over_reader": round(float(np.median(prepare) / np.median(read)), 1) if read else None,
            "largest_photos": len(largest["to_strip"]),
            "largest_to_strip_median": ms(largest["to_strip"]),
            "largest_full_decode_median": ms(largest["decode"]),
            "largest_to_strip_over_full_decode": (round(float(np.median(largest["to_strip"]) / np.median(largest["decode"])), 2)
                                                  if largest["decode"] else None),
        },
        "simulator_seconds_per_photo": round(simulate_seconds / args.count, 3),
        "environment": environment(),
    }
    print(json.dumps(report, indent=1))
    if args.out != "none":
        write_record(args.out or "experiments/photo_accuracy.json", report)


if __name__ == "__main__":
    main()
