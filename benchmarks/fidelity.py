"""How close our course-cut strips are to the course's own.

`course_val.npz` (`mnistadd.evaluate.course_val_pairs`) holds 10,000 pairs that the course's own
generator made from the 6,000 validation digits. We render the very same numbers from the same digits with
`cut="course"` (three draws, so that our side's sampling noise is small) and compare:

- the shipped reader's accuracy on both: the gap says whether our strips are easier or harder;
- each strip's inked span (first to last column with any ink) by number length, and our own windows;
- the mean ink per strip column, and the histogram of pixel values.

    python -m benchmarks.fidelity [--course-val PATH] [--record]

`--record` writes experiments/fidelity.json and experiments/fidelity.png, which the report shows.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from mnistadd import load, plots
from mnistadd.data import StripRenderer
from mnistadd.evaluate import COURSE_VAL_ENV, course_val_pairs
from mnistadd.io import write_record

DRAWS = (2000, 2001, 2002)
PIXEL_BINS = [0, 1, 3, 128, 255, 256]  # 0, faint 1-2, 3-127, 128-254, 255
PIXEL_BIN_NAMES = ["0", "1-2", "3-127", "128-254", "255"]


def lengths(numbers):
    return 1 + (numbers >= 10) + (numbers >= 100)


def inked_span(strips):
    ink = strips.max(axis=1) > 0
    return ink.shape[1] - ink[:, ::-1].argmax(axis=1) - ink.argmax(axis=1)


def strip_stats(strips, numbers):
    """Inked span percentiles by number length, ink per column and the pixel-value histogram."""
    span, length = inked_span(strips), lengths(numbers)
    return {
        "inked_span": {f"{k}_digits": {q: float(np.percentile(span[length == k], p)) for q, p in
                                       (("p10", 10), ("median", 50), ("p90", 90))} for k in (1, 2, 3)},
        "ink_per_column": strips.mean(axis=(0, 1)).round(3).tolist(),
        "pixels": dict(zip(PIXEL_BIN_NAMES, (np.histogram(strips, PIXEL_BINS)[0] / strips.size).round(6).tolist())),
    }


def accuracy(read, numbers):
    length = lengths(numbers)
    return {"all": float(np.mean(read == numbers)),
            **{f"{k}_digits": float(np.mean(read[length == k] == numbers[length == k])) for k in (1, 2, 3)}}


def measure(course_val=None, mnist_dir=None, reader_name="reader"):
    pairs = course_val_pairs(course_val)
    if pairs is None:
        raise SystemExit(f"no course_val.npz: pass --course-val or set {COURSE_VAL_ENV}")
    course_x, numbers = pairs[0].reshape(-1, 28, 84), pairs[1].reshape(-1)
    renderer = StripRenderer.from_split("val", mnist_dir, cut="course")
    ours_x = np.concatenate([renderer.render(numbers, np.array([seed, 0])).numpy() for seed in DRAWS])
    ours_numbers = np.tile(numbers, len(DRAWS))
    reader = load(reader_name)
    course_acc, ours_acc = accuracy(reader.predict(course_x), numbers), accuracy(reader.predict(ours_x), ours_numbers)
    width, _ = (t.numpy() for t in renderer.window_stats(numbers, np.array([DRAWS[0], 0])))
    return {
        "strips": {"course": len(course_x), "ours": len(ours_x)},
        "reader": {"course": course_acc, "ours": ours_acc,
                   "gap_points": round(100 * (ours_acc["all"] - course_acc["all"]), 3), "model": reader_name},
        "our_windows": {"median": float(np.median(width)), "p10": float(np.percentile(width, 10)),
                        "p90": float(np.percentile(width, 90)), "whole_digit_fraction": float(np.mean(width == 28))},
        "course": strip_stats(course_x, numbers),
        "ours": strip_stats(ours_x, ours_numbers),
    }


def plot(report, path):
    fig, (columns, pixels) = plots.plt.subplots(1, 2, figsize=(11, 3.6))
    for name in ("course", "ours"):
        columns.plot(report[name]["ink_per_column"], label=f"{name} ({report['strips'][name]:,} strips)")
    columns.set(title="Mean ink per strip column", xlabel="column", ylabel="mean pixel value (0-255)")
    columns.legend()
    x = np.arange(len(PIXEL_BIN_NAMES))
    for offset, name in ((-0.2, "course"), (0.2, "ours")):
        pixels.bar(x + offset, list(report[name]["pixels"].values()), width=0.4, label=name)
    pixels.set(title="Pixel values", xlabel="pixel value", ylabel="fraction of pixels", yscale="log",
               xticks=x, xticklabels=PIXEL_BIN_NAMES)
    pixels.legend()
    plots._save(fig, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course-val", type=Path, help=f"default: ${COURSE_VAL_ENV} or ../shared/course_val/course_val.npz")
    parser.add_argument("--mnist-dir")
    parser.add_argument("--reader", default="reader", help="a folder of models/")
    parser.add_argument("--record", action="store_true", help="write experiments/fidelity.json and .png")
    args = parser.parse_args()
    report = measure(args.course_val, args.mnist_dir, args.reader)
    print(json.dumps({key: report[key] for key in ("reader", "our_windows")}, indent=1))
    for name in ("course", "ours"):
        print(name, json.dumps({key: report[name][key] for key in ("inked_span", "pixels")}))
    if args.record:
        write_record("experiments/fidelity.json", report)
        plot(report, "experiments/fidelity.png")


if __name__ == "__main__":
    main()
