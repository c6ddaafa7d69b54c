"""How close our "course" cut is to the course's digit spacing.

The course's images cut each augmented digit to a window that starts 0-3 px before its first ink
column; the window widths have a median of 17 px (10th percentile 11, 90th 22, range 6-28) and about
one digit in seven loses part of its right side. This measures the same on our renderer.

    python -m benchmarks.spacing [--mnist-dir DIR] [--numbers 20000]    # also writes experiments/spacing.json
"""

import argparse
import json

import numpy as np

from mnistadd.data import StripRenderer
from mnistadd.training import write_json

COURSE = {"median": 17, "p10": 11, "p90": 22, "min": 6, "max": 28, "cut_fraction": round(1 / 7, 3)}


def measure(renderer, n_numbers, seed=0):
    numbers = np.random.default_rng(seed).integers(0, 256, n_numbers)
    width, cut_off = (t.numpy() for t in renderer.window_stats(numbers, np.array([seed, 1])))
    return {
        "digits": int(width.size),
        "median": round(float(np.median(width)), 1),
        "p10": round(float(np.percentile(width, 10)), 1),
        "p90": round(float(np.percentile(width, 90)), 1),
        "min": int(width.min()),
        "max": int(width.max()),
        "cut_fraction": round(float(cut_off.mean()), 3),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist-dir")
    parser.add_argument("--numbers", type=int, default=20000)
    parser.add_argument("--out", default="experiments/spacing.json")
    args = parser.parse_args()
    report = {"course": COURSE}
    for cut in ("course", "clean"):
        report[f"ours_{cut}"] = measure(StripRenderer.from_split("train", args.mnist_dir, cut=cut), args.numbers)
    print(json.dumps(report, indent=1))
    write_json(args.out, report)


if __name__ == "__main__":
    main()
