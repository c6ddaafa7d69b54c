"""Hyperparameter sweeps: short runs that change one setting at a time from a base model, plus
each task's baseline, on the same data and budget. Results (validation and held-out only, never the
test split) go to experiments/<model>.json and a bar plot; the shipped models' settings are chosen
from these tables.

    python -m train.sweep reader [--mnist-dir DIR]
    python -m train.sweep adder
    python -m train.sweep data-budget-reader      # the data budget: the reader's base model on 9,000 to 54,000 digits
    python -m train.sweep data-budget-end2end     # ... and the sum-only end-to-end model
    python -m train.sweep sum-layer-end2end       # the sum-only model through the convolution or the carry chain

A sweep that is cut short resumes where it stopped: finished variants are kept in the JSON file. Each run
starts from its trainer's own defaults (`--recipe none`), changed by the sweep's budget and variant.
"""

import argparse
import sys
from pathlib import Path

from mnistadd import plots
from mnistadd.io import read_json, write_record
from mnistadd.paths import RUNS_DIR
from train import adder, end2end, reader

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "experiments"

# The reader sweeps' base model: one CNN of 16 filters, dense 256, dropout 0.1, course-cut strips, no
# elastic distortion or stroke change, float32. Every run starts from the trainer's own defaults, not a recipe.
READER_BASE = ["--epochs", "6", "--steps-per-epoch", "50", "--val-size", "2000", "--patience", "6",
               "--filters", "16", "--dense", "256", "--dropout", "0.1", "--cut", "course", "--elastic", "0",
               "--stroke", "0", "--members", "1", "--precision", "float32"]
DIGIT_BUDGETS = (9000, 27000, 54000)
# The sum-only end-to-end sweeps' base: the trainer's model, from scratch, on a short budget.
SUM_ONLY_BASE = ["--supervision", "sum", "--epochs", "8", "--steps-per-epoch", "150", "--val-size", "1000", "--patience", "8"]
SWEEPS = {
    "reader": {
        "trainer": reader,
        "budget": READER_BASE,
        "metric": "val_number_accuracy",
        "variants": {
            "cnn (base)": [],
            "mlp baseline": ["--arch", "mlp"],
            "cnn filters=32": ["--filters", "32"],
            "cnn dropout=0": ["--dropout", "0"],
            "cnn dropout=0.3": ["--dropout", "0.3"],
            "cnn no batch norm": ["--no-batch-norm"],
            "cnn cut=mixed": ["--cut", "mixed"],
            "cnn output=ctc": ["--output", "ctc"],
            # CTC needs more steps to leave the all-blank reading it starts from: both designs at 20 epochs
            "cnn, 20 epochs": ["--epochs", "20", "--patience", "20"],
            "cnn output=ctc, 20 epochs": ["--output", "ctc", "--epochs", "20", "--patience", "20"],
        },
    },
    # The data budget: the same short recipe on the first 9,000 training digits (all that earlier
    # sessions had), a half of the 54,000, and all of them.
    "data-budget-reader": {
        "trainer": reader,
        "budget": READER_BASE,
        "metric": "val_number_accuracy",
        "variants": {f"{digits:,} digits": ["--train-digits", str(digits)] for digits in DIGIT_BUDGETS},
    },
    "data-budget-end2end": {
        "trainer": end2end,
        "budget": SUM_ONLY_BASE,
        "metric": "val_sum_accuracy",
        "variants": {f"{digits:,} digits": ["--train-digits", str(digits)] for digits in DIGIT_BUDGETS},
    },
    # The sum-only model's loss through the convolution over 0..255 or the carry chain of MNIST addition:
    # the same model, budget and validation figure (the convolution's reading of the sum).
    "sum-layer-end2end": {
        "trainer": end2end,
        "budget": SUM_ONLY_BASE,
        "metric": "val_sum_accuracy",
        "variants": {f"{name}, seed {seed}": flags + ["--seed", str(seed)] for seed in (0, 1)
                     for name, flags in (("convolution", []), ("carry chain", ["--sum-layer", "carry"]))},
    },
    "adder": {
        "trainer": adder,
        # the sweep's base model writes the query ragged, as the Keras addition_rnn example does
        "budget": ["--epochs", "20", "--patience", "20", "--batch-size", "64", "--hidden", "128", "--layout", "ragged"],
        "metric": "held_out_accuracy",
        "variants": {
            "seq2seq lstm (base)": [],
            "single lstm baseline": ["--arch", "single"],
            "seq2seq gru": ["--cell", "gru"],
            "seq2seq hidden=64": ["--hidden", "64"],
            "seq2seq not reversed": ["--no-reverse"],
            "seq2seq aligned numbers": ["--layout", "aligned"],
            "seq2seq train 10% of pairs": ["--train-fraction", "0.1"],
            "seq2seq train 25% of pairs": ["--train-fraction", "0.25"],
        },
    },
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=sorted(SWEEPS))
    parser.add_argument("--mnist-dir")
    args = parser.parse_args()
    sweep = SWEEPS[args.model]
    out = EXPERIMENTS_DIR / f"{args.model}.json"
    out.parent.mkdir(exist_ok=True)
    results = read_json(out) if out.exists() else {}
    budget = sweep["budget"] + ["--out", "none", "--work-dir", str(RUNS_DIR / f"sweep-{args.model}")]
    if args.mnist_dir and args.model != "adder":
        budget += ["--mnist-dir", args.mnist_dir]
    for name, flags in sweep["variants"].items():
        if name in results:
            continue
        _, metrics, work_dir, *_ = sweep["trainer"].train(sweep["trainer"].parse_args(budget + flags))
        history = plots.read_history(work_dir / "history.csv")
        results[name] = {"flags": " ".join(flags), **metrics, "history": history}
        write_record(out, results)
        print(name, metrics, file=sys.stderr)
    runs = {name: r for name, r in results.items() if isinstance(r, dict)}  # not the record's question, rule, verdict
    plots.plot_bars(list(runs), [r[sweep["metric"]] for r in runs.values()], out.with_suffix(".png"),
                    f"{args.model.capitalize()} variants: {sweep['metric'].replace('_', ' ')}, short budget unless named",
                    "variant", sweep["metric"].replace("_", " "))


if __name__ == "__main__":
    main()
