"""Build REPORT.md and the README's results block from the model folders (`config.json`, `metrics.json`,
plots), the experiment records (`experiments/*.json`, each with its question, rule and verdict) and the
published figures (`docs/published/*.csv`): Python formats the numbers, `train/templates/` has the words.

    python -m train.report
"""

import argparse
import csv
import re
from pathlib import Path

import jinja2
import keras
import numpy as np

import mnistadd.addition  # noqa: F401  registers the models' own layers for loading
import mnistadd.end2end  # noqa: F401
from mnistadd import plots
from mnistadd.io import read_json, write_text_atomic
from mnistadd.tables import markdown_table as table, percent as pct, percent_with_error as pct_se
from train.record import run_record

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR, EXPERIMENTS, PUBLISHED = ROOT / "models", ROOT / "experiments", ROOT / "docs" / "published"
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), trim_blocks=True,
                               lstrip_blocks=True, undefined=jinja2.StrictUndefined)
END2END_MODELS = ("end2end", "end2end-aux-scratch", "end2end-sum-only", "end2end-neural-sum-only")
NOT_SETTINGS = {"out", "work_dir", "mnist_dir"}  # where a run wrote, not how it trained
LOAD_COLUMNS = ("requests", "failed", "declined", "served_right", "model_right", "p50_ms", "p99_ms")
IMAGE_KINDS = ("strips", "drawn", "four_digits", "over_255", "letters", "scribbles")


def words(key):
    """A metric's key in plain words."""
    key = re.sub("^val_", "validation_", key.replace("course_val", "course strips (validation)"))
    return key.replace("_draws_mean", ", mean of 4 validation sets").replace("_", " ")


def mean_std(test, key):
    return f"{100 * test[f'{key}_mean']:.2f} ± {100 * test[f'{key}_std']:.2f}"


def runs_of(record):
    """A sweep record's runs by name, without its question, rule and verdict."""
    return {name: run for name, run in record.items() if isinstance(run, dict)}


def layer_row(layer):
    """(layer, output shape, parameters, activation, regularization) of one layer."""
    config = layer.get_config()
    activation = ("softmax" if isinstance(layer, keras.layers.Softmax) else "relu" if isinstance(layer, keras.layers.ReLU)
                  else config.get("activation") or "")
    regularization = (f"dropout {config['rate']}" if isinstance(layer, keras.layers.Dropout) else
                      "batch norm" if isinstance(layer, keras.layers.BatchNormalization) else "")
    try:
        shape = str(tuple(layer.output.shape))
    except (AttributeError, ValueError):  # a layer used twice (the shared digit reader) has no single output
        shape = "(shared)"
    return [f"{layer.name} ({type(layer).__name__})", shape, layer.count_params(),
            "" if activation == "linear" else activation, regularization, 1]


def layer_rows(model, title, tables):
    """A model's rows, a Sequential part spelled out in place; each distinct sub-network gets a table of its
    own in `tables` ({its rows: (title, rows)}), where a network equal layer for layer is not repeated, and
    here one row, consecutive copies of it merged ("member_0 .. member_3", 4 x)."""
    rows = []
    for layer in model.layers:
        inner = getattr(layer, "layer", layer)  # the network inside a TimeDistributed
        if isinstance(inner, keras.Sequential):
            rows += [[f"{inner.name}/{row[0]}", *row[1:]] for row in layer_rows(inner, title, tables)]
        elif isinstance(inner, keras.Model):
            sub = layer_rows(inner, f"{title}/{inner.name}", tables)
            network = "network " + tables.setdefault(str([row[1:] for row in sub]), (f"`{title}/{inner.name}`", sub))[0]
            if rows and rows[-1][3] == network:
                rows[-1][0], rows[-1][2], rows[-1][5] = (f"{rows[-1][0].split(' ..')[0]} .. {layer.name}",
                                                         rows[-1][2] + layer.count_params(), rows[-1][5] + 1)
            else:
                rows.append([layer.name, layer_row(layer)[1], layer.count_params(), network, "", 1])
        elif not isinstance(layer, keras.layers.InputLayer):
            rows.append(layer_row(layer))
    return rows


def network_table(rows):
    return table(["layer", "output shape", "parameters", "activation, or the network it is", "regularization"], [
        (name, shape, f"{count:,}", note if copies == 1 else f"{copies} x {note}, each its own weights", regularization)
        for name, shape, count, note, regularization, copies in rows])


def model_card(name, tables):
    """What the report says of one model folder: its networks, settings, metrics and plots."""
    folder = MODELS_DIR / name
    model = keras.saving.load_model(folder / "model.keras", compile=False)
    config, metrics = read_json(folder / "config.json"), read_json(folder / "metrics.json")
    metric_table = lambda section: table(["metric", "value"], [
        (words(k), pct(v) if isinstance(v, float) and v <= 1 else v) for k, v in metrics.get(section, {}).items()
        if not isinstance(v, (list, dict))])
    known = set(tables)
    rows = layer_rows(model, name, tables)
    return {"name": name, "config": config, "metrics": metrics, "parameters": f"{model.count_params():,}",
            "int8": any(getattr(layer, "quantization_mode", None) == "int8" for layer in model._flatten_layers()),
            "networks": [(title, network_table(sub)) for key, (title, sub) in tables.items() if key not in known]
            + [(f"`{name}`", network_table(rows))], "validation": metric_table("validation"), "test": metric_table("test"),
            "images": " ".join(f"![{name} {png.stem}](models/{name}/{png.name})" for png in sorted(folder.glob("*.png"))),
            "h5": (folder / "model.h5").exists()}


def settings_table(columns):
    """Training settings side by side, {column title: settings dict}, one row per setting."""
    keys = list(dict.fromkeys(k for s in columns.values() for k, v in s.items() if k not in NOT_SETTINGS and v is not None))
    return table(["trainer flag", *columns], [(f"`--{k.replace('_', '-')}`", *[s.get(k, "") for s in columns.values()])
                                              for k in keys])


def cnn_count(run):
    return len(run.get("kept_members", [])) + run["training"].get("members", 1)


def per_cnn(run, key, default=0.0):
    """A grown reader's setting over its kept CNNs and its own, "kept + new"."""
    return " + ".join(dict.fromkeys(str(s.get(key, default)) for s in run.get("kept_members", []) + [run["training"]]))


def reader_tables(records, shipped):
    """The reader's experiments: the short sweeps, the full runs and what was tried on top of them."""
    sweep, before = runs_of(records["reader"]), runs_of(records.get("reader-sweep-9k-digits", {}))
    sweep_rows = [(name, f"`{r['flags']}`" if r["flags"] else "(base)", pct(r["val_number_accuracy"]),
                   pct(before.get(name, {}).get("val_number_accuracy")), r["parameters"], r["train_seconds_this_run"])
                  for name, r in sweep.items()]
    runs = [(f"`{name}`", r) for name, r in records.items() if re.fullmatch(r"reader-.*-full", name)]
    runs.append(("`models/reader` (the reader in use)", shipped))
    setting = lambda run, key, default=0.0: run["training"].get(key, default)
    full = [(name, cnn_count(r), r["training"]["filters"], r["training"]["dense"], setting(r, "dropout"), setting(r, "elastic"),
             per_cnn(r, "stroke"), r["training"]["cut"], r["training"]["epochs"], setting(r, "precision", "float32"),
             per_cnn(r, "seed"), f"{r['validation'].get('train_digits', 9000):,}", pct(r["final_epoch_train_number_accuracy"]),
             pct(r["validation"]["val_number_accuracy"]), pct(r["validation"].get("val_number_accuracy_draws_mean")),
             pct(r["validation"].get("course_val_number_accuracy")), f"{r['validation']['train_seconds_this_run']:,} s",
             pct(r.get("test", {}).get("number_accuracy"))) for name, r in runs]
    decisions = [(name, r["question"], r.get("rule", ""), r["verdict"]) for name, r in runs if "verdict" in r]
    by_size = {}  # the best run of each ensemble size and width on all 54,000 digits, on the course's strips
    for _, r in runs:
        if r["validation"].get("train_digits") == 54000 and "course_val_number_accuracy" in r["validation"]:
            by_size.setdefault((r["training"]["filters"], cnn_count(r)), []).append(r["validation"])
    sizes = [(width, size, pct(max(v["course_val_number_accuracy"] for v in vs)), pct(max(v["val_number_accuracy"] for v in vs)))
             for (width, size), vs in sorted(by_size.items())]
    epochs = [(name, r["training"].get("select", "accuracy"), int(np.argmax(r["history"]["val_positions_number_accuracy"]) + 1
               if r["training"].get("select", "accuracy") == "accuracy" else np.argmin(r["history"]["val_loss"]) + 1),
               len(r["history"]["val_loss"]), pct(r["validation"]["val_number_accuracy"]),
               pct(r["validation"]["course_val_number_accuracy"]), pct(r.get("test", {}).get("number_accuracy")))
              for name, r in runs if re.search("select", name)]
    figures = lambda f: (pct(f["val_number_accuracy"]) if "val_number_accuracy" in f else "-",
                         pct(f["val_number_accuracy_draws_mean"]), pct(f["course_val_number_accuracy"]))
    mix = records["reader-mix-f32x4-6x24"]
    mixes = [(f"`{r['folder']}` ({r['cnns']} CNNs)", *figures(r)) for r in mix["readers"]] + [
        ("every CNN weighing the same", *figures(mix["averaged_by_cnns"])),
        ("every reader weighing the same", *figures(mix["averaged_by_readers"]))]
    tuned = [(f"`{name}`", *figures(r["validation"]), ", ".join(pct(a) for a in r["validation"]["val_number_accuracy_members"]))
             for name, r in records.items() if name.endswith("-finetune") and not r["training"].get("drawn")]
    tuned.append(("the reader in use", *figures(shipped["validation"]),
                  ", ".join(pct(a) for a in shipped["validation"]["val_number_accuracy_members"])))
    figure_header = ["validation", "mean of 4 validation sets", "course strips (validation)"]
    return {"sweep": table(["variant", "flags", "validation, 54,000 digits", "validation, 9,000 digits", "parameters",
                            "seconds"], sweep_rows),
            "full": table(["run", "CNNs", "filters", "dense", "dropout", "elastic px", "stroke", "training cut", "epochs",
                           "precision", "seed", "training digits", "training, last epoch", "validation",
                           "mean of 4 validation sets", "course strips (validation)", "training time", "test"], full),
            "decisions": table(["run", "question", "rule", "verdict"], decisions),
            "sizes": table(["filters", "CNNs", "course strips (validation), best run", "validation, best run"], sizes),
            "epochs": table(["run", "epoch chosen by", "epoch kept", "epochs", "validation", "course strips (validation)",
                             "test"], epochs),
            "mix": table(["reader", *figure_header], mixes + [("the reader in use", *figures(shipped["validation"]))]),
            "tuned": table(["reader", *figure_header, "each CNN alone"], tuned)}


def data_budget(records, plot):
    """Validation accuracy against the number of training digits, from the data-budget sweeps."""
    labels = {"data-budget-reader": {"val_number_accuracy": "reader: numbers", "course_val_number_accuracy":
                                     "reader: course strips (validation)"},
              "data-budget-end2end": {"val_sum_accuracy": "sum-only end-to-end: sums", "course_val_sum_accuracy":
                                      "sum-only end-to-end: course strips (validation)"}}
    sweeps = {name: runs_of(records[name]) for name in labels}
    digits = sorted({run["train_digits"] for runs in sweeps.values() for run in runs.values()})
    at = lambda runs, metric, n: next((run.get(metric) for run in runs.values() if run["train_digits"] == n), None)
    curves = {label: [at(sweeps[name], metric, n) for n in digits] for name in labels for metric, label in labels[name].items()}
    if plot:
        plots.plot_curves(curves, EXPERIMENTS / "data_budget.png", "Validation accuracy against training digits "
                          "(short budget)", "training digits", "validation accuracy", x=digits)
    return table(["training digits", *curves], [(f"{n:,}", *[pct(v[i]) for v in curves.values()])
                                                for i, n in enumerate(digits)])


def end2end_tables(records, cards):
    record = lambda name: run_record(MODELS_DIR / name)
    shipped = {name: record(name) for name in END2END_MODELS}
    verdict = lambda r: r.get("verdict", "in `models/`")  # the models in models/ have no record of their own
    label = lambda a: " + ".join(map(label, a)) if isinstance(a, list) else (
        f"{a.get('members', 1)} CNN{'s' * (a.get('members', 1) > 1)} of {a['filters']} filters, dense {a['dense']}")
    starts = [(f"`{name}`", label(r["architecture"]["digit_reader"]), r["training"]["epochs"], r["training"]["lr"],
               pct(r["validation"].get("val_sum_accuracy_at_start")), pct(r["history"]["val_sum_accuracy"][0]),
               pct(r["validation"]["val_sum_accuracy"]), pct(r.get("test", {}).get("sum_accuracy")), verdict(r))
              for name, r in [*[(n, r) for n, r in records.items() if n.startswith("end2end-")],
                              ("models/end2end", shipped["end2end"])] if r["training"].get("init_reader")]
    earlier = [(f"`{n}`", r) for n, r in records.items() if n.startswith("end2end-") and (
        n.endswith("-9k-digits") or n == "end2end-sum-only-f16")]
    reader = lambda t: ("the trained reader, fine-tuned" if t.get("init_reader")
                        else f"{t['filters']} filters, {t['epochs']} epochs")
    regimes = [(name, r["training"]["supervision"], r["architecture"].get("combine", "exact"), reader(r["training"]),
                f"{r['validation'].get('train_digits', 9000):,}", pct(r["validation"].get("course_val_sum_accuracy")),
                pct(r["test"]["sum_accuracy"]), pct(r["test"]["lucky_fraction"]), verdict(r))
               for name, r in [*shipped.items(), *earlier]]
    pipeline = shipped["end2end"]
    regimes.append(("reader + adder", "digits (reader), pairs (adder)", "the adder", "the reader",
                    f"{record('reader')['validation'].get('train_digits', 9000):,}",
                    pct(pipeline["validation"].get("pipeline_course_val_sum_accuracy")),
                    pct(pipeline["test"]["pipeline_sum_accuracy"]), pct(pipeline["test"]["pipeline_lucky_fraction"]), ""))
    layers = runs_of(records["sum-layer-end2end"])
    mean = lambda layer, key: float(np.mean([r[key] for r in layers.values() if r["sum_layer"] == layer]))
    layer_rows_ = [(name, r["flags"] or "(defaults)", pct(r["val_sum_accuracy"]), pct(r["course_val_sum_accuracy"]),
                    pct(r["val_digitwise_sum_accuracy"]), r["train_seconds_this_run"]) for name, r in layers.items()]
    layer_rows_ += [(f"mean, {layer}", "", pct(mean(layer, "val_sum_accuracy")), "",
                     pct(mean(layer, "val_digitwise_sum_accuracy")), "") for layer in ("convolution", "carry")]
    return {"starts": table(["run", "digit reader started from", "epochs", "learning rate", "validation at start",
                             "after epoch 1", "validation kept", "test", "verdict"], starts),
            "regimes": table(["model", "supervision", "sum from the numbers", "digit reader", "training digits",
                              "course strips (validation), sums", "test sum accuracy", "lucky", "verdict"], regimes),
            "sum_layers": table(["run", "flags", "validation sums (convolution)", "course strips (validation), sums "
                                 "(convolution)", "validation sums (digit by digit)", "training seconds"], layer_rows_),
            "time_ratio": f"{mean('carry', 'train_seconds_this_run') / mean('convolution', 'train_seconds_this_run'):.2f}",
            "settings": settings_table({name: cards[name]["config"]["training"] for name in END2END_MODELS})}


def addition_tables(records, plot=False):
    """Multi-digit MNIST addition: the published table (docs/published) with our models beside it."""
    ours = {int(p.parent.name.removeprefix("addition-n")): read_json(p)["test"]
            for p in MODELS_DIR.glob("addition-n*/metrics.json")}
    published = list(csv.DictReader((PUBLISHED / "mnist_addition.csv").read_text().splitlines()))
    digits = sorted({int(row["N"]) for row in published} | set(ours))
    cell = lambda row: "T/O" if row["status"] == "timed out" else f"{row['sum_accuracy']} ± {row['std']}"
    methods = {}
    for row in published:
        methods.setdefault((row["method"], row["source"]), {})[int(row["N"])] = cell(row)
    rows = [(method, source, *[cells.get(n, "-") for n in digits]) for (method, source), cells in methods.items()]
    rows.append(("**mnistadd, carry-chain likelihood (ours)**", "this report",
                 *[f"**{mean_std(ours[n], 'sum_accuracy')}**" if n in ours else "-" for n in digits]))
    best = [(n, max(float(r["sum_accuracy"]) for r in published if int(r["N"]) == n and r["sum_accuracy"]))
            for n in digits if any(int(r["N"]) == n and r["sum_accuracy"] for r in published)]
    runs = [(n, t["seeds"], mean_std(t, "sum_accuracy"), mean_std(t, "other_pairings_sum_accuracy_mean"),
             pct(min(s["other_pairings_sum_accuracy_min"] for s in t["per_seed"])), mean_std(t, "digit_accuracy"),
             ", ".join(str(s["epochs"]) for s in t["per_seed"]), round(np.mean([s["train_seconds"] for s in t["per_seed"]])),
             f"{t['shipped_seed']} ({pct(t['shipped_sum_accuracy'])})") for n, t in sorted(ours.items())]
    if plot:
        plots.plot_sum_accuracy_against_digits(ours, published, records["addition-n100-lenet-pilot"], EXPERIMENTS / "addition_against_n.png")
    one_start = records["addition-n1-one-start"]
    starts = [a for s in ours.get(1, {}).get("per_seed", []) for a in s.get("start_val_sum_accuracies", [])]
    speed = records["sum_layers"]
    ms = speed["forward_and_backward_ms"]
    return {"published": table(["method", "source", *[f"N={n}" for n in digits]], rows),
            "sources": {row["source"]: row["citation"] for row in published},
            "best": ", ".join(f"{value:.2f} (N={n})" for n, value in best), "tests": sorted(ours.items()),
            "runs": table(["N", "runs", "sum accuracy %", "other pairings %", "worst pairing", "digit accuracy %",
                           "epochs per run", "seconds per run", "run in models/ (its test sum accuracy)"], runs),
            "one_start_sums": mean_std(one_start["test"], "sum_accuracy"),
            "trapped": [(s["seed"], pct(s["digit_accuracy"]), pct(s["sum_accuracy"]))
                        for s in one_start["test"]["per_seed"] if s["digit_accuracy"] < 0.5],
            "starts": (len(starts), pct(min(starts)), pct(max(starts))) if starts else None,
            "speed": speed, "seed_plots": " ".join(f"![addition N={n}: every seed](models/addition-n{n}/seeds.png)"
                                                   for n in sorted(ours)),
            "sum_layer_ms": table(["computation", "ms"], [(words(k), v) for k, v in ms.items()]),
            "saving": pct((ms["convolution_0_255"] - ms["carry_n3"]) / (ms["convolution_0_255"] + ms["digit_reader"])),
            "settings": settings_table({f"N={n}": read_json(MODELS_DIR / f"addition-n{n}" / "config.json")["training"]
                                        for n in sorted(ours)})}


def app_tables(records, calibration):
    """The generator, the reader on drawings, the app under load, and the reader's decline rule."""
    speed, fidelity = records["generator_speed"], records["fidelity"]
    strips = [(name, f"{fidelity['strips'][name]:,}", *[pct(fidelity["reader"][name][k]) for k in ("all", "1_digits", "2_digits",
               "3_digits")], *[f"{fidelity[name]['inked_span'][f'{k}_digits']['median']:g}" for k in (1, 2, 3)],
               pct(fidelity[name]["pixels"]["1-2"]), pct(fidelity[name]["pixels"]["0"])) for name in ("course", "ours")]
    held = calibration["held_out"]["drawn"]
    candidates = [(f"**{name}**" if name == calibration["rule_name"] else name,
                   *[pct(c["held_out"][k]["declined"]) for k in IMAGE_KINDS], pct(c["held_out"]["drawn"]["accuracy_answered"]),
                   pct(c["tune_out_of_domain_declined"])) for name, c in calibration["candidates"].items()]
    shares = [(pct(float(share)), r["rule_name"], pct(r["tune_out_of_domain_least"]), pct(r["held_out"]["drawn"]["declined"]),
               pct(r["held_out"]["drawn"]["accuracy_answered"]), pct(min(r["held_out"][k]["declined"] for k in IMAGE_KINDS[2:])))
              for share, r in calibration["shares"].items()]
    loads = [records[name] for name in ("space_load", "space_load_gradio_client")]
    return {"speed_table": table(["batch size", "pairs/s", "vs the course's"], [(r["batch_size"], f"{r['pairs_per_second']:,}",
                f"{r['pairs_per_second'] / speed['course_generator_pairs_per_second']:.0f}x") for r in speed["runs"]]),
            "fidelity_table": table(["strips", "count", "reader", "1 digit", "2 digits", "3 digits", "span 1 digit",
                                     "span 2 digits", "span 3 digits", "pixels 1-2", "pixels 0"], strips),
            "drawn_table": table(["input", "number accuracy"], [(words(k), pct(v)) for k, v in read_json(
                MODELS_DIR / "reader" / "drawn_accuracy.json")["accuracy"].items()]),
            "heights_table": table(["ink height, px", "drawn numbers read right"], [(h, pct(a)) for h, a in records[
                "to_strip_target_height"]["drawn_to_strip_by_target_height"].items()]),
            "load_table": table(["client", "endpoint", *map(words, LOAD_COLUMNS)], [(load["client"], endpoint, *[
                e.get(c, "-") for c in LOAD_COLUMNS]) for load in loads for endpoint, e in load["endpoints"].items()]),
            "held": (pct_se(held["declined"], held["images"]), pct_se(held["accuracy_answered"], held["images"] * (
                1 - held["declined"])), f"{100 * np.sqrt(0.03 * 0.97 / held['images']):.1f}"),
            "candidates": table(["rule", *[f"{words(k)} declined" for k in IMAGE_KINDS], "drawn answered right",
                                 "tuning: out-of-domain declined"], candidates),
            "shares": table(["share by the rule's score", "rule chosen", "tuning: least out-of-domain kind declined",
                             "held out: drawn declined", "held out: drawn answered right",
                             "held out: least out-of-domain kind declined"], shares)}


def render(plot=False):
    """REPORT.md's text and the README's results block."""
    records = {p.stem: read_json(p) for p in sorted(EXPERIMENTS.glob("*.json"))}
    tables = {}
    cards = {name: model_card(name, tables) for name in ("reader", "adder", "adder-gru", *END2END_MODELS, "addition-n1")}
    shipped = run_record(MODELS_DIR / "reader")
    environment = cards["reader"]["config"]["environment"]
    calibration = read_json(MODELS_DIR / "reader" / "calibration.json")
    context = {"cards": cards, "records": records, "table": table, "words": words, "environment": environment,
               "anchors": table(["anchor", "measure", "published", "source"], list(csv.reader(
                   (PUBLISHED / "anchors.csv").read_text().splitlines()))[1:]), "pct": pct, "reader_cnns": cnn_count(shipped),
               "reader": reader_tables(records, shipped), "budget": data_budget(records, plot),
               "reader_settings": settings_table({f"CNN {i + 1}": s for i, s in enumerate(
                   shipped.get("kept_members", []) + [shipped["training"]])}),
               "adder_sweep": table(["variant", "flags", "held-out accuracy", "parameters", "seconds"], [
                   (name, f"`{r['flags']}`" if r["flags"] else "(base)", pct(r["held_out_accuracy"]), f"{r['parameters']:,}",
                    r["train_seconds_this_run"]) for name, r in runs_of(records["adder"]).items()]),
               "adder_settings": settings_table({n: cards[n]["config"]["training"] for n in ("adder", "adder-gru")}),
               "end2end": end2end_tables(records, cards), "addition": addition_tables(records, plot),
               "app": app_tables(records, calibration), "calibration": calibration,
               "end2end_calibration": read_json(MODELS_DIR / "end2end" / "calibration.json"),
               "drawn_accuracy": read_json(MODELS_DIR / "reader" / "drawn_accuracy.json")}
    return [re.sub(r"\n{3,}", "\n\n", TEMPLATES.get_template(name).render(context)).strip() + "\n"
            for name in ("report.md.j2", "readme_results.md.j2")]


def replace_block(readme, block):
    """README.md's text with its results block (between the markers, kept) replaced by `block`."""
    return re.sub(r"<!-- results:start -->.*<!-- results:end -->",
                  lambda _: f"<!-- results:start -->\n{block}\n<!-- results:end -->", readme, flags=re.S)


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    report, block = render(plot=True)
    write_text_atomic(ROOT / "REPORT.md", report)
    write_text_atomic(ROOT / "README.md", replace_block((ROOT / "README.md").read_text(), block.strip()))
    print("wrote REPORT.md and README.md's results")


if __name__ == "__main__":
    main()
