"""Short reader runs that vary one hyperparameter at a time against the default CNN, and the MLP
baseline on the same data and budget. Results (validation only) go to experiments/reader.json and a plot.

    python -m train.reader_sweep [--epochs 8 --steps-per-epoch 40]

The final model's settings are chosen from this table; the test split is not used here.
"""

import argparse
import json
import sys
from pathlib import Path

from mnistadd import plots
from mnistadd.training import write_json
from train import reader

VARIANTS = {
    "cnn (default)": [],
    "mlp baseline": ["--arch", "mlp"],
    "cnn filters=32": ["--filters", "32"],
    "cnn dense=128": ["--dense", "128"],
    "cnn dropout=0": ["--dropout", "0"],
    "cnn dropout=0.3": ["--dropout", "0.3"],
    "cnn no batch norm": ["--no-batch-norm"],
    "cnn cut=mixed": ["--cut", "mixed"],
    "cnn lr=5e-4": ["--lr", "5e-4"],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", default="6")
    parser.add_argument("--steps-per-epoch", default="50")
    parser.add_argument("--val-size", default="2000")
    parser.add_argument("--mnist-dir")
    parser.add_argument("--out", default="experiments/reader.json")
    args = parser.parse_args()
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {}  # a cut sweep resumes where it stopped
    budget = ["--epochs", args.epochs, "--steps-per-epoch", args.steps_per_epoch, "--val-size", args.val_size,
              "--patience", args.epochs, "--out", "none", "--work-dir", "runs/reader_sweep"]
    if args.mnist_dir:
        budget += ["--mnist-dir", args.mnist_dir]
    for name, flags in VARIANTS.items():
        if name in results:
            continue
        model, metrics, work_dir = reader.train(reader.parse_args(budget + flags))
        history = plots.read_history(work_dir / "history.csv")
        results[name] = {"flags": " ".join(flags), **metrics,
                         "val_curve": history["val_number_accuracy"], "train_samples": int(args.epochs) * int(args.steps_per_epoch) * 128}
        write_json(out, results)
        print(name, metrics, file=sys.stderr)
    plots.plot_bars(list(results), [r["val_number_accuracy"] for r in results.values()], out.with_suffix(".png"),
                    "Reader variants: validation number accuracy after the same short budget",
                    "variant", "validation number accuracy")


if __name__ == "__main__":
    main()
