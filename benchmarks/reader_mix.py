"""Readers averaged: do trained readers of different designs, averaged, read better than each alone?

    python -m benchmarks.reader_mix models/reader runs/models/reader-6x24-shipped \
        --out experiments/reader-mix-f32x4-6x24.json

More CNNs of one width stopped paying (REPORT.md: 24-filter, 6 as good as 8; 32-filter, 4 as good as 5);
CNNs of another width err on other strips, so averaging two finished readers is the cheap next try, with
no training at all. Measured on what readers are chosen by, never on test: the course's own validation
strips (`course_val`, 20,000) and the mean of the four validation draws (`mnistadd.evaluate.validation_draws`),
for each reader alone and for two ways to average them:

- `cnns`: every CNN weighs the same (a reader of 6 CNNs counts 6 times, one of 4 counts 4 times);
- `readers`: every reader weighs the same (each reader's own average, then the mean of those), which is
  what `train.end2end --init-reader A B` builds as its digit reader.

Each CNN reads every strip once; the averages come from those probabilities.
"""

import argparse
from pathlib import Path

import keras
import numpy as np

from mnistadd.data import StripRenderer
from mnistadd.evaluate import VALIDATION_DRAWS, course_val_pairs
from mnistadd.reader import ensemble_members, read_numbers
from mnistadd.io import write_record


def strip_sets(mnist_dir=None):
    """{name: (strips, numbers)}: course_val's 20,000 strips and the four 5,000-strip validation draws."""
    renderer = StripRenderer.from_split("val", mnist_dir)
    sets = {f"draw_{seed}": renderer.fixed_set(5000, seed) for seed in VALIDATION_DRAWS}
    pairs = course_val_pairs()
    if pairs is not None:
        sets["course_val"] = (pairs[0].reshape(-1, 28, 84), pairs[1].ravel())
    return sets


def cnn_probabilities(folder, sets):
    """{set name: (CNNs, N, 3, 11)} position probabilities of each CNN of the reader in `folder`."""
    reader = keras.saving.load_model(Path(folder) / "model.keras", compile=False, safe_mode=True)
    return {name: np.stack([cnn.predict(strips, batch_size=512, verbose=0) for cnn in ensemble_members(reader)])
            for name, (strips, _) in sets.items()}


def figures(position_probs, sets):
    """Accuracy on each set, as chosen-by figures: course_val and the validation draws' mean."""
    accuracy = {name: float(np.mean(read_numbers(position_probs[name])[0] == numbers)) for name, (_, numbers) in sets.items()}
    draws = [accuracy[f"draw_{seed}"] for seed in VALIDATION_DRAWS]
    return {"course_val_number_accuracy": accuracy.get("course_val"), "val_number_accuracy_draws": draws,
            "val_number_accuracy_draws_mean": round(float(np.mean(draws)), 6)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("readers", nargs="+", metavar="FOLDER", help="trained reader folders (two or more)")
    parser.add_argument("--mnist-dir")
    parser.add_argument("--out", default="none", help='JSON file for the figures, or "none"')
    args = parser.parse_args(argv)
    if len(args.readers) < 2:
        parser.error("give two readers or more to average")
    sets = strip_sets(args.mnist_dir)
    probs = [cnn_probabilities(folder, sets) for folder in args.readers]
    result = {"readers": [{"folder": folder, "cnns": len(p[next(iter(p))]),
                           **figures({name: cnns.mean(axis=0) for name, cnns in p.items()}, sets)}
                          for folder, p in zip(args.readers, probs)],
              "averaged_by_cnns": figures({name: np.concatenate([p[name] for p in probs]).mean(axis=0) for name in sets}, sets),
              "averaged_by_readers": figures({name: np.mean([p[name].mean(axis=0) for p in probs], axis=0) for name in sets}, sets)}
    print(result)
    if args.out != "none":
        write_record(args.out, result)


if __name__ == "__main__":
    main()
