"""What the exact sum costs inside a training step: the end-to-end model's convolution over 0..255
(`SumDistribution`) next to the carry chain (`CarrySumLikelihood`), and both next to the digit reader.

    python -m benchmarks.sum_layers [--batch-size 64] [--repeats 20]

Each is timed as a compiled forward and backward pass (`tf.function`, gradient of the mean
log-likelihood of given sums with respect to the digit distributions) on random inputs, batch of
`--batch-size` pairs (the carry chain on the numbers' three digits, N=3, like the convolution); the
digit reader (`build_reader` defaults) as a forward and backward pass over both strips of each pair. The
carry chain also runs for N = 15 and 100 digits, where the convolution, (10^N)^2 per pair, cannot.
Writes experiments/sum_layers.json. Run it on an otherwise idle machine.
"""

import argparse
import json
import time

import numpy as np
import tensorflow as tf

from mnistadd.addition import CarrySumLikelihood
from mnistadd.end2end import SumDistribution
from mnistadd.reader import build_reader
from mnistadd.io import write_record
from mnistadd.training import environment


def milliseconds(step, repeats):
    """Median wall time of `step()` in ms, after one call that builds the graph."""
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return round(1000 * float(np.median(times)), 3)


def gradient_step(loss, variables):
    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = loss()
        return tape.gradient(value, variables)
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", default="experiments/sum_layers.json")
    args = parser.parse_args()
    rng, batch = np.random.default_rng(0), args.batch_size
    sums = rng.integers(0, 511, batch)

    positions = [tf.Variable(rng.dirichlet(np.ones(11), (batch, 3)).astype("float32")) for _ in range(2)]
    convolution = SumDistribution()
    runs = {"convolution_0_255": gradient_step(
        lambda: -tf.reduce_mean(tf.math.log(tf.gather(convolution(*positions), sums, batch_dims=1))), positions)}
    carry = CarrySumLikelihood()
    for n in (3, 15, 100):
        digits = [tf.Variable(np.log(rng.dirichlet(np.ones(10), (batch, n))).astype("float32")) for _ in range(2)]
        targets = rng.integers(0, 10, (batch, n + 1))
        targets[:, 0] %= 2  # the sum's first digit is the last carry
        runs[f"carry_n{n}"] = gradient_step(
            lambda digits=digits, targets=targets: -tf.reduce_mean(carry(*digits, targets)), digits)
    reader = build_reader()
    strips = tf.constant(rng.integers(0, 256, (2 * batch, 28, 84)).astype("float32"))
    runs["digit_reader"] = gradient_step(
        lambda: tf.reduce_mean(reader(strips, training=True)), reader.trainable_variables)

    results = {name: milliseconds(step, args.repeats) for name, step in runs.items()}
    print(json.dumps(results, indent=2))
    write_record(args.out, {"batch_pairs": batch, "repeats": args.repeats, "forward_and_backward_ms": results,
                          "environment": environment()})


if __name__ == "__main__":
    main()
