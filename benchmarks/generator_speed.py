"""Pairs per second that `data_generator.training_generator` makes, in this one process.

    python -m benchmarks.generator_speed [--batch-size 32 256] [--seconds 10] [--out FILE]

Prints one JSON line per batch size, and writes them to FILE only when asked (the README's figures come
from --out experiments/generator_speed.json). Run it on an otherwise idle machine.

The course's generator (imgaug, one image at a time) makes about 680 pairs/s on one core of a 2-core
CPU machine; the target is 20x that, 15,000 pairs/s.
"""

import argparse
import json
import os
import time

from data_generator import training_generator
from mnistadd.io import write_record
from mnistadd.training import environment


def pairs_per_second(batch_size, seconds):
    batches = training_generator(batch_size=batch_size, seed=0)
    next(batches)  # builds the graph
    start, pairs = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        pairs += len(next(batches)[0])
    return pairs / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", help="JSON file to write (experiments/generator_speed.json for the README)")
    args = parser.parse_args()
    runs = []
    for batch_size in args.batch_size:
        runs.append({"batch_size": batch_size, "pairs_per_second": round(pairs_per_second(batch_size, args.seconds))})
        print(json.dumps(runs[-1]))
    if args.out:
        write_record(args.out, {"runs": runs, "course_generator_pairs_per_second": 680, "cpu_cores": os.cpu_count(),
                              "environment": environment()})


if __name__ == "__main__":
    main()
