"""Train the end-to-end model (bonus task): two strips in, their sum out, one model trained as a whole.

    python -m train.end2end                                   # the recipe "end2end": aux, from models/reader
    python -m train.end2end --recipe end2end-sum-only         # the sum only: digits and numbers are never seen
    python -m train.end2end --recipe end2end-small            # the shipped design in a few minutes
    python -m train.end2end --init-reader models/reader runs/other-reader   # a digit reader averaging two readers
    python -m train.end2end --recipe none --supervision sum   # no recipe: the trainer's own defaults and the flags

The recipes (train/recipes/end2end*.toml, `train.recipe`; `--help` shows the chosen one's settings as the
defaults, and a flag overrides them): "end2end" starts the digit reader from the trained reader
(`--init-reader models/reader`) and trains 6 epochs at learning rate 5e-5 with the sum and both numbers as
targets; "end2end-aux-scratch", "end2end-sum-only" and "end2end-neural-sum-only" are the regimes compared
(REPORT.md). Without a recipe the defaults are a 16-filter digit reader from scratch, auxiliary targets,
40 epochs, writing models/end2end.

Both regimes train the same model (`mnistadd.end2end`): a shared digit reader and the exact,
differentiable sum distribution. With `--supervision sum` the only loss is the sum's cross-entropy; the
digit reader has to discover what the digits are from sums alone. With `--supervision aux` the two
numbers' position classes add a cross-entropy each (weight `--aux-weight`).

From sums alone, `--sum-layer carry` trains through the carry chain of the MNIST-addition models
(`mnistadd.addition`) instead of the convolution over 0..255; the model, its output and every
validation figure stay the convolution's, so the two compare (`python -m train.sweep sum-layer-end2end`).

Started from trained readers (`--init-reader`), the model already reads sums before its first step; the
validation metrics then also say how well (`val_sum_accuracy_at_start`), so they show what training the
whole adds. Such a start wants a low learning rate, so as not to unlearn the digits; the shipped model
uses 5e-5 (REPORT.md compares it with 5e-4).
"""

import argparse
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnistadd import plots
from mnistadd.addition import SumNegativeLogLikelihood, sum_accuracy as carry_sum_accuracy
from mnistadd.data import StripRenderer
from mnistadd.digits import digits_of
from mnistadd.end2end import COMBINES, PositionDigits, build_end2end
from mnistadd.evaluate import course_val_accuracy
from mnistadd.geometry import STRIP_SHAPE
from mnistadd.io import read_json
from mnistadd.reader import NUMBER_CLASSES, POSITIONS, ensemble_members
from mnistadd.training import (batches_done, copy_weights, cosine_schedule, finish_training, inference_copy,
                               prepare_work_dir, training_callbacks, training_digits)
from train import recipe


VALIDATION_SEED = 2000  # the same validation pairs whatever --seed, so that runs of different seeds compare


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=recipe.HelpFormatter,
                                     parents=[recipe.common_flags("end2end"), recipe.data_flags()])
    parser.add_argument("--supervision", choices=["sum", "aux"], default="aux",
                        help="the targets: the sum only, or the sum and both numbers (auxiliary)")
    parser.add_argument("--sum-layer", choices=["convolution", "carry"], default="convolution",
                        help="how the sum-only loss reads the sum: the convolution over 0..255 (the model's "
                             "output) or the carry chain over the digit positions")
    parser.add_argument("--aux-weight", type=float, default=1.0, help="weight of each number's loss (aux)")
    parser.add_argument("--combine", choices=COMBINES, default="exact",
                        help="how the two numbers become a sum: the exact sum distribution, or a learned MLP")
    parser.add_argument("--filters", type=int, default=16, help="digit reader: filters of the first conv block")
    parser.add_argument("--blocks", type=int, default=3, help="digit reader: conv blocks")
    parser.add_argument("--dense", type=int, default=256, help="digit reader: units of the hidden Dense layer")
    parser.add_argument("--dropout", type=float, default=0.1, help="digit reader: dropout")
    parser.add_argument("--init-reader", metavar="FOLDER", nargs="+",
                        help="start the digit reader from a trained reader's weights (its architecture replaces "
                             "--filters/--blocks/--dense/--dropout); several folders make the digit reader an "
                             "ensemble that averages them; aux supervision only: the readers saw digits")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (warm-up, then cosine decay)")
    parser.add_argument("--batch-size", type=int, default=64, help="pairs per step")
    parser.add_argument("--epochs", type=int, default=40, help="epochs at most")
    parser.add_argument("--steps-per-epoch", type=int, default=200, help="training batches per epoch")
    parser.add_argument("--patience", type=int, default=8, help="epochs without a better validation sum accuracy")
    parser.add_argument("--val-size", type=int, default=2500, help="validation pairs")
    return parser


def parse_args(argv=None):
    """One run's settings from the flags over the trainer's own defaults, no recipe (sweeps, tests)."""
    return recipe.parse(sys.modules[__name__], argv)


READER_KEYS = ("filters", "blocks", "dense", "dropout")  # the flags; a reader's config may also say "members"


def as_pairs(images, numbers, supervision):
    """A batch of 2B strips -> inputs {"image_a", "image_b"} and the targets the regime may see."""
    half = tf.shape(numbers)[0] // 2
    inputs = {"image_a": images[:half], "image_b": images[half:]}
    targets = {"sum": numbers[:half] + numbers[half:]}
    if supervision == "aux":
        classes = tf.constant(NUMBER_CLASSES)
        targets.update(positions_a=tf.gather(classes, numbers[:half]), positions_b=tf.gather(classes, numbers[half:]))
    return inputs, targets


def sum_digits(sums):
    """Sums (B,) -> their four digits (B, 4), most significant first: the carry chain's targets, in graph ops
    for the tf.data stream (`mnistadd.digits.digits_of` is its NumPy counterpart)."""
    return tf.stack([sums // 10 ** k % 10 for k in range(POSITIONS, -1, -1)], axis=1)


def carry_chain_view(with_positions):
    """The model's training view for `--sum-layer carry`: both numbers' digit log-probabilities (N, 2, 3, 10)."""
    inputs = {key: keras.Input(STRIP_SHAPE, name=key) for key in ("image_a", "image_b")}
    outputs = with_positions(inputs)
    return keras.Model(inputs, PositionDigits(name="digits")(outputs["positions_a"], outputs["positions_b"]))


def sums_read_right(sum_probs, sums):
    """The fraction of pairs whose most likely sum is the true one."""
    return float(np.mean(sum_probs.argmax(axis=1) == sums))


def digitwise_sum_accuracy(outputs, sums):
    """Sums read right digit by digit from the training view's `outputs`, as the carry chain reads them
    (`mnistadd.addition.sum_accuracy`: each position's most likely class, a blank as a leading 0, the two
    numbers added), where the model's output reads valid numbers 0..255."""
    digits = PositionDigits()(outputs["positions_a"], outputs["positions_b"])
    return float(np.mean(keras.ops.convert_to_numpy(carry_sum_accuracy(digits_of(sums, POSITIONS + 1), digits))))


def train(args):
    if args.sum_layer == "carry" and (args.supervision, args.combine) != ("sum", "exact"):
        raise SystemExit("--sum-layer carry needs --supervision sum and --combine exact: it trains only the digit reader")
    keras.utils.set_random_seed(args.seed)
    work_dir = prepare_work_dir(args.work_dir, args.resume)
    val_pairs = as_pairs(*StripRenderer.from_split("val", args.mnist_dir).fixed_set(2 * args.val_size, seed=VALIDATION_SEED),
                         args.supervision)
    batches = (StripRenderer.from_split("train", args.mnist_dir, args.train_digits)
               .dataset(2 * args.batch_size, args.seed, batches_done(work_dir, args.steps_per_epoch))
               .map(lambda images, numbers: as_pairs(images, numbers, args.supervision)))
    val_inputs, val_sums = val_pairs[0], keras.ops.convert_to_numpy(val_pairs[1]["sum"])
    if args.init_reader:
        if args.supervision == "sum":
            raise SystemExit("--init-reader needs --supervision aux: a trained reader has learned from digit labels")
        architectures = [read_json(Path(folder) / "config.json")["architecture"] for folder in args.init_reader]
        reader_kwargs = [{key: arch[key] for key in (*READER_KEYS, "members") if key in arch} for arch in architectures]
        for key in READER_KEYS:  # replaced by the readers' architecture, which config.json records
            setattr(args, key, None)
        if len(reader_kwargs) == 1:
            reader_kwargs = reader_kwargs[0]
    else:
        reader_kwargs = {key: getattr(args, key) for key in READER_KEYS}
    model, with_positions = build_end2end(reader_kwargs, args.combine)
    if args.init_reader:  # the digit reader is the reader, or with several, an ensemble of them in order
        readers = [keras.saving.load_model(Path(folder) / "model.keras", compile=False) for folder in args.init_reader]
        digit_reader = model.get_layer("digit_reader")
        for reader, part in zip(readers, ensemble_members(digit_reader) if len(readers) > 1 else [digit_reader], strict=True):
            copy_weights(reader, part)
    if args.supervision == "aux":
        trained, monitor = with_positions, "val_sum_accuracy"
        loss = dict.fromkeys(("sum", "positions_a", "positions_b"), "sparse_categorical_crossentropy")
        loss_weights = {"sum": 1.0, "positions_a": args.aux_weight, "positions_b": args.aux_weight}
        metrics = {"sum": ["accuracy"]}
    elif args.sum_layer == "carry":  # the sum only, read digit by digit through the carry chain
        trained, monitor = carry_chain_view(with_positions), "val_sum_accuracy"
        loss, loss_weights, metrics = SumNegativeLogLikelihood(), None, [carry_sum_accuracy]
        batches = batches.map(lambda inputs, targets: (inputs, sum_digits(targets["sum"])))
        val_pairs = (val_pairs[0], sum_digits(val_pairs[1]["sum"]))
    else:  # the sum is the only target the model ever sees
        trained, monitor = model, "val_accuracy"
        loss, loss_weights, metrics = "sparse_categorical_crossentropy", None, ["accuracy"]
        batches = batches.map(lambda inputs, targets: (inputs, targets["sum"]))
        val_pairs = (val_pairs[0], val_pairs[1]["sum"])
    trained.compile(
        optimizer=keras.optimizers.AdamW(cosine_schedule(args.lr, args.epochs * args.steps_per_epoch)),
        loss=loss, loss_weights=loss_weights, metrics=metrics,
    )
    # what end-to-end training adds to the trained reader(s) it starts from, read through the exact sum
    at_start = ({"val_sum_accuracy_at_start": sums_read_right(model.predict(val_inputs, batch_size=512, verbose=0), val_sums)}
                if args.init_reader else {})
    started = time.time()
    trained.fit(batches, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, validation_data=val_pairs,
                callbacks=training_callbacks(work_dir, monitor, args.patience), shuffle=False)
    with_positions = inference_copy(with_positions)  # measured as it is saved, Dense kernels in int8
    model = keras.Model(with_positions.inputs, with_positions.output["sum"], name=model.name)
    outputs = with_positions.predict(val_inputs, batch_size=512, verbose=0)  # the model's output and positions
    metrics = {
        "val_sum_accuracy": sums_read_right(outputs["sum"], val_sums),
        **at_start,
        **course_val_accuracy(lambda a, b: model.predict({"image_a": a, "image_b": b}, batch_size=512, verbose=0).argmax(axis=1), "end2end"),
        "val_pairs": args.val_size,
        "train_digits": training_digits(args),
        "supervision": args.supervision,
        **({"val_digitwise_sum_accuracy": digitwise_sum_accuracy(outputs, val_sums)}
           if args.supervision == "sum" else {}),
        **({"sum_layer": args.sum_layer} if (args.supervision, args.combine) == ("sum", "exact") else {}),
        "train_seconds_this_run": round(time.time() - started),
        "parameters": model.count_params(),
    }
    return model, metrics, work_dir, monitor, reader_kwargs


def run(args):
    """Trains one end-to-end model and writes its folder (unless --out none); returns its validation metrics."""
    model, metrics, work_dir, monitor, reader_kwargs = train(args)
    print(metrics)
    if args.out == "none":
        return metrics
    history = plots.read_history(work_dir / "history.csv")
    accuracy = monitor.removeprefix("val_")
    config = {
        "model": "end2end",
        "architecture": {"digit_reader": reader_kwargs, "combine": args.combine},
        "input": {"image_a": list(STRIP_SHAPE), "image_b": list(STRIP_SHAPE), "pixels": "raw 0-255, ink high, background 0"},
        "output": "sum probabilities (511,) for sums 0..510",
    }
    finish_training(args, model, config, metrics, work_dir, [
        ("history.png", lambda p: plots.plot_history(history, ["loss", accuracy], p, f"End-to-end ({args.supervision})"))])
    return metrics


def main(argv=None):
    return recipe.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
