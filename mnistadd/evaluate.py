"""Measure the shipped models on data they never saw, and record the figures in their folders.

    python -m mnistadd.evaluate reader    # 10,000 strips from test_generator (MNIST test digits)
    python -m mnistadd.evaluate adder     # all 256 x 256 = 65,536 additions
    python -m mnistadd.evaluate end2end   # 10,000 pairs from test_generator, next to reader + adder
    python -m mnistadd.evaluate end2end-sum-only   # any model folder; its config.json says its kind
    python -m mnistadd.evaluate reader --split val # validation figures, to choose models by

Each writes the "test" section of models/<name>/metrics.json (atomically), its plots, and regenerates
the model card. Test images come from a fixed seed, so the figures are reproducible. `--split val`
instead adds validation figures to the "validation" section, the figures models are chosen by: a
reader's accuracy on the validation draws (`validation_draws`), and a reader's or end-to-end model's on
the course's own strips of the held-out digits (`course_val_accuracy`, where that file is present).
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

from mnistadd import plots
from mnistadd.adder import all_pairs, pair_split
from mnistadd.api import MODELS_DIR, Reader, load
from mnistadd.cards import write_model_card
from mnistadd.data import StripRenderer, number_pairs
from mnistadd.geometry import MAX_DIGITS, STRIP_SHAPE
from mnistadd.io import read_json, write_json
from mnistadd.reader import BLANK, NUMBER_CLASSES

TEST_SEED = 12345
COURSE_VAL_ENV = "MNISTADD_COURSE_VAL"
COURSE_VAL = Path(__file__).resolve().parent.parent.parent / "shared" / "course_val" / "course_val.npz"
# Seeds of the validation strip sets; the first is the one the reader's trainer follows while training.
VALIDATION_DRAWS = (1000, 1001, 1002, 1003)


def validation_draws(read, mnist_dir=None, size=5000):
    """Number accuracy of `read` (strips -> numbers) on `size` strips of the held-out training digits per
    seed of VALIDATION_DRAWS, and their mean. The 1,000 held-out digits hold only a handful of hard cases,
    which one draw of strips repeats more or less often: single draws of the same reader differ by up
    to half a point, so readers are compared on the mean."""
    renderer = StripRenderer.from_split("val", mnist_dir)
    accuracies = [float(np.mean(read(x) == y)) for x, y in (renderer.fixed_set(size, seed) for seed in VALIDATION_DRAWS)]
    return {"val_number_accuracy_draws": accuracies, "val_number_accuracy_draws_mean": round(float(np.mean(accuracies)), 6)}


def course_val_pairs(path=None):
    """The course's own pairs from the validation digits (`../shared/course_val`, or
    $MNISTADD_COURSE_VAL): strips (10,000, 2, 28, 84) float32 and numbers (10,000, 2), or None where the
    file is not there (a user's machine, the tests)."""
    path = Path(path or os.environ.get(COURSE_VAL_ENV, COURSE_VAL))
    if not path.exists():
        return None
    with np.load(path) as data:
        return data["x"].astype(np.float32), data["numbers"]


def course_val_accuracy(predict, kind, path=None):
    """Accuracy on the course's own validation strips, what models are chosen by: a reader's `predict`
    (strips -> numbers) on its 20,000 strips, an end-to-end model's (strips a, strips b -> sums) on its
    10,000 pairs; {} without the file."""
    pairs = course_val_pairs(path)
    if pairs is None:
        return {}
    x, numbers = pairs
    if kind == "reader":
        return {"course_val_number_accuracy": float(np.mean(predict(x.reshape(-1, *STRIP_SHAPE)) == numbers.ravel()))}
    return {"course_val_sum_accuracy": float(np.mean(predict(x[:, 0], x[:, 1]) == numbers.sum(axis=1)))}


def test_pairs(n_pairs, mnist_dir=None, cut="course"):
    """`n_pairs` pairs of MNIST test digits, as the homework's test generator gives them: images (n, 2, 28, 84) and numbers (n, 2)."""
    x, numbers, _ = next(number_pairs("test", n_pairs, seed=TEST_SEED, cut=cut, mnist_dir=mnist_dir))
    return x, numbers


def evaluate_reader(folder, mnist_dir=None, n_images=10000):
    reader = load(folder.name, models_dir=folder.parent)
    x, numbers = test_pairs(n_images // 2, mnist_dir)
    images, numbers = x.reshape(-1, *STRIP_SHAPE), numbers.reshape(-1)
    started = time.perf_counter()
    read, _, position_probs = reader.read(images)
    seconds = time.perf_counter() - started
    true_classes, read_classes = NUMBER_CLASSES[numbers], NUMBER_CLASSES[read]
    present = true_classes != BLANK
    lengths = MAX_DIGITS - (true_classes == BLANK).sum(axis=1)  # digits written: positions not blank
    x_clean, numbers_clean = test_pairs(n_images // 2, mnist_dir, cut="clean")
    clean_read = reader.predict(x_clean.reshape(-1, *STRIP_SHAPE))
    metrics = {
        "number_accuracy": float(np.mean(read == numbers)),
        # the same model decoded position by position, without the valid-number constraint
        "number_accuracy_per_position_argmax": float(np.mean((position_probs.argmax(-1) == true_classes).all(axis=1))),
        "digit_accuracy": float(np.mean(read_classes[present] == true_classes[present])),
        **{f"number_accuracy_{k}_digits": float(np.mean(read[lengths == k] == numbers[lengths == k]))
           for k in range(1, MAX_DIGITS + 1)},
        "number_accuracy_clean_cut": float(np.mean(clean_read == numbers_clean.reshape(-1))),
        "images": int(len(images)),
        "predict_seconds": round(seconds, 2),
    }
    confusion = np.zeros((11, 11), int)
    np.add.at(confusion, (true_classes.ravel(), read_classes.ravel()), 1)
    wrong = np.flatnonzero(read != numbers)[:16]
    labels = [str(d) for d in range(10)] + ["blank"]
    plots.plot_confusion(confusion, labels, folder / "confusion.png",
                         "Reader: digit confusion on 10,000 test strips (per position)", "read", "true")
    plots.plot_gallery(images[wrong], [f"true {numbers[i]}, read {read[i]}" for i in wrong], folder / "misread.png",
                       "Reader: misread test strips")
    return metrics


def evaluate_adder(folder):
    adder = load(folder.name, models_dir=folder.parent)
    a, b = all_pairs()
    predicted = adder.predict(a, b)
    right = predicted == a + b
    training = read_json(folder / "config.json")["training"]
    _, _, held_out = pair_split(training["train_fraction"], training["val_fraction"], training["seed"])
    errors = np.flatnonzero(~right)
    return {
        "all_pairs_accuracy": float(right.mean()),
        "pairs": int(len(a)),
        "held_out_accuracy": float(right[held_out].mean()),
        "held_out_pairs": int(len(held_out)),
        "errors": [{"a": int(a[i]), "b": int(b[i]), "answered": int(predicted[i])} for i in errors[:100]],
        "error_count": int(len(errors)),
    }


def evaluate_end2end(folder, mnist_dir=None, n_pairs=10000):
    end2end = load(folder.name, models_dir=folder.parent)
    x, numbers = test_pairs(n_pairs, mnist_dir)
    sums = numbers.sum(axis=1)
    predicted = end2end.predict(x[:, 0], x[:, 1])
    # The numbers the model's own digit reader reads, to count sums right despite a misread number.
    digit_reader = Reader(end2end.model.get_layer("digit_reader"), end2end.config)
    inner = np.stack([digit_reader.predict(x[:, i]) for i in (0, 1)], axis=1)
    metrics = {
        "sum_accuracy": float(np.mean(predicted == sums)),
        "lucky_fraction": float(np.mean((predicted == sums) & (inner != numbers).any(axis=1))),
        "pairs": int(n_pairs),
    }
    try:
        reader, adder = load("reader", models_dir=folder.parent), load("adder", models_dir=folder.parent)
    except FileNotFoundError as e:
        print(f"pipeline comparison skipped: {e}")
    else:
        read = np.stack([reader.predict(x[:, i]) for i in (0, 1)], axis=1)
        pipeline = adder.predict(read[:, 0], read[:, 1])
        metrics.update(
            pipeline_sum_accuracy=float(np.mean(pipeline == sums)),
            pipeline_lucky_fraction=float(np.mean((pipeline == sums) & (read != numbers).any(axis=1))),
            pipeline_both_numbers_read=float(np.mean((read == numbers).all(axis=1))),
            # which reader: the one beside this model today, which may be newer than the model
            pipeline_reader=", ".join(f"{key} {value}" for key, value in reader.config["architecture"].items()),
        )
    wrong = np.flatnonzero(predicted != sums)[:12]
    plots.plot_gallery(np.concatenate([x[wrong, 0], x[wrong, 1]], axis=2),
                       [f"{numbers[i, 0]} + {numbers[i, 1]} = {sums[i]}, model {predicted[i]}" for i in wrong],
                       folder / "errors.png", "End-to-end: wrong sums on test pairs (the two strips side by side)", cols=3)
    return metrics


EVALUATIONS = {"reader": evaluate_reader, "adder": evaluate_adder, "end2end": evaluate_end2end}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a folder of --models-dir: reader, adder, end2end, end2end-sum-only, ...")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--mnist-dir")
    parser.add_argument("--split", choices=["test", "val"], default="test",
                        help="val: a reader on the validation draws (held-out training digits) instead of the test split")
    args = parser.parse_args(argv)
    folder = (args.models_dir / args.model).resolve()
    metrics = read_json(folder / "metrics.json")
    kind = read_json(folder / "config.json")["model"]
    if args.split == "val":
        if kind not in ("reader", "end2end"):
            parser.error(f"--split val measures readers and end-to-end models; {args.model} is a {kind}")
        predictor = load(folder.name, models_dir=folder.parent)
        measured = validation_draws(predictor.predict, args.mnist_dir) if kind == "reader" else {}
        measured.update(course_val_accuracy(predictor.predict, kind))
        if kind == "end2end":  # the reader + adder pipeline beside it, on the same pairs
            reader, adder = load("reader", models_dir=folder.parent), load("adder", models_dir=folder.parent)
            pipeline = lambda a, b: adder.predict(reader.predict(a), reader.predict(b))
            measured.update({f"pipeline_{key}": value for key, value in course_val_accuracy(pipeline, kind).items()})
        metrics["validation"].update(measured)
    else:
        evaluation = EVALUATIONS[kind]
        measured = evaluation(folder) if kind == "adder" else evaluation(folder, args.mnist_dir)
        metrics["test"] = measured
    write_json(folder / "metrics.json", metrics)
    write_model_card(folder)
    print({k: v for k, v in measured.items() if k != "errors"})


if __name__ == "__main__":
    main()
