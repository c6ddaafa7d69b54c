"""Train multi-digit MNIST addition from sums alone, on the benchmark's protocol, over several seeds.

    python -m train.addition --digits 4          # the recipe addition-n4: reproduces models/addition-n4
    python -m train.addition --digits 100        # addition-n100 (likewise 1, 2, 15, 200, 500)
    python -m train.addition --recipe addition-small   # the same design in a minute, for trying things
    python -m train.addition --recipe none --digits 3 --epochs 2   # no recipe: the trainer's own defaults

`--digits N` picks the recipe addition-nN of train/recipes/ (`train.recipe`); `--help` shows its settings
as the defaults, and a flag overrides them.

Protocol (DeepProbLog, NeurASP, DeepStochLog, Scallop, Embed2Sym, A-NeSI): N-digit numbers, most
significant digit first. The training digits, shuffled with the run's seed, are cut into pairs of
N-digit numbers, and each pair's only label is its sum (`cut_into_sums`); the pairing stays fixed for
the run, only the order of the sums changes between epochs. The last 6,000 MNIST training digits are
held out and cut the same way into validation sums, on which early stopping picks each run's epoch:
digit labels are used for nothing but building the sums, and, after training, for measuring the digit
accuracy that sum-only training reached. The 10,000 test digits are cut into 10000 // 2N sums with a
fixed seed (the protocol's test set); since any pairing of the test digits is as fair, each run is also
measured on `OTHER_PAIRINGS` further pairings of them, which costs nothing once every test digit is read.

Warm-up: at the start, digits read near uniformly, and then a position below the top tells nothing
about its digits: its sum digit is (a + b + carry) mod 10, uniform whatever a is. Only the top pair sees
its whole sum, 0..19, in the sum's first two digits (up to the carry from below), and for N = 15 that is
one pair in fifteen: the other positions' mod-10 terms amplify the initial noise, and some seeds settled
on a wrong digit assignment that no sum is read right with (in our first runs, seed 0 of batch 5 sums
and seed 1 of batch 16). So the digit network first learns from the top pairs alone (`--warmup-sums` of
them, cycling through the training sums; a carry from below has probability 1/2, none for N = 1, where
the top pair is the whole sum), the N = 1 problem on the same images and labels, then from the whole sums.

Starts: even N = 1 has a trap. One seed in five of our first N = 1 runs read almost no digit right
(digit accuracy 0.1 %) and yet half the sums: a relabelling of the digits whose errors cancel in half
the pairs (a -> a + 1 for some digits, a -> a - 1 for others), which training never left. So a run may warm up `--starts` fresh digit networks and
keep the one that reads the validation sums best (sums only, no digit label); with one start in five
trapped, four starts all trap with probability 0.2^4, under 0.2 %. The N = 1 models use 4 starts; the
N > 1 ones, where the warm-up already made every seed train, one.

Each seed is a separate run in `runs/addition-nN/seed-K/` (checkpoints, history, `result.json`); with
`--resume` finished seeds are kept and an interrupted one continues. The model folder ships the seed
that did best on validation sums; `metrics.json` holds every seed's figures and their mean and standard
deviation.
"""

import argparse
import math
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnistadd import plots
from mnistadd.addition import SumNegativeLogLikelihood, build_addition, sum_accuracy
from mnistadd.data import split_digits
from mnistadd.digits import digits_of, numbers_of
from mnistadd.geometry import DIGIT_SHAPE
from mnistadd.io import read_json, write_json
from mnistadd.paths import MODELS_DIR, RUNS_DIR
from mnistadd.training import cosine_schedule, finish_training, inference_copy, prepare_work_dir, training_callbacks
from train import recipe

VALIDATION_SEED = 2000  # the same validation sums for every seed
TEST_SEED = 0  # the protocol's pairing of the test digits
OTHER_PAIRINGS = 100  # more pairings of the test digits, seeds 1..100
DEFAULT_RECIPE = "addition-n1"
NET_KEYS = ("filters", "dense", "dropout", "design", "augment")


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=recipe.HelpFormatter,
                                     parents=[recipe.common_flags(), recipe.data_flags()])
    parser.add_argument("--digits", type=int, default=1, help="N, the digits of each number")
    parser.add_argument("--seeds", type=int, default=5, help="runs, with seeds SEED .. SEED+SEEDS-1")
    parser.add_argument("--design", choices=["lenet", "vgg"], default="lenet",
                        help="digit network: the papers' LeNet (two 5x5 conv blocks) or two blocks of two 3x3 convs")
    parser.add_argument("--filters", type=int, default=32, help="filters of the first conv block (twice as many in the second)")
    parser.add_argument("--dense", type=int, default=128, help="units of the dense layer")
    parser.add_argument("--dropout", type=float, default=0.3, help="dropout before the output layer")
    parser.add_argument("--augment", type=float, default=0.0,
                        help="random rotation, shift and zoom of the training digits (1: up to 10 degrees, 10 %%)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (AdamW, warm-up, then cosine decay)")
    parser.add_argument("--batch-size", type=int, default=16, help="sums per step")
    parser.add_argument("--epochs", type=int, default=8, help="epochs at most")
    parser.add_argument("--patience", type=int, default=3, help="epochs without a better --select before stopping")
    parser.add_argument("--select", choices=["val_sum_accuracy", "val_loss"], default="val_sum_accuracy",
                        help="what picks the epoch kept: held-out sums read right, or their likelihood (steadier "
                             "when there are only a few dozen held-out sums)")
    parser.add_argument("--warmup-sums", type=int, default=27000,
                        help="top digit pairs to learn from before the whole sums")
    parser.add_argument("--starts", type=int, default=1,
                        help="warm-ups from fresh digit networks; the one reading validation sums best is kept")
    return parser


def check_args(parser, args):
    """Default folders by N: models/addition-nN and runs/addition-nN."""
    args.out = args.out or str(MODELS_DIR / f"addition-n{args.digits}")
    args.work_dir = args.work_dir or str(RUNS_DIR / f"addition-n{args.digits}")
    return args


def parse_args(argv=None):
    """One run's settings from the flags over the trainer's own defaults, no recipe (tests)."""
    return recipe.parse(sys.modules[__name__], argv)


def pairing(count, n, seed):
    """Indices (S, 2, n) of `count` digits shuffled with `seed` and cut into S = count // 2n pairs of n-digit numbers."""
    sums = count // (2 * n)
    return np.random.default_rng(seed).permutation(count)[:sums * 2 * n].reshape(sums, 2, n)


def cut_into_sums(images, labels, n, seed):
    """Inputs {"digits_a", "digits_b"} (S, n, 28, 28) and targets, each sum's n + 1 digits (S, n + 1)."""
    groups = pairing(len(images), n, seed)
    sums = numbers_of(labels[groups[:, 0]]) + numbers_of(labels[groups[:, 1]])
    return {"digits_a": images[groups[:, 0]], "digits_b": images[groups[:, 1]]}, digits_of(sums, n + 1)


def paired_sum_accuracy(predicted, labels, n, seed):
    """Sum accuracy on one pairing of digits whose most likely values are `predicted`: both numbers read, then added."""
    groups = pairing(len(labels), n, seed)
    read = numbers_of(predicted[groups[:, 0]]) + numbers_of(predicted[groups[:, 1]])
    return float(np.mean((read == numbers_of(labels[groups[:, 0]]) + numbers_of(labels[groups[:, 1]])).astype(bool)))


def measure_on_test(model, n, mnist_dir):
    """Test figures: every test digit read once by the digit network, then paired (labels only measure)."""
    images, labels = split_digits("test", mnist_dir)
    digit_net = model.get_layer("read_digits").layer
    predicted = digit_net.predict(images, batch_size=1000, verbose=0).argmax(axis=1)
    others = [paired_sum_accuracy(predicted, labels, n, seed) for seed in range(1, OTHER_PAIRINGS + 1)]
    digit_accuracy = float(np.mean(predicted == labels))
    return {
        "sum_accuracy": paired_sum_accuracy(predicted, labels, n, TEST_SEED),
        "other_pairings_sum_accuracy_mean": float(np.mean(others)),
        "other_pairings_sum_accuracy_min": float(np.min(others)),
        "digit_accuracy": digit_accuracy,
        "implied_sum_accuracy": digit_accuracy ** (2 * n),  # every one of the 2N digits read right
    }


def net_settings(args):
    """The digit network's settings (`build_digit_net` arguments) from the command line."""
    return {key: getattr(args, key) for key in NET_KEYS}


def validation_sum_accuracy(digit_net, validation):
    """Sums of the validation pairs read right by `digit_net` (`sum_accuracy`: each digit's most likely
    value, the numbers added)."""
    inputs, targets = validation
    log_probs = np.stack([digit_net.predict(images.reshape(-1, *DIGIT_SHAPE), batch_size=1000, verbose=0)
                          .reshape(*images.shape[:2], -1) for images in inputs.values()], axis=1)  # (S, 2, N, 10)
    return float(np.mean(keras.ops.convert_to_numpy(sum_accuracy(targets, log_probs))))


def warm_up(args, inputs, targets, validation):
    """The digit network (weights) of the best of `args.starts` warm-ups on the top digit pairs alone,
    and every start's validation sum accuracy. The top pair's sum is the sum's first two digits, up to a
    carry from below (probability 1/2; none for N = 1)."""
    top_pairs = {key: digits[:, :1] for key, digits in inputs.items()}
    repeats = math.ceil(args.warmup_sums / len(targets))
    batches = tf.data.Dataset.from_tensor_slices((top_pairs, targets[:, :2])).repeat(repeats).shuffle(
        len(targets)).take(args.warmup_sums).batch(64)
    starts = []
    for _ in range(args.starts):
        model = build_addition(1, net_settings(args))
        model.compile(optimizer=keras.optimizers.AdamW(args.lr),
                      loss=SumNegativeLogLikelihood(carry_in=0.5 if args.digits > 1 else 0.0))
        model.fit(batches, verbose=2, shuffle=False)
        digit_net = model.get_layer("read_digits")
        starts.append((validation_sum_accuracy(digit_net.layer, validation), digit_net.get_weights()))
        print(f"start {len(starts)}: validation sum accuracy {starts[-1][0]:.4f}")
    return max(starts, key=lambda start: start[0])[1], [accuracy for accuracy, _ in starts]


def train_seed(args, seed, train_digits, validation):
    """One run: the model of its best validation epoch and its record (also saved as result.json)."""
    work_dir = Path(args.work_dir) / f"seed-{seed}"
    if args.resume and (work_dir / "result.json").exists():
        best = keras.saving.load_model(work_dir / "best.keras", compile=False)
        return inference_copy(best), read_json(work_dir / "result.json")
    keras.utils.set_random_seed(seed)
    inputs, targets = cut_into_sums(*train_digits, args.digits, seed)
    batches = tf.data.Dataset.from_tensor_slices((inputs, targets)).shuffle(len(targets), seed=seed).batch(args.batch_size)
    model = build_addition(args.digits, net_settings(args))
    started, start_accuracies = time.time(), []
    if args.warmup_sums and not (work_dir / "backup").exists():  # a resumed run is past it
        weights, start_accuracies = warm_up(args, inputs, targets, validation)
        model.get_layer("read_digits").set_weights(weights)
    steps = args.epochs * math.ceil(len(targets) / args.batch_size)
    model.compile(optimizer=keras.optimizers.AdamW(cosine_schedule(args.lr, steps)),
                  loss=SumNegativeLogLikelihood(), metrics=[sum_accuracy])
    model.fit(batches, epochs=args.epochs, validation_data=validation, verbose=2, shuffle=False,
              callbacks=training_callbacks(work_dir, args.select, args.patience, mode="min" if args.select == "val_loss" else "max"))
    model = inference_copy(model)  # measured as it is saved, Dense kernels in int8
    history = plots.read_history(work_dir / "history.csv")  # every epoch, also those before a resume
    result = {
        "seed": seed,
        "training_sums": len(targets),
        "epochs": len(history["loss"]),
        "start_val_sum_accuracies": start_accuracies,  # after each warm-up; empty for a resumed run
        "train_seconds": round(time.time() - started),  # of this process: a resumed run's last part
        "val_sum_accuracy": float(history["val_sum_accuracy"][kept_epoch(history, args.select)]),
        "val_loss": float(history["val_loss"][kept_epoch(history, args.select)]),
        "test": measure_on_test(model, args.digits, args.mnist_dir),
    }
    write_json(work_dir / "result.json", result)
    return model, result


def kept_epoch(history, select):
    """The epoch early stopping kept: best on `select`."""
    return int(np.argmin(history[select]) if select == "val_loss" else np.argmax(history[select]))


def summary(results):
    """Mean and standard deviation over seeds of each test figure, and every seed's own."""
    test = {}
    for key in results[0]["test"]:
        values = [result["test"][key] for result in results]
        test[f"{key}_mean"], test[f"{key}_std"] = float(np.mean(values)), float(np.std(values, ddof=1) if len(values) > 1 else 0.0)
    test["seeds"] = len(results)
    test["per_seed"] = [{"seed": r["seed"], **r["test"], "epochs": r["epochs"], "train_seconds": r["train_seconds"],
                         "start_val_sum_accuracies": r.get("start_val_sum_accuracies", [])} for r in results]
    return test


def run(args):
    """Trains every seed and writes the folder of the one that reads validation sums best (unless --out
    none); returns its validation metrics, with the training seconds of all seeds."""
    prepare_work_dir(args.work_dir, args.resume)
    images, labels = split_digits("train", args.mnist_dir)
    train_digits = images[:args.train_digits], labels[:args.train_digits]
    validation = cut_into_sums(*split_digits("val", args.mnist_dir), args.digits, VALIDATION_SEED)
    runs = [train_seed(args, seed, train_digits, validation) for seed in range(args.seed, args.seed + args.seeds)]
    for _, result in runs:
        print(result)
    test = summary([result for _, result in runs])
    print({key: value for key, value in test.items() if key != "per_seed"})
    model, shipped = max(runs, key=lambda run: (run[1]["val_sum_accuracy"], -run[1].get("val_loss", 0.0)))
    metrics = {key: shipped[key] for key in ("val_sum_accuracy", "training_sums", "epochs", "train_seconds")}
    metrics["train_seconds_this_run"] = sum(result["train_seconds"] for _, result in runs)
    if args.out == "none":
        return metrics
    work_dir = Path(args.work_dir) / f"seed-{shipped['seed']}"
    test.update(shipped_seed=shipped["seed"], shipped_sum_accuracy=shipped["test"]["sum_accuracy"])
    config = {
        "model": "addition",
        "architecture": {"digits": args.digits, "digit_net": net_settings(args),
                         "sum": "exact carry-chain likelihood (training); each digit's most likely value, added (prediction)"},
        "input": {"digits_a": [args.digits, *DIGIT_SHAPE], "digits_b": [args.digits, *DIGIT_SHAPE],
                  "pixels": "raw 0-255 MNIST digits, most significant first"},
        "output": "digit log-probabilities (2, N, 10) of both numbers; the predictor adds the most likely digits",
    }
    curves = {f"seed {r['seed']}": plots.read_history(Path(args.work_dir) / f"seed-{r['seed']}" / "history.csv")["val_sum_accuracy"]
              for _, r in runs}
    history = plots.read_history(work_dir / "history.csv")
    finish_training(args, model, config, metrics, work_dir, [
        ("history.png", lambda p: plots.plot_history(history, ["loss", "sum_accuracy"], p,
                                                     f"Addition N={args.digits}, seed {shipped['seed']}")),
        ("seeds.png", lambda p: plots.plot_curves(curves, p, f"Addition N={args.digits}: every seed",
                                                  "epoch", "validation sum accuracy")),
    ], test=test)
    return metrics


def main(argv=None):
    """`--digits N` without `--recipe` runs the recipe addition-nN."""
    argv = sys.argv[1:] if argv is None else list(argv)
    picker = argparse.ArgumentParser(add_help=False)
    picker.add_argument("--digits", type=int)
    picker.add_argument("--recipe")
    picked = picker.parse_known_args(argv)[0]
    if picked.recipe is None and picked.digits is not None:
        argv += ["--recipe", f"addition-n{picked.digits}"]
    return recipe.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
