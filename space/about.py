"""The Space's About tab: the models' key results in words and one table, read from their folders."""

from pathlib import Path

from mnistadd.io import read_json
from mnistadd.tables import markdown_table


def about_markdown(models):
    """The models' key results in words and one table with units, from their folders' JSON files."""
    def measured(name, file, *keys):
        path = models.folders.get(name, Path("/nonexistent")) / file
        value = read_json(path, default={})
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    rows = []

    def row(measure, value, unit, scale=100, digits=2):
        if value is not None:
            rows.append((measure, f"{value * scale:,.{digits}f}", unit))

    row("Reader: numbers read right, 10,000 MNIST test strips", measured("reader", "metrics.json", "test", "number_accuracy"), "%")
    row("Reader: numbers read right, 2,000 drawing-like test images", measured("reader", "drawn_accuracy.json", "accuracy", "drawn_to_strip"), "%")
    held = measured("reader", "calibration.json", "held_out") or {}
    row("Reader: genuine drawn numbers declined (validation digits)", held.get("drawn", {}).get("declined"), "%")
    row("Reader: answered drawn numbers read right (validation digits)", held.get("drawn", {}).get("accuracy_answered"), "%")
    for kind, label in (("four_digits", "four-digit numbers"), ("over_255", "numbers 256-999"), ("letters", "letters and words"),
                        ("scribbles", "scribbles and shapes")):
        row(f"Reader: {label} declined (generated)", held.get(kind, {}).get("declined"), "%")
    row("Reader: calibration error (ECE) after temperature scaling",
        measured("reader", "calibration.json", "reliability", "after", "ece"), "percentage points")
    row("Adder: exact sums, all 65,536 pairs 0-255", measured("adder", "metrics.json", "test", "all_pairs_accuracy"), "%")
    row("End-to-end: exact sums, 10,000 test pairs", measured("end2end", "metrics.json", "test", "sum_accuracy"), "%")
    row("Reader + adder: exact sums, the same pairs", measured("end2end", "metrics.json", "test", "pipeline_sum_accuracy"), "%")
    for name in ("reader", "adder", "end2end"):
        row(f"{name.capitalize()}: training time on 2 CPU cores", measured(name, "metrics.json", "validation", "train_seconds_this_run"),
            "s", scale=1, digits=0)
    words = ("The **reader** reads a number 0-255 written with MNIST digits in a 28x84 strip; a drawing or photo is "
             "first turned into such a strip. When an image does not look like a number 0-255 (four digits, a number "
             "over 255, a letter, a scribble) it says it is not sure instead of answering, and shows its guess as a "
             "guess. The **adder** adds two numbers 0-255 given as digit strings. The **end-to-end** model sums two "
             "strips in one network, trained from the sums; the reader + adder pipeline is its baseline. "
             "Figures below are measured on data the models never trained on (MNIST test digits, or validation "
             "digits for the decline rule), by the commands in the repository's README.")
    table = markdown_table(("measure", "value", "unit"), rows) if rows else "No measurements found."
    return words + "\n\n" + table
