"""Keep a finished run as a record, so the report still shows it after its model folder is retrained or
deleted.

    python -m train.record models/reader experiments/reader-dense512-full.json --about "..."
    python -m train.record models/end2end experiments/end2end-from-dense256-reader.json --about "..."

A record (`experiments/*.json`) holds the folder's training settings, architecture, validation metrics,
its test metrics if `python -m mnistadd.evaluate` measured any, and from its history: for a reader, the
last epoch's training number accuracy and every epoch's validation figures; for an end-to-end model, the
accuracies of every epoch. Plus the commit it was recorded at.
"""

import argparse
import subprocess

from mnistadd import plots
from mnistadd.io import read_json, write_record
from train.reader import accuracy_metric


def run_record(folder):
    """A model folder's settings, metrics and what its history says, as one dict."""
    config, metrics = read_json(f"{folder}/config.json"), read_json(f"{folder}/metrics.json")
    history = plots.read_history(f"{folder}/history.csv")
    record = {"training": config["training"], "architecture": config["architecture"], **metrics,
              **{key: config[key] for key in ("kept_members", "fine_tuned_from") if key in config}}
    if config["model"] == "reader":
        # the history is the CNNs this run trained, not those it kept (train.reader --keep-members)
        accuracy = accuracy_metric(config["architecture"].get("members", 1) - len(config.get("kept_members", [])))
        return {**record, "final_epoch_train_number_accuracy": history[accuracy][-1],
                "history": {column: values for column, values in history.items() if column.startswith("val_")}}
    return {**record, "history": {column: values for column, values in history.items() if column.endswith("accuracy")}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="a model folder, as train.reader or train.end2end wrote it")
    parser.add_argument("record", help="the JSON file to write: experiments/reader-<name>-full.json for a reader")
    parser.add_argument("--about", required=True, help="what the run was and why it is kept")
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    write_record(args.record, {"about": args.about, "commit": commit, **run_record(args.folder)})


if __name__ == "__main__":
    main()
