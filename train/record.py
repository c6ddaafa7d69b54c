"""Keep a finished reader run as a record, so the report's table of full runs still shows it after its
model folder is retrained or deleted.

    python -m train.record models/reader experiments/reader-dense512-full.json --about "..."

The record (`experiments/reader-*-full.json`) holds the folder's training settings, architecture,
validation metrics, its test metrics if `python -m mnistadd.evaluate reader` measured any, and the
last epoch's training number accuracy from its history, plus the commit it was recorded at.
"""

import argparse
import subprocess

from mnistadd import plots
from mnistadd.training import read_json, write_json
from train.reader import accuracy_metric


def reader_record(folder):
    """A reader folder's settings, metrics and last-epoch training number accuracy, as one dict."""
    config, metrics = read_json(f"{folder}/config.json"), read_json(f"{folder}/metrics.json")
    history = plots.read_history(f"{folder}/history.csv")
    accuracy = accuracy_metric(config["architecture"].get("members", 1))
    return {"training": config["training"], "architecture": config["architecture"],
            "final_epoch_train_number_accuracy": history[accuracy][-1], **metrics}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="a reader's model folder, as train.reader wrote it")
    parser.add_argument("record", help="the JSON file to write, experiments/reader-<name>-full.json")
    parser.add_argument("--about", required=True, help="what the run was and why it is kept")
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    write_json(args.record, {"about": args.about, "commit": commit, **reader_record(args.folder)})


if __name__ == "__main__":
    main()
