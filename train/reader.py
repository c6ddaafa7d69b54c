"""Train the reader (task 1): a CNN that reads the number in one 28x84 strip.

    python -m train.reader                          # the recipe "reader": reproduces models/reader (4 steps)
    python -m train.reader --resume                 # continue an interrupted run: finished steps are skipped
    python -m train.reader --recipe reader-small    # the same design in a few minutes, for trying things
    python -m train.reader --recipe none --arch mlp --out none  # no recipe: the MLP baseline, no model folder
    python -m train.reader --recipe none --output ctc --out none  # the CTC output design, an experiment

The recipe "reader" (train/recipes/reader.toml, `train.recipe`) grows the shipped reader one CNN at a time:
four CNNs of 32 filters, bfloat16, stroke 1.0, 48 epochs each, seeds 4 to 7, each step keeping the CNNs of
the step before (`--keep-members`); about 4 h 23 min of training on 2 CPU cores. `--help` shows its
settings as the defaults; a flag overrides them. Without a recipe (`--recipe none`) the defaults are one
such CNN, seed 0, writing models/reader.

`--members N` trains an ensemble of N CNNs side by side in one model, each on its own loss (so they stay
independent and err on different strips) while early stopping follows the whole ensemble. `--precision
mixed_bfloat16` (the default) computes in bfloat16 while training, faster on CPUs that support it; the
saved model computes in float32 either way, but for its Dense layers' int8 kernels (`mnistadd.training`).
`--stroke` thickens or thins each training digit's strokes by a random amount. `--keep-members READER`
grows a trained reader: the new CNNs train on their own, at the cost of their own forward passes only, and
the saved reader averages the kept CNNs and the new ones.

`--init READER` fine-tunes a trained reader: all its CNNs start from its weights (its architecture replaces
--filters/--blocks/--dense/--dropout/--members). `--drawn FRACTION` makes that share of each training batch
numbers drawn as a person would and read back through the app's `to_strip` (`mnistadd.drawing`), from the
training digits: a pool of `--drawn-pool` drawings, made once before training (8 ms each here) and kept in
the work directory for `--resume`. Fine-tuning the shipped reader on a quarter of drawings:

    python -m train.reader --recipe none --init models/reader --drawn 0.25 --lr 2e-4 --epochs 6 --out runs/models/reader-drawn

Data: endless strips rendered on the fly (`tf.data`, `mnistadd.data`) from the MNIST training digits
minus the last 10 %, which render a fixed validation set. Early stopping and the model finally kept
follow the validation loss (`--select`); the test digits are never seen here (`python -m mnistadd.evaluate
reader` measures on them afterwards).
"""

import argparse
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnistadd import plots
from mnistadd.data import StripRenderer
from mnistadd.drawing import drawn_strips
from mnistadd.evaluate import VALIDATION_DRAWS, course_val_accuracy, validation_draws
from mnistadd.geometry import MAX_NUMBER, STRIP_SHAPE
from mnistadd.io import atomic_path, read_json
from mnistadd.reader import (CTC_LABELS, NUMBER_CLASSES, build_ctc_reader, build_mlp_reader, build_reader,
                             ctc_number_log_probs, ensemble_members, number_accuracy, read_numbers)
from mnistadd.training import (batches_done, copy_weights, cosine_schedule, finish_training, inference_copy,
                               prepare_work_dir, training_callbacks, training_digits)
from train import recipe

VALIDATION_SEED = VALIDATION_DRAWS[0]  # the same validation strips whatever --seed, so that runs of different seeds compare


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=recipe.HelpFormatter,
                                     parents=[recipe.common_flags("reader"), recipe.data_flags()])
    parser.add_argument("--arch", choices=["cnn", "mlp"], default="cnn", help="a CNN, or the MLP baseline")
    parser.add_argument("--output", choices=["positions", "ctc"], default="positions",
                        help="output design: three right-aligned positions, or CTC over image columns (one CNN, "
                             "experiment only: the product reads positions, so it needs --out none)")
    parser.add_argument("--filters", type=int, default=32, help="filters of the first conv block (doubling per block)")
    parser.add_argument("--blocks", type=int, default=3, help="conv blocks, each two 3x3 convolutions and a 2x2 pool")
    parser.add_argument("--dense", type=int, default=512, help="units of the hidden Dense layer")
    parser.add_argument("--dropout", type=float, default=0.1, help="dropout before and after the hidden Dense layer")
    parser.add_argument("--no-batch-norm", dest="batch_norm", action="store_false", help="no batch normalization")
    parser.add_argument("--members", type=int, default=1, help="CNNs trained here, whose predictions the reader averages")
    parser.add_argument("--keep-members", metavar="READER",
                        help="a trained reader folder whose CNNs join the ensemble unchanged: --members new CNNs train "
                             "on their own, then the saved reader averages the kept CNNs and the new ones")
    parser.add_argument("--init", metavar="READER",
                        help="a trained reader folder to fine-tune: its CNNs start from its weights (its architecture "
                             "replaces --filters/--blocks/--dense/--dropout/--members)")
    parser.add_argument("--drawn", type=float, default=0.0,
                        help="share of each training batch that is numbers drawn as a person would and read through "
                             "to_strip (mnistadd.drawing), from the training digits")
    parser.add_argument("--drawn-pool", type=int, default=40000, help="drawings made once for --drawn, reused each epoch")
    parser.add_argument("--precision", choices=["float32", "mixed_bfloat16"], default="mixed_bfloat16",
                        help="compute dtype while training; bfloat16 is faster only on CPUs or GPUs that support it "
                             "(elsewhere, choose float32)")
    parser.add_argument("--cut", choices=["course", "clean", "mixed"], default="mixed",
                        help="training strips' spacing; mixed is half course, half clean")
    parser.add_argument("--elastic", type=float, default=0.0,
                        help="px of elastic distortion of the training digits (0: the course's affine maps only)")
    parser.add_argument("--stroke", type=float, default=1.0,
                        help="random stroke-width change of the training digits, in 3x3 steps (0: none, 1: up to one "
                             "3x3 dilation or erosion, 1.5: up to one and a half)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (warm-up, then cosine decay)")
    parser.add_argument("--batch-size", type=int, default=128, help="strips per step")
    parser.add_argument("--epochs", type=int, default=48, help="epochs at most")
    parser.add_argument("--steps-per-epoch", type=int, default=200, help="training batches per epoch")
    parser.add_argument("--patience", type=int, default=20,
                        help="epochs without a better validation figure (--select) before stopping; the cosine schedule's "
                             "last, low-rate epochs are where the model gains most, so keep it longer than they last")
    parser.add_argument("--select", choices=["loss", "accuracy"], default="loss",
                        help="what early stopping and the epoch finally kept follow: validation loss (of every CNN), or "
                             "validation number accuracy, which on 5,000 strips moves in steps of one strip (0.02 "
                             "points) and once kept a noisy early peak over far better fitted later epochs (REPORT.md)")
    parser.add_argument("--val-size", type=int, default=5000, help="validation strips")
    return parser


def check_args(parser, args):
    if args.output == "ctc" and (args.arch != "cnn" or args.members != 1 or args.out != "none"):
        parser.error("--output ctc is an experiment of one CNN: it needs --arch cnn --members 1 --out none")
    if args.keep_members and (args.arch != "cnn" or args.output != "positions"):
        parser.error("--keep-members adds CNNs to a positions reader: it needs --arch cnn --output positions")
    if args.init and (args.keep_members or args.arch != "cnn" or args.output != "positions"):
        parser.error("--init fine-tunes a positions CNN reader: it needs --arch cnn --output positions, no --keep-members")
    if not 0 <= args.drawn < 1:
        parser.error("--drawn is a share of each batch: 0 <= FRACTION < 1")
    if args.init:  # the reader's own architecture, which its config.json records
        architecture = read_json(Path(args.init) / "config.json")["architecture"]
        for key in ("filters", "blocks", "dense", "dropout", "batch_norm", "members"):
            setattr(args, key, architecture[key])
    if args.keep_members and args.select != "loss":
        parser.error("--keep-members needs --select loss: the new CNNs train apart from the kept ones, so there is "
                     "no accuracy of the whole ensemble to follow until they join")
    return args


def parse_args(argv=None):
    """One run's settings from the flags over the trainer's own defaults, no recipe (sweeps, tests)."""
    return recipe.parse(sys.modules[__name__], argv)


def training_data(args, work_dir):
    """Endless (images, position classes) batches from the training digits: generator strips, and with
    `--drawn`, that share of drawings read through to_strip."""
    def renderer(cut):
        return StripRenderer.from_split("train", args.mnist_dir, args.train_digits, cut=cut, elastic=args.elastic,
                                          stroke=args.stroke)

    drawn_count = round(args.batch_size * args.drawn)
    strip_count = args.batch_size - drawn_count
    start = batches_done(work_dir, args.steps_per_epoch)  # after --resume: where the interrupted run stopped
    if args.cut == "mixed":
        sizes = (strip_count // 2, strip_count - strip_count // 2)
        parts = [renderer(cut).dataset(size, args.seed + i, start) for i, (cut, size) in enumerate(zip(("course", "clean"), sizes))]
    else:
        parts = [renderer(args.cut).dataset(strip_count, args.seed, start)]
    if drawn_count:
        pool = drawn_pool(args, work_dir)
        parts.append(tf.data.Dataset.from_tensor_slices(pool).shuffle(len(pool[1]), seed=args.seed).repeat()
                     .batch(drawn_count).skip(start))
    # zipped as a tuple even when there is one part, so that each element is a tuple of (images, numbers) pairs
    batches = tf.data.Dataset.zip(tuple(parts)).map(lambda *parts: tuple(tf.concat(part, 0) for part in zip(*parts)))
    classes = tf.constant(target_table(args))
    return batches.map(lambda images, numbers: (images, tf.gather(classes, numbers)))


def drawn_pool(args, work_dir):
    """`--drawn-pool` (strips, numbers) drawn from the training digits as a person would and read through
    to_strip; made once and kept in the work directory, so that `--resume` does not make them again."""
    path = Path(work_dir) / "drawn_pool.npz"
    if path.exists():
        with np.load(path) as saved:
            return saved["strips"], saved["numbers"]
    rng = np.random.default_rng(args.seed)
    numbers = rng.integers(0, MAX_NUMBER + 1, args.drawn_pool).astype(np.int32)
    renderer = StripRenderer.from_split("train", args.mnist_dir, args.train_digits, cut="clean")  # whole digits to draw
    strips = np.concatenate([drawn_strips(renderer, chunk, rng) for chunk in np.array_split(numbers, max(1, len(numbers) // 1000))])
    with atomic_path(path) as staging:
        np.savez(staging, strips=strips, numbers=numbers)
    return strips, numbers


def target_table(args):
    """Each number's training target: its position classes, or its digits as CTC labels."""
    return CTC_LABELS if args.output == "ctc" else NUMBER_CLASSES


def build_model(args, members, precision="float32"):
    """A reader of `members` CNNs (the MLP or CTC reader: one model) under a dtype policy: "mixed_bfloat16"
    computes in bfloat16 (weights stay float32)."""
    keras.mixed_precision.set_global_policy(precision)
    try:
        if args.arch == "mlp":
            return build_mlp_reader(dropout=args.dropout)
        if args.output == "ctc":
            return build_ctc_reader(args.filters, args.blocks, args.dense, args.dropout, args.batch_norm)
        return build_reader(args.filters, args.blocks, args.dense, args.dropout, args.batch_norm, members)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def kept_settings(args):
    """The training settings of each CNN that `--keep-members` keeps, in member order (none without it)."""
    return member_settings(args.keep_members) if args.keep_members else []


def member_settings(folder):
    """The training settings of each CNN of the reader in `folder`, in member order."""
    config = read_json(Path(folder) / "config.json")
    return config.get("kept_members", []) + [config["training"]] * (
        config["architecture"]["members"] - len(config.get("kept_members", [])))


def saved_reader(args, trained):
    """The reader as it is saved and measured: the kept reader's CNNs (`--keep-members`) and then the trained
    ones, computing in float32 with int8 Dense kernels (`inference_copy`). The new CNNs trained apart: each
    CNN has a loss of its own, so the kept ones would only have added a constant to the validation loss that
    early stopping follows, and their forward passes to every training step."""
    kept = ensemble_members(keras.saving.load_model(Path(args.keep_members) / "model.keras", safe_mode=True)
                            ) if args.keep_members else []
    reader = build_model(args, len(kept) + args.members)
    for member, source in zip(ensemble_members(reader), kept + ensemble_members(trained), strict=True):
        copy_weights(source, member)  # layer by layer, whatever order a model lists its weights in
    return inference_copy(reader)


def training_view(model):
    """What `fit` trains: the reader with its output ("positions", or the CTC reader's "columns"); for an
    ensemble, also each member's as an output with a loss of its own, while "positions", their average,
    only has the metrics. Returns the view, the outputs with a loss, and the number-accuracy metric's name."""
    members = ensemble_members(model)
    if len(members) == 1:
        output = model.output_names[0]
        return keras.Model(model.input, {output: model.output}), [output], accuracy_metric(1)
    outputs = {member.name: member(model.input) for member in members}
    # the average of these very outputs: model.output would run every member a second time
    average = keras.layers.Average(name="positions", dtype="float32")(list(outputs.values()))
    return keras.Model(model.input, {**outputs, "positions": average}), list(outputs), accuracy_metric(len(members))


def accuracy_metric(members):
    """The history's column for the number accuracy of a reader of `members` CNNs: Keras prefixes a metric
    with its output's name when a model has several outputs, as an ensemble's training view does."""
    return "number_accuracy" if members == 1 else "positions_number_accuracy"


def architecture_config(args):
    config = {"arch": args.arch, "dropout": args.dropout}
    if args.arch == "cnn":
        config.update(filters=args.filters, blocks=args.blocks, dense=args.dense, batch_norm=args.batch_norm,
                      members=len(kept_settings(args)) + args.members)
    return config


def train(args):
    """Trains one reader; returns the model, its validation metrics and the work directory."""
    keras.utils.set_random_seed(args.seed)
    work_dir = prepare_work_dir(args.work_dir, args.resume)
    val_images, val_numbers = StripRenderer.from_split("val", args.mnist_dir).fixed_set(args.val_size, seed=VALIDATION_SEED)
    model = build_model(args, args.members, args.precision)
    if args.init:
        copy_weights(keras.saving.load_model(Path(args.init) / "model.keras", compile=False, safe_mode=True), model)
    view, losses, accuracy = training_view(model)
    ctc = args.output == "ctc"
    view.compile(
        optimizer=keras.optimizers.AdamW(cosine_schedule(args.lr, args.epochs * args.steps_per_epoch)),
        loss=dict.fromkeys(losses, keras.losses.CTC() if ctc else "sparse_categorical_crossentropy"),
        metrics=None if ctc else {"positions": ["accuracy", number_accuracy]},
    )
    # CTC has no per-position accuracy to follow while training, only its loss
    monitor, mode = ("val_loss", "min") if ctc or args.select == "loss" else (f"val_{accuracy}", "max")
    targets = lambda classes: dict.fromkeys(view.output_names, classes)  # every output reads the same number
    started = time.time()
    fitted = view.fit(
        training_data(args, work_dir).map(lambda images, classes: (images, targets(classes))),
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        validation_data=(val_images, targets(target_table(args)[val_numbers])),
        callbacks=training_callbacks(work_dir, monitor, args.patience, mode),
        shuffle=False,  # the stream is random already
    )
    seconds = round(time.time() - started)  # after --resume: the resumed part only, as are its epochs
    model = saved_reader(args, model)
    # each CNN's probabilities once; the ensemble's are their average, as its Average layer computes
    member_probs = [member.predict(val_images, batch_size=512, verbose=0) for member in ensemble_members(model)]
    read = (lambda logits: ctc_number_log_probs(logits).argmax(axis=1)) if ctc else (lambda probs: read_numbers(probs)[0])
    read_accuracy = lambda outputs: float(np.mean(read(outputs) == val_numbers))
    val_metrics = {"val_number_accuracy": read_accuracy(np.mean(member_probs, axis=0))}
    if len(member_probs) > 1:  # how much the average adds to each CNN alone (never for the MLP, whatever --members)
        val_metrics["val_number_accuracy_members"] = [read_accuracy(probs) for probs in member_probs]
    if not ctc:  # the figures readers are chosen by; CTC's reading of 20,000 strips would take longer than its training
        read = lambda images: read_numbers(model.predict(images, batch_size=512, verbose=0))[0]
        val_metrics.update(**validation_draws(read, args.mnist_dir, args.val_size), **course_val_accuracy(read, "reader"))
    val_metrics.update(val_images=args.val_size, train_digits=training_digits(args), train_seconds_this_run=seconds,
                       train_epochs_this_run=len(fitted.epoch), parameters=model.count_params())
    return model, val_metrics, work_dir


def model_plots(args, model, history_csv, val_image):
    """Learning curves (of the CNNs this run trained), first-layer filters and feature maps, as (file name,
    writer) pairs."""
    history = plots.read_history(history_csv)
    accuracy = accuracy_metric(len(ensemble_members(model)) - len(kept_settings(args)))
    files = [("history.png", lambda p: plots.plot_history(history, ["loss", accuracy], p, "Reader"))]
    trunk = ensemble_members(model)[0].get_layer("trunk")  # an ensemble shows its first member's
    convs = [layer for layer in trunk.layers if isinstance(layer, keras.layers.Conv2D)]
    if convs:
        files.append(("filters.png", lambda p: plots.plot_filters(
            keras.ops.convert_to_numpy(convs[0].kernel), p, "Reader: first convolution's 3x3 filters")))
        relus = [layer for layer in trunk.layers if isinstance(layer, keras.layers.ReLU)]
        block_outputs = relus[1::2]  # the last activation of each conv block
        probe = keras.Model(trunk.inputs, [layer.output for layer in block_outputs])
        maps = {f"block {i + 1}": m[0] for i, m in enumerate(probe.predict(val_image[None], verbose=0))}
        files.append(("activations.png", lambda p: plots.plot_activations(
            val_image, maps, p, "Reader: feature maps after each conv block, one validation strip")))
    return files


def run(args):
    """Trains one reader and writes its folder (unless --out none); returns its validation metrics."""
    model, val_metrics, work_dir = train(args)
    print(val_metrics)
    if args.out == "none":
        return val_metrics
    val_image = StripRenderer.from_split("val", args.mnist_dir).fixed_set(1, seed=7)[0][0]
    config = {
        "model": "reader",
        "architecture": architecture_config(args),
        "input": {"shape": list(STRIP_SHAPE), "dtype": "float32", "pixels": "raw 0-255, ink high, background 0"},
        "output": "position probabilities (3, 11): hundreds, tens, units; class 10 = blank",
    }
    if args.keep_members:  # "training" below describes the new members only
        config["kept_members"] = kept_settings(args)
    if args.init:  # "training" below describes the fine-tuning
        config["fine_tuned_from"] = member_settings(args.init)
    finish_training(args, model, config, val_metrics, work_dir,
                    model_plots(args, model, work_dir / "history.csv", val_image))
    return val_metrics


def main(argv=None):
    return recipe.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
