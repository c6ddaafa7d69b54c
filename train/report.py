"""Build REPORT.md and the README's results section from what the runs saved: model folders
(`config.json`, `metrics.json`, `history.csv`, plots) and sweep tables (`experiments/*.json`).
Nothing here is typed by hand except the published anchors, which are labeled as such.

    python -m train.report
"""

import re
from pathlib import Path

import keras
import numpy as np

from mnistadd import plots
from mnistadd.api import MODELS_DIR
from mnistadd.hub import has_int8_kernels
from mnistadd.paths import write_text_atomic
from mnistadd.preprocess import TARGET_HEIGHT
from mnistadd.training import read_json
from train.record import run_record

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"
# Published figures we compare with; they are other people's measurements, on other data budgets.
ANCHORS = [
    ("Single-digit MNIST, best published CNNs (60,000 training digits)", "digit accuracy", "about 99.7-99.8 %"),
    ("Keras `addition_rnn` example, 3-digit addition", "sequence accuracy", "about 99 %"),
    ("A-NeSI, MNIST addition N=2 (fixed two-digit numbers, 60,000 digits)", "sum accuracy", "about 96 %"),
    ("DeepStochLog, MNIST addition N=2", "sum accuracy", "about 96 %"),
]


def experiment(name):
    """A saved record from experiments/, or None where that experiment was not run."""
    path = EXPERIMENTS / name
    return read_json(path) if path.exists() else None


def pct(value):
    return f"{100 * value:.2f} %"


def binomial_se(fraction, count):
    return np.sqrt(fraction * (1 - fraction) / count)


def pct_se(fraction, count):
    """A fraction measured on `count` images, with its binomial standard error."""
    return f"{100 * fraction:.2f} ± {100 * binomial_se(fraction, count):.2f} %"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def layer_rows(model, prefix=""):
    """(layer, output shape, parameters, activation, regularization) for each layer, sub-models expanded."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            rows += layer_rows(layer, f"{layer.name}/")
            continue
        if isinstance(layer, keras.layers.InputLayer):
            continue
        config = layer.get_config()
        activation = config.get("activation", "relu" if isinstance(layer, keras.layers.ReLU) else "")
        if isinstance(layer, keras.layers.Softmax):
            activation = "softmax"
        regularization = (f"dropout {config['rate']}" if isinstance(layer, keras.layers.Dropout) else
                          "batch norm" if isinstance(layer, keras.layers.BatchNormalization) else "")
        try:
            shape = str(tuple(layer.output.shape))
        except (AttributeError, ValueError):  # a layer used twice (the shared digit reader) has no single output
            shape = "(shared)"
        rows.append((f"{prefix}{layer.name} ({type(layer).__name__})", shape, layer.count_params(),
                     activation if activation not in (None, "linear") else "", regularization))
    return rows


def model_section(name, title, command, metric_notes):
    folder = MODELS_DIR / name
    if not (folder / "model.keras").exists():
        return f"## {title}\n\nNot trained yet: `{command}`.\n"
    model = keras.saving.load_model(folder / "model.keras", compile=False)
    config, metrics = read_json(folder / "config.json"), read_json(folder / "metrics.json")
    history = plots.read_history(folder / "history.csv")
    training = config["training"]
    int8 = has_int8_kernels(folder / "model.keras")
    stored = "; Dense kernels stored in int8, with a float scale per unit, counted here" if int8 else ""
    lines = [f"## {title}", "", f"Architecture ({model.count_params():,} parameters{stored}):", "",
             table(["layer", "output shape", "parameters", "activation", "regularization"], layer_rows(model)), "",
             "Training: " + ", ".join(f"`{k}={v}`" for k, v in training.items()) + ".",
             f"{len(history['loss'])} epochs, {metrics['validation'].get('train_seconds_this_run', '?')} s on "
             f"{config['environment']['machine']} (TensorFlow {config['environment']['tensorflow']}).", ""]
    for section in ("validation", "test"):
        if section in metrics:
            rows = [(k, pct(v) if isinstance(v, float) and v <= 1 else v) for k, v in metrics[section].items()
                    if not isinstance(v, (list, dict))]
            lines += [f"**{section.capitalize()}**" + (f" ({metric_notes[section]})" if section in metric_notes else "") + ":",
                      "", table(["metric", "value"], rows), ""]
    for png in sorted(folder.glob("*.png")):
        lines.append(f"![{name} {png.stem}](models/{name}/{png.name})")
    return "\n".join(lines) + "\n"


def sweep_section(name, metric):
    path = EXPERIMENTS / f"{name}.json"
    if not path.exists():
        return f"Sweep not run yet: `python -m train.sweep {name}`.\n"
    results = read_json(path)
    rows = [(variant, f"`{r['flags']}`" if r["flags"] else "(base)", pct(r[metric]), r.get("parameters", ""),
             r.get("train_seconds_this_run", "")) for variant, r in results.items()]
    same_budget = [variant for variant, r in results.items() if "--epochs" not in r["flags"]]
    best = max(same_budget, key=lambda v: results[v][metric])
    text = [f"Sweep (`python -m train.sweep {name}`; base model and budget in `train/sweep.py`), one change at a time, "
            "same short budget unless the flags change the epochs:", "",
            table(["variant", "flags", metric.replace("_", " "), "parameters", "seconds"], rows), "",
            f"Best on this budget: **{best}** ({pct(results[best][metric])}).",
            f"![{name} sweep](experiments/{name}.png)", ""]
    return "\n".join(text)


def generator_section():
    """The data generator's speed and its fidelity to the course's strips, from the benchmarks' JSON files."""
    lines = ["## Data generator", ""]
    speed_path, fidelity_path = EXPERIMENTS / "generator_speed.json", EXPERIMENTS / "fidelity.json"
    if speed_path.exists():
        speed = read_json(speed_path)
        course = speed["course_generator_pairs_per_second"]
        rows = [(run["batch_size"], f"{run['pairs_per_second']:,}", f"{run['pairs_per_second'] / course:.0f}x")
                for run in speed["runs"]]
        lines += [f"`python -m benchmarks.generator_speed` ({speed['environment']['machine']}, one process); the "
                  f"course's imgaug generator makes about {course} pairs/s on one core of such a machine:", "",
                  table(["batch size", "pairs/s", "vs the course's"], rows), ""]
    if fidelity_path.exists():
        fidelity = read_json(fidelity_path)
        reader, digits = fidelity["reader"], (1, 2, 3)
        rows = [(name, f"{fidelity['strips'][name]:,}", pct(reader[name]["all"]), *[pct(reader[name][f"{k}_digits"]) for k in digits],
                 *[f"{fidelity[name]['inked_span'][f'{k}_digits']['median']:g}" for k in digits],
                 f"{100 * fidelity[name]['pixels']['1-2']:.2f} %", f"{100 * fidelity[name]['pixels']['0']:.2f} %")
                for name in ("course", "ours")]
        windows = fidelity["our_windows"]
        lines += ["`python -m benchmarks.fidelity --record`: the shipped reader on the course's own strips of the 6,000 "
                  "validation digits (`course_val`, made by the course's generator) and on ours, the same numbers "
                  f"rendered from the same digits with `cut=\"course\"`: ours read **{reader['gap_points']:+.2f} points** "
                  "against the course's. Inked span: columns from the first to the last with any ink (median, px); "
                  f"our windows: median {windows['median']:g} px (p10 {windows['p10']:g}, p90 {windows['p90']:g}), the whole "
                  f"28-column digit kept for {100 * windows['whole_digit_fraction']:.1f} % of digits.", "",
                  table(["strips", "count", "reader", "1 digit", "2 digits", "3 digits", "span 1 digit", "span 2 digits",
                         "span 3 digits", "pixels 1-2", "pixels 0"], rows), "",
                  "![fidelity: ink per column and pixel values](experiments/fidelity.png)", ""]
    return "\n".join(lines)


DATA_BUDGET_SWEEPS = {  # each sweep's measures: on our validation strips, and on the course's own (course_val)
    "data-budget-reader": {"val_number_accuracy": "reader: number accuracy",
                      "course_val_number_accuracy": "reader: course_val numbers"},
    "data-budget-end2end": {"val_sum_accuracy": "sum-only end-to-end: sum accuracy",
                       "course_val_sum_accuracy": "sum-only end-to-end: course_val sums"}}


def data_budget_section():
    """Validation accuracy against the number of training digits, from the data-budget sweeps."""
    sweeps = {name: runs for name in DATA_BUDGET_SWEEPS if (runs := experiment(f"{name}.json"))}
    if not sweeps:
        return ""
    digits = sorted({run["train_digits"] for runs in sweeps.values() for run in runs.values()})
    at = lambda runs, metric, n: next((run.get(metric) for run in runs.values() if run["train_digits"] == n), None)
    curves = {label: [at(runs, metric, n) for n in digits]
              for name, runs in sweeps.items() for metric, label in DATA_BUDGET_SWEEPS[name].items()}
    plots.plot_curves(curves, EXPERIMENTS / "data_budget.png", "Validation accuracy against training digits (short budget)",
                      "training digits", "validation accuracy", x=digits)
    rows = [(f"{n:,}", *[pct(value[i]) if value[i] is not None else "not run" for value in curves.values()])
            for i, n in enumerate(digits)]
    full = [(f"{run['validation'].get('train_digits', 9000):,}", name, pct(run["validation"]["course_val_number_accuracy"]),
             measured(run.get("test", {}).get("number_accuracy"))) for name, run in reader_runs()
            if "course_val_number_accuracy" in run["validation"]]
    return "\n".join([
        "## Data budget", "",
        "The same short recipe on the first 9,000 training digits (all that earlier sessions had), 27,000 and all 54,000 "
        "(`python -m train.sweep data-budget-reader`, `python -m train.sweep data-budget-end2end`; budgets in `train/sweep.py`), "
        "validated on our strips of the 6,000 held-out digits (the reader 2,000 strips, the end-to-end model 1,000 "
        "pairs) and on the course's own strips of them (20,000 strips, 10,000 pairs):", "",
        table(["training digits", *curves], rows), "", "![data budget](experiments/data_budget.png)", "",
        "A short budget shows only a few digit views per training digit, so it says little about what more digits "
        "give. Full-length readers (36 to 48 epochs of 200 steps a stage, the runs below) on 9,000 and on 54,000 "
        "digits, on the course's own validation strips and on the test split:", "",
        table(["training digits", "run", "course_val", "test"], full), ""])


def app_section():
    """The reader on drawing-like input, and the app under load, from the benchmarks' JSON files."""
    lines = ["## The app", ""]
    drawn_path, load_path = MODELS_DIR / "reader" / "drawn_accuracy.json", EXPERIMENTS / "space_load.json"
    if drawn_path.exists():
        drawn = read_json(drawn_path)
        rows = [(k, pct(v)) for k, v in drawn["accuracy"].items()]
        lines += [f"`python -m benchmarks.drawn_accuracy`: the reader on the same {drawn['numbers']:,} test numbers given "
                  "as generator strips and as drawing-like images (large canvas, thick or thin pen, either polarity, "
                  "margins), read through `mnistadd.preprocess.to_strip` (the drawing: `mnistadd.drawing`):", "",
                  table(["input", "number accuracy"], rows), ""]
    heights = experiment("to_strip_target_height.json")
    if heights:
        by_height = heights["drawn_to_strip_by_target_height"]
        lines += [f"How tall `to_strip` makes a drawing's ink was chosen on {heights['numbers']:,} numbers drawn the same way "
                  "from the validation digits, read by the reader shipped then (six 24-filter CNNs; `python -m benchmarks.drawn_accuracy --split val --numbers "
                  f"{heights['numbers']} --target-heights {' '.join(by_height)} --out "
                  f"experiments/to_strip_target_height.json`). The generator's strips of these numbers are "
                  f"{heights['course_strips_ink_height_median']:g} px tall (median; the clean cut's read "
                  f"{pct(heights['accuracy']['clean_strips'])}); `to_strip` uses {TARGET_HEIGHT} px:", "",
                  table(["ink height, px", "drawn numbers read right"], [(h, pct(a)) for h, a in by_height.items()]), ""]
    # the reader fine-tuned on drawings, and the one it started from (recorded when it was replaced; the
    # target heights were measured with it, on the same drawings)
    tuned, tuned_drawn, started = (experiment(name) for name in (
        "reader-drawn-finetune.json", "reader-drawn-finetune-drawn-val.json", "reader-6cnn-f24-54k-full.json"))
    if heights and tuned and tuned_drawn and started:
        training, shipped = tuned["training"], started["validation"]
        min_course_val, min_drawn_gain = 0.991, 0.003  # the ship rule, fixed before the run: one place for text and test
        figures = lambda course_val, drawn: f"course_val {pct(course_val)}, drawn validation numbers {pct(drawn)}"
        lines += [f"Training on drawings: the six 24-filter CNNs shipped then, fine-tuned {training['epochs']} epochs (lr "
                  f"{training['lr']:g}) on batches {training['drawn']:.0%} of which are numbers drawn the same way from the "
                  f"training digits and read through `to_strip` (`python -m train.reader --init <that reader> --drawn "
                  f"{training['drawn']:g} --stroke {training['stroke']:g} --lr {training['lr']:g} --epochs {training['epochs']} "
                  f"--seed {training['seed']}`, {tuned['validation']['train_seconds_this_run']:,} s; record "
                  "`experiments/reader-drawn-finetune.json`, drawn figure from `benchmarks.drawn_accuracy --split val "
                  f"--numbers {tuned_drawn['numbers']} --models-dir <its folder>`): "
                  f"{figures(tuned['validation']['course_val_number_accuracy'], tuned_drawn['accuracy']['drawn_to_strip'])}, "
                  f"validation {pct(tuned['validation']['val_number_accuracy'])}; the six CNNs it started from: "
                  f"{figures(shipped['course_val_number_accuracy'], heights['accuracy']['drawn_to_strip'])}, validation "
                  f"{pct(shipped['val_number_accuracy'])}. The rule fixed before the run: ship it if course_val is at "
                  f"least {pct(min_course_val)} and the drawn validation numbers read at least {100 * min_drawn_gain:.1f} "
                  "points better; "
                  + ("it passed." if tuned["validation"]["course_val_number_accuracy"] >= min_course_val and
                     tuned_drawn["accuracy"]["drawn_to_strip"] - heights["accuracy"]["drawn_to_strip"] >= min_drawn_gain else
                     "it did not pass: drawings taught the reader little that `to_strip` had not already given, and cost "
                     "it a little on the course's strips.")
                  + " Its drawings come from the same simulator as the drawn figures, so a gain there overstates one "
                  "on real drawings.", ""]
    runs = [read_json(path) for path in (load_path, EXPERIMENTS / "space_load_gradio_client.json") if path.exists()]
    for load in runs:
        client = {"http": "HTTP clients (asyncio tasks on Gradio's HTTP API)",
                  "gradio_client": "`gradio_client` clients (one `Client` per thread)"}[load.get("client", "gradio_client")]
        rows = [(endpoint, e["requests"], e["failed"], e.get("declined", "-"), e["served_right"], e["model_right"],
                 e["p50_ms"], e["p99_ms"]) for endpoint, e in load["endpoints"].items()]
        cpu = load.get("cpu_seconds", {})
        used = (f" CPU seconds used meanwhile: the app {cpu['app']} ({1000 * cpu['app'] / load['requests']:.0f} ms "
                f"a request), the load generator {cpu['load_generator']}." if "app" in cpu else "")
        rounds = f" --rounds {load['rounds']}" if load["rounds"] > 1 else ""
        lines += [f"`python -m benchmarks.space_load --client {load.get('client', 'gradio_client')}{rounds}`: {load['clients']} "
                  f"concurrent {client}, each sending the mix (2 /read, 2 /add, 1 /sum) "
                  f"{'once' if load['rounds'] == 1 else str(load['rounds']) + ' times'}: "
                  f"{load['requests']} requests in {load['seconds']} s "
                  f"(**{load['requests_per_second']} requests/s**, queue concurrency {load['concurrency_limit']}, "
                  f"{load['cpu_cores']} CPU cores shared by the app and the clients).{used} \"Served right\": "
                  "the answer equals the same model run directly on the same input.", "",
                  table(["endpoint", "requests", "failed", "declined", "served right", "model right", "p50 ms", "p99 ms"], rows), ""]
    if runs:
        lines += ["The clients run on the app's own cores, so what they cost is taken from the app: `gradio_client`, "
                  "a thread and a `Client` per user, costs the machine more than the app does, so its figure is the "
                  "load generator's as much as the app's; the HTTP clients send the same requests for a fraction of "
                  "that. One direct call, ms (the floor under a request): " +
                  ", ".join(f"{k} {v}" for k, v in runs[0]["model_ms"].items()) + ".", ""]
    return "\n".join(lines)


def calibration_section():
    """The reader's calibration and decline rule, and the end-to-end model's calibration, from the JSON
    files `python -m train.calibrate` writes into their folders."""
    path = MODELS_DIR / "reader" / "calibration.json"
    if not path.exists():
        return ""
    calibration = read_json(path)
    reliability = calibration["reliability"]
    lines = ["## Reader: calibrated confidence, and declining what is not a number 0..255", "",
             f"`python -m train.calibrate` (validation digits only; reader {calibration['reader_sha256']}): each "
             "set is split in three, temperature and rule weights are fitted on the first, thresholds set and the "
             "rule chosen on the second, and every figure here is measured on the third. Genuine numbers are "
             "generator strips and drawing-like images read through `to_strip`; the out-of-domain set is "
             "generated the same way: four-digit numbers and numbers 256..999 from validation digits, letters and "
             "short words in system fonts (letters that pass for digits left out), scribbles, shapes and smileys "
             f"({', '.join(f'{k}: {v:,}' for k, v in calibration['data'].items())} images in all).", "",
             f"Temperature scaling (T = {calibration['temperature']:.2f}, on the negative log-likelihood of the "
             f"true number) brings the reader's expected calibration error from {100 * reliability['before']['ece']:.2f} "
             f"to {100 * reliability['after']['ece']:.2f} percentage points ({len(reliability['after']['bins'])} "
             "confidence bins, genuine numbers)."]
    end2end_path = MODELS_DIR / "end2end" / "calibration.json"
    if end2end_path.exists():
        end2end = read_json(end2end_path)
        lines[-1] += (f" The end-to-end model's sum probabilities: T = {end2end['temperature']:.2f}, ECE "
                      f"{100 * end2end['reliability']['before']['ece']:.2f} -> {100 * end2end['reliability']['after']['ece']:.2f} "
                      f"points ({end2end['pairs']:,} validation pairs, half for fitting).")
    kinds = ["strips", "drawn", "four_digits", "over_255", "letters", "scribbles"]
    rows = []
    for name, candidate in calibration["candidates"].items():
        held = candidate["held_out"]
        rows.append((f"**{name}**" if name == calibration["rule_name"] else name,
                     *[pct(held[kind]["declined"]) for kind in kinds], pct(held["drawn"]["accuracy_answered"]),
                     pct(candidate["tune_out_of_domain_declined"])))
    alone = calibration["held_out_without_floor"]["drawn"]
    drawn = calibration["held_out"]["drawn"]
    answered = drawn["images"] * (1 - drawn["declined"])
    share_rows = [(pct(float(share)), row["rule_name"], pct(row["tune_out_of_domain_least"]),
                   pct(row["held_out"]["drawn"]["declined"]), pct(row["held_out"]["drawn"]["accuracy_answered"]),
                   pct(min(row["held_out"][kind]["declined"] for kind in kinds[2:])))
                  for share, row in calibration["shares"].items()]
    lines += ["", f"How the {pct(calibration['decline_budget'])} budget of declined genuine drawn numbers is split: "
              "the rule's score declines a share of them, the confidence floor the rest. The floor is what keeps "
              "answered numbers right, so the share taken is the smallest whose kept rule still declines "
              f"{pct(calibration['out_of_domain_margin'])} of every out-of-domain kind of the tuning part (the goal "
              f"is 80 %, on images we do not have): {pct(calibration['out_of_domain_share'])}.", "",
              table(["share by the rule's score", "kept rule", "tuning: least out-of-domain kind declined",
                     "held out: drawn declined", "held out: drawn answered right",
                     "held out: least out-of-domain kind declined"], share_rows)]
    lines += ["", f"Each candidate rule declines {pct(calibration['out_of_domain_share'])} of the genuine drawn numbers "
              "of the tuning part by its score, and its confidence floor the least confident of the rest, "
              f"{pct(calibration['decline_budget'])} in all; declined fractions on the held-out part (the kept rule "
              "in bold: the most out-of-domain images declined on the tuning part). The scores are described in "
              "`mnistadd/abstention.py`; \"logistic\" combines the scores, \"logistic_embedding\" adds the members' "
              f"last hidden layers (C: inverse L2 penalty). Without the floor, the kept rule at the whole budget "
              f"declines {pct(alone['declined'])} of the held-out drawn numbers and answers "
              f"{pct(alone['accuracy_answered'])} of the rest right: what is not a number is not what the reader "
              "misreads.", "",
              f"Held out, the kept rule declines {pct_se(drawn['declined'], drawn['images'])} of the "
              f"{drawn['images']:,} genuine drawn numbers and answers {pct_se(drawn['accuracy_answered'], answered)} of "
              "the rest right (± one binomial standard error: a part of this size measures a 3 % goal to about "
              f"± {100 * binomial_se(0.03, drawn['images']):.1f} points).", "",
              table(["rule", "strips declined", "drawn declined", "four digits declined", "256-999 declined",
                     "letters declined", "scribbles declined", "drawn answered right", "tuning: out-of-domain declined"], rows),
              "", "![reader calibration: reliability and accuracy against coverage](models/reader/calibration.png)", ""]
    return "\n".join(lines)


def recorded_runs(pattern, shipped):
    """Runs kept as records (`experiments/<pattern>`, written by `train.record`) and the shipped model
    `models/<shipped>` recorded the same way, where it exists, as (name, record) pairs."""
    runs = [(f"`experiments/{path.name}`", read_json(path)) for path in sorted(EXPERIMENTS.glob(pattern))]
    if (MODELS_DIR / shipped / "metrics.json").exists():
        runs.append((f"`models/{shipped}` (shipped)", run_record(MODELS_DIR / shipped)))
    return runs


def cnn_count(run):
    """The CNNs a reader record's model averages: those kept from earlier runs (--keep-members) and its own."""
    return len(run.get("kept_members", [])) + run["training"].get("members", 1)


def reader_runs():
    """The reader's full-length training runs, the shipped one last."""
    return recorded_runs("reader-*-full.json", "reader")


def points(run, other, split, metric):
    return f"{100 * (run[split][metric] - other[split][metric]):+.2f}"


def reader_full_runs():
    """The full runs as a table, and what they say about regularization, in numbers read from their records."""
    runs = reader_runs()
    setting = lambda run, key, default=0.0: run["training"].get(key, default)  # settings older runs did not have
    # a reader with CNNs kept from an earlier run (--keep-members) shows both runs' values, "kept + new"
    per_cnn = lambda run, key, default=0.0: " + ".join(dict.fromkeys(
        str(settings.get(key, default)) for settings in run.get("kept_members", []) + [run["training"]]))
    rows = [(name, cnn_count(run), run["training"]["filters"], run["training"]["dense"],
             setting(run, "dropout"), setting(run, "elastic"), per_cnn(run, "stroke"),
             run["training"]["cut"], run["training"]["epochs"], setting(run, "precision", "float32"), per_cnn(run, "seed"),
             f"{run['validation'].get('train_digits', 9000):,}",
             pct(run["final_epoch_train_number_accuracy"]),
             pct(run["validation"]["val_number_accuracy"]),
             pct(run["validation"]["val_number_accuracy_draws_mean"]) if "val_number_accuracy_draws_mean" in run["validation"]
             else "not measured (model gone)",
             pct(run["validation"]["course_val_number_accuracy"]) if "course_val_number_accuracy" in run["validation"]
             else "not measured", f"{run['validation']['train_seconds_this_run']:,} s",
             pct(run["test"]["number_accuracy"]) if "test" in run else "not measured (not chosen)") for name, run in runs]
    single = [run for _, run in runs if setting(run, "members", 1) == 1]
    by_elastic = {setting(run, "elastic"): run for run in single
                  if run["training"]["dense"] == 256 and setting(run, "dropout") == 0.3}
    fit = lambda elastic: (f"{pct(by_elastic[elastic]['final_epoch_train_number_accuracy'])} and "
                           f"{pct(by_elastic[elastic]['validation']['val_number_accuracy'])}")
    findings = [
        "Dropout 0 and 0.3 tie on validation; 0.3 was chosen, before either was measured on the test split, to "
        "narrow the training/validation gap, which it narrows little. Elastic distortion of the training digits "
        "(`--elastic`, Simard et al. 2003), the classic remedy for few MNIST digits, lowered training and "
        f"validation accuracy together: 1 px {fit(1.0)}, 0.5 px {fit(0.5)}, against {fit(0.0)} without it (dense "
        "256, dropout 0.3). On this budget (45 epochs, 9,000 digits) the reader is short of fit, not of "
        "regularization: across these runs validation follows training accuracy. A caveat: the validation digits "
        "come from the training digits' writers while MNIST's test writers are others, so validation cannot show "
        "a gain on new writers; the choice still follows validation, and the distorted readers were never "
        "measured on the test split."]
    before, shipped = by_elastic[0.0], runs[-1][1]
    single_512 = next(run for run in single if run["training"]["dense"] == 512 and  # the best single CNN
                      setting(run, "precision", "float32") == "float32")
    # the seconds and epochs of the last run (after --resume, the resumed part); records from before
    # train_epochs_this_run was kept count all the epochs, too many for a resumed run (the five-CNN one)
    ms_per_step = lambda run: round(1000 * run["validation"]["train_seconds_this_run"] / (
        run["validation"].get("train_epochs_this_run", run["training"]["epochs"]) * run["training"]["steps_per_epoch"]))
    findings.append(
        f"Fitting more, then: one CNN with dense {single_512['training']['dense']}, dropout "
        f"{single_512['training']['dropout']} reaches {pct(single_512['final_epoch_train_number_accuracy'])} training and "
        f"the best validation of the single CNNs, {pct(single_512['validation']['val_number_accuracy'])}, and was shipped "
        f"for it; on the test split it reads {pct(single_512['test']['number_accuracy'])} against "
        f"{pct(before['test']['number_accuracy'])} for the dense-256 reader: a validation gain of "
        f"{points(single_512, before, 'validation', 'val_number_accuracy')} points became "
        f"{points(single_512, before, 'test', 'number_accuracy')} on new writers.")
    for run in (run for run in single if setting(run, "precision", "float32") == "mixed_bfloat16"
                and run["validation"].get("train_digits", 9000) == 9000):
        findings.append(
            f"The same CNN computing in bfloat16, which buys epochs within the hour ({ms_per_step(run)} ms per step "
            f"including validation, against {ms_per_step(single_512)} ms in float32), trained {run['training']['epochs']} "
            f"epochs ({run['validation']['train_seconds_this_run']:,} s): training "
            f"{pct(run['final_epoch_train_number_accuracy'])}, validation {pct(run['validation']['val_number_accuracy'])}"
            + (", no better than the float32 run." if run["validation"]["val_number_accuracy"]
               <= single_512["validation"]["val_number_accuracy"] else "."))
    other_course_val = [r["validation"]["course_val_number_accuracy"] for _, r in runs
                        if r is not shipped and "course_val_number_accuracy" in r["validation"]]
    other_tests = [r["test"]["number_accuracy"] for _, r in runs if r is not shipped and "test" in r]
    for run in (run for _, run in runs if cnn_count(run) > 1):
        training, validation = run["training"], run["validation"]
        alone = validation.get("val_number_accuracy_members")  # recorded by runs after the first ensemble
        draws_mean = validation.get("val_number_accuracy_draws_mean")
        if run is shipped:
            verdict = (f": shipped, chosen on the course's own validation strips, {pct(validation['course_val_number_accuracy'])}"
                       + (f" against {pct(max(other_course_val))} for the best other reader measured there" if other_course_val else "")
                       + f"; on the test split it reads {pct(run['test']['number_accuracy'])}"
                       + (f" against {pct(max(other_tests))} for the best earlier one." if other_tests else "."))
        elif validation.get("train_digits", 9000) != shipped["validation"].get("train_digits", 9000):
            verdict = (f"; trained on other digits than the shipped reader, so its validation figures do not compare"
                       + (f"; test {pct(run['test']['number_accuracy'])}." if "test" in run else "."))
        elif "test" in run:  # an earlier shipped reader, replaced by one that read course_val better
            verdict = (f"; shipped once, then replaced by readers that read course_val better (the shipped one: "
                       f"{pct(shipped['validation']['course_val_number_accuracy'])}, against its "
                       f"{pct(validation['course_val_number_accuracy'])}); test {pct(run['test']['number_accuracy'])}.")
        else:
            shipped_draws_mean = shipped["validation"].get("val_number_accuracy_draws_mean")
            verdict = (f" against the shipped reader's {pct(shipped['validation']['val_number_accuracy'])}"
                       + (f"; mean of the 4 validation draws {pct(draws_mean)} against {pct(shipped_draws_mean)}"
                          if draws_mean and shipped_draws_mean else "")
                       + ": not shipped, and not measured on the test split.")
        kept = run.get("kept_members", [])  # train.reader --keep-members: CNNs of an earlier run, unchanged
        # runs before the new CNNs trained apart have the kept ones in their history too, named before the new ones
        trained_beside = f"val_member_{cnn_count(run) - 1}_loss" in run.get("history", {})
        findings.append(
            f"An ensemble on {validation.get('train_digits', 9000):,} training digits: {cnn_count(run)} CNNs of {training['filters']} first-block filters (dense "
            f"{training['dense']}, dropout {training['dropout']}) "
            + (f"of which the first {len(kept)} are kept unchanged from an earlier reader (seed "
               f"{', '.join(sorted({str(k['seed']) for k in kept}))}, stroke {', '.join(sorted({str(k['stroke']) for k in kept}))}) "
               f"and the other {training['members']} "
               + ("trained beside the frozen ones, with early stopping following the average of all; " if trained_beside else
                  "trained on their own and then joined to them (early stopping and the table's training accuracy are "
                  "the new CNNs'); ")
               if kept else "trained side by side in one model, ")
            + "each on its own loss so that they stay independent, read through the average of their position probabilities; "
            f"{'the new CNNs: ' if kept else ''}{setting(run, 'precision', 'float32')}, {training['epochs']} epochs, seed {training['seed']}, "
            + ("" if training["cut"] == "mixed" else f"on {training['cut']}-cut strips only (the test split's "
               "spacing, where the others train on half course-cut, half clean-cut strips), ")
            + (f"training digits bent by {setting(run, 'elastic')} px of elastic distortion, " if setting(run, "elastic") else "")
            + (f"training digits' strokes thickened or thinned by up to {setting(run, 'stroke')} of a 3x3 dilation or "
               "erosion (`--stroke`), " if setting(run, "stroke") else "")
            + f"{ms_per_step(run)} ms per step "
            f"({validation['train_seconds_this_run']:,} s). Validation {pct(validation['val_number_accuracy'])}"
            + (f" (each CNN alone: {', '.join(pct(a) for a in alone)}; the average gains "
               f"{100 * (validation['val_number_accuracy'] - max(alone)):+.2f} points over the best of them)" if alone else "")
            + verdict)
    recipe = lambda run: [len(run.get("kept_members", []))] + [
        setting(run, key, None) for key in ("members", "filters", "dense", "dropout", "elastic", "stroke", "cut", "epochs",
                                            "precision", "lr", "batch_size", "steps_per_epoch")]
    accuracy = lambda run: run["validation"]["val_number_accuracy"]
    for run, twin in ((run, twin) for _, run in runs for _, twin in runs
                      if recipe(twin) == recipe(run) and twin["training"]["seed"] < run["training"]["seed"]):
        findings.append(
            f"The same recipe with another seed (`--seed {run['training']['seed']}`: other training strips and starting "
            f"weights, the same validation strips): validation {pct(accuracy(run))} against {pct(accuracy(twin))} with "
            f"seed {twin['training']['seed']}, {abs(100 * (accuracy(run) - accuracy(twin))):.2f} points from the seed "
            "alone: the spread to weigh the differences in this table against.")
    findings += [finding for _, run in runs for finding in kept_epoch_findings(run, runs)]
    findings += ensemble_size_findings(runs)
    findings += wider_cnn_findings(runs)
    findings += reader_mix_findings(shipped)
    findings += more_training_findings(shipped)
    if cnn_count(shipped) == 1:
        findings.append(
            "Within the hour, an ensemble's CNNs are weaker than the single 32-filter CNN trained 45 epochs (fewer "
            "filters, fewer epochs or bfloat16), and averaging them has not made up the difference on validation.")
    return "\n".join([table(["run", "CNNs", "filters", "dense", "dropout", "elastic px", "stroke", "training cut", "epochs", "precision",
                             "seed", "training digits", "training number accuracy, last epoch", "validation",
                             "validation, mean of 4 draws", "course_val", "training time", "test"], rows), "",
                      "Validation is on strips of the held-out training digits: the 1,000 after the first 9,000 for the "
                      "9,000-digit runs, the last 6,000 for the runs on all of MNIST, so the two groups' validation columns "
                      "do not compare. `course_val` (the course's own strips of those 6,000 digits) compares them all.", "",
                      "\n\n".join(findings)])


def ensemble_size_findings(runs):
    """What more CNNs of one width gave on all 54,000 training digits, for each width trained at two ensemble
    sizes or more: the best run of each size on course_val, which readers are chosen by, and on validation."""
    by_width = {}
    for _, run in runs:
        validation = run["validation"]
        if validation.get("train_digits") == 54000 and "course_val_number_accuracy" in validation:
            by_width.setdefault(run["training"]["filters"], {}).setdefault(cnn_count(run), []).append(validation)
    findings = []
    for width, by_size in sorted(by_width.items()):
        if len(by_size) < 2:
            continue
        best = {size: max(v["course_val_number_accuracy"] for v in runs_of_size) for size, runs_of_size in by_size.items()}
        sizes = sorted(best)
        parts = [f"{size} CNN{'s' * (size > 1)} {pct(best[size])} on course_val (validation "
                 f"{pct(max(v['val_number_accuracy'] for v in by_size[size]))})" for size in sizes]
        stalled = best[sizes[-1]] <= best[sizes[-2]]
        findings.append(f"Ensemble size, {width}-filter CNNs on all 54,000 training digits, the best run of each size: "
                        f"{'; '.join(parts)}."
                        + (f" {sizes[-1]} CNNs read no better than {sizes[-2]}: more CNNs of this kind have stopped "
                           "paying, and the next gain has to come from stronger CNNs." if stalled else ""))
    return findings


def chosen_by_figures(validation):
    """A reader's validation figures that readers are chosen by, in words."""
    return (f"validation {pct(validation['val_number_accuracy'])}, mean of 4 draws "
            f"{pct(validation['val_number_accuracy_draws_mean'])}, course_val {pct(validation['course_val_number_accuracy'])}")


def wider_cnn_findings(runs):
    """A single CNN wider than the ensembles' 24-filter ones, on all 54,000 training digits, against the first
    two 24-filter CNNs together and the best 24-filter CNN alone."""
    on_all = [run for _, run in runs if run["validation"].get("train_digits") == 54000]
    first_pair = [run for run in on_all if run["training"]["filters"] == 24 and run["training"].get("members") == 2
                  and not run.get("kept_members")]
    best_alone = max((a for run in on_all if run["training"]["filters"] == 24
                      for a in run["validation"].get("val_number_accuracy_members", [])), default=None)
    if not first_pair or best_alone is None:
        return []
    pair = first_pair[0]["validation"]
    findings = []
    for run in (run for run in on_all if cnn_count(run) == 1 and run["training"]["filters"] > 24):
        training, validation = run["training"], run["validation"]
        findings.append(
            f"One CNN of {training['filters']} first-block filters on all 54,000 digits (`--members 1 --filters "
            f"{training['filters']}`, stroke {training['stroke']}, {training['epochs']} epochs, "
            f"{validation['train_seconds_this_run']:,} s): {chosen_by_figures(validation)}; the first two 24-filter CNNs "
            f"together: {chosen_by_figures(pair)} ({pair['train_seconds_this_run']:,} s); the best 24-filter CNN alone: validation "
            f"{pct(best_alone)}."
            + (" A wider CNN alone reads about as well as two narrower ones in the same time: the stronger member to "
               "grow the next ensemble from." if validation["val_number_accuracy"] > best_alone else ""))
    return findings


def reader_mix_findings(shipped):
    """Finished readers averaged with no training (`benchmarks.reader_mix`, `experiments/reader-mix-*.json`),
    against the shipped reader on what readers are chosen by."""
    figures = lambda f: f"course_val {pct(f['course_val_number_accuracy'])}, mean of 4 draws {pct(f['val_number_accuracy_draws_mean'])}"
    findings = []
    for path in sorted(EXPERIMENTS.glob("reader-mix-*.json")):
        mix = read_json(path)
        alone = "; ".join(f"`{r['folder']}` ({r['cnns']} CNNs) {figures(r)}" for r in mix["readers"])
        findings.append(
            f"Finished readers averaged, no training (`python -m benchmarks.reader_mix {' '.join(r['folder'] for r in mix['readers'])}`, "
            f"`experiments/{path.name}`): {alone}. Every CNN weighing the same: {figures(mix['averaged_by_cnns'])}; every "
            f"reader weighing the same (the end-to-end model's digit reader, given several `--init-reader`): "
            f"{figures(mix['averaged_by_readers'])}. The shipped reader: {figures(shipped['validation'])}.")
    return findings


def more_training_findings(shipped):
    """The shipped reader's CNNs trained further on fresh strips, no drawings (`train.reader --init`,
    `experiments/reader-*-finetune.json`), against the shipped reader."""
    findings = []
    for path in sorted(EXPERIMENTS.glob("reader-*-finetune.json")):
        run = read_json(path)
        training, validation = run["training"], run["validation"]
        if training.get("drawn"):
            continue  # the fine-tuning on drawings has a section of its own (the app's)
        findings.append(
            f"More training for the shipped reader's CNNs (`--init {training['init']} --lr {training['lr']} --epochs "
            f"{training['epochs']}`, stroke {training['stroke']}, fresh strips, {validation['train_seconds_this_run']:,} s; "
            f"`experiments/{path.name}`): {chosen_by_figures(validation)}; each CNN alone: "
            f"{', '.join(pct(a) for a in validation['val_number_accuracy_members'])}. The shipped reader: "
            f"{chosen_by_figures(shipped['validation'])}; each CNN alone: "
            f"{', '.join(pct(a) for a in shipped['validation']['val_number_accuracy_members'])}.")
    return findings


def kept_epoch_findings(run, runs):
    """For a reader whose epoch was chosen by validation number accuracy (`--select accuracy`) beside frozen
    CNNs: the epoch kept against the last, from its history (each CNN's validation loss beside the ensemble's
    accuracy); and the same run chosen by the validation loss, for each such run of `runs` ((name, record)
    pairs)."""
    accuracy = run.get("history", {}).get("val_positions_number_accuracy")
    if run["training"].get("select", "accuracy") != "accuracy" or not run.get("kept_members") or not accuracy:
        return []
    history = run["history"]
    kept = int(np.argmax(accuracy))  # the first epoch at the best value, as the callbacks keep it
    last = len(accuracy) - 1
    members = sorted(key for key in history if key.startswith("val_member_"))
    losses = lambda epoch: ", ".join(f"{history[key][epoch]:.4f}" for key in members)
    strips = run["validation"]["val_images"]
    fewer = round((accuracy[kept] - accuracy[last]) * strips)
    findings = [
        f"The epoch kept: training followed the validation number accuracy (`--select accuracy`), and keeps the "
        f"first epoch at its best: epoch {kept + 1} of {last + 1}, {pct(accuracy[kept])}. The last epoch read "
        f"{pct(accuracy[last])}, {fewer} strip{'s' * (fewer != 1)} fewer of {strips:,}, while its CNNs' validation "
        f"losses were {losses(last)} against {losses(kept)} at the kept epoch: on this many strips the accuracy moves "
        "in steps of one strip, and its best value was a noisy peak that the loss, which follows every strip's "
        "probabilities, does not show. So `train.reader` now follows the validation loss by default (`--select loss`)."]
    recipe = lambda record: {**record["training"], **dict.fromkeys(("select", "out", "work_dir", "keep_members"))}
    for name, twin in runs:
        if twin is run or twin["training"].get("select") != "loss" or recipe(twin) != recipe(run):
            continue
        val, twin_val = run["validation"], twin["validation"]
        findings.append(
            f"The same run chosen by the validation loss ({name}: `--select loss`, same seed, kept CNNs and strips) kept epoch "
            f"{int(np.argmin(twin['history']['val_loss'])) + 1}: validation {pct(twin_val['val_number_accuracy'])} "
            f"(each CNN alone: {', '.join(pct(a) for a in twin_val['val_number_accuracy_members'])}), course_val "
            f"{pct(twin_val['course_val_number_accuracy'])}, against {pct(val['val_number_accuracy'])} and "
            f"{pct(val['course_val_number_accuracy'])} chosen by accuracy"
            + (f"; test {pct(twin['test']['number_accuracy'])} against {pct(run['test']['number_accuracy'])}."
               if "test" in twin and "test" in run else "."))
    return findings


def reader_decisions():
    """The reader's choices, argued from the sweep table."""
    sweep = experiment("reader.json")
    if not sweep:
        return ""
    r = {name: v["val_number_accuracy"] for name, v in sweep.items()}
    seconds = {name: v["train_seconds_this_run"] for name, v in sweep.items()}
    base = r["cnn (base)"]
    before = {name: v["val_number_accuracy"] for name, v in (experiment("reader-sweep-9k-digits.json") or {}).items()}
    before_base = before.get("cnn (base)")
    flipped = [f"{name} ({pct(before[name])} vs the base's {pct(before_base)} at 9,000)" for name in r
               if name in before and name != "cnn (base)" and (r[name] - base) * (before[name] - before_base) < 0]
    rerun = ("The sweep ran on all 54,000 training digits. On the first 9,000 (`experiments/reader-sweep-9k-digits.json`) "
             f"every variant moved the same way from the base except {', '.join(flipped) or 'none'}: the choices "
             "made at 9,000 digits stand." if before else "")
    return "\n".join([
        "Why the reader looks the way it does (validation number accuracy after the same short budget):", "",
        rerun, "",
        f"- **CNN, not MLP**: {pct(base)} vs {pct(r['mlp baseline'])}. Convolutions share their weights along "
        "the strip, so a glyph is recognized wherever the spacing puts it; the MLP must learn every offset "
        "separately.",
        f"- **Width**: 32 first-block filters reach {pct(r['cnn filters=32'])} vs {pct(base)} with 16, for "
        f"{seconds['cnn filters=32'] / seconds['cnn (base)']:.1f}x the time per step: the single CNNs below have 32; "
        "the shipped ensemble's CNNs, 24 each, so that two train side by side within the hour.",
        f"- **Dropout**: after the short budget 0 gives {pct(r['cnn dropout=0'])}, 0.1 {pct(base)}, 0.3 "
        f"{pct(r['cnn dropout=0.3'])}: early on, dropout only slows learning. Full runs: below.",
        f"- **Batch normalization**: without it {pct(r['cnn no batch norm'])} vs {pct(base)}: kept.",
        f"- **Training spacing**: half course-cut, half clean-cut strips give {pct(r['cnn cut=mixed'])} on "
        f"course-cut validation vs {pct(base)} for course-cut only. Mixing costs nothing here and also covers "
        "the well-separated digits people draw in the app: the shipped reader trains on the mix.",
        "- **Output design**: three right-aligned positions x (ten digits + blank), decoded as the most "
        "likely *valid* number. The evaluation reports the same model decoded position by position "
        "(`number_accuracy_per_position_argmax`) next to the constrained reading (`number_accuracy`). "
        "The alternative, CTC over the strip's 21 columns of 4 px (`--output ctc`: the same trunk, the dense "
        "layers applied to every column, read as the valid number of highest CTC likelihood), reads "
        f"{pct(r['cnn output=ctc'])} after the short budget, still stuck on the all-blank reading it starts "
        f"from, and {pct(r['cnn output=ctc, 20 epochs'])} after 20 epochs, where positions reach "
        f"{pct(r['cnn, 20 epochs'])} in the same time ({seconds['cnn output=ctc, 20 epochs']} s and "
        f"{seconds['cnn, 20 epochs']} s). CTC gains nothing here, where a number has at most three digits, and "
        "its number distribution costs 256 CTC likelihoods per strip, where positions give it by a sum of "
        "table look-ups (`number_log_probs`), which the end-to-end model needs inside its training graph: "
        "positions kept.", "",
        "Full training runs (all other settings the trainer's defaults; validation: the 5,000 strips from the 1,000 "
        "held-out digits that the trainer follows, where about 0.15 points is sampling noise and the training seed "
        "alone moves more, as measured below; mean of 4 draws: the same reader on four such sets of 5,000 strips "
        "(`python -m mnistadd.evaluate reader --split val`; missing from records whose model was deleted before it "
        "existed), the figure readers are chosen by since it exists; test: measured only for the readers that "
        "were shipped):",
        "", reader_full_runs(), ""])


def adder_decisions():
    """The adder's choices, argued from its sweep table."""
    results = experiment("adder.json")
    if not results:
        return ""
    r = {name: v["held_out_accuracy"] for name, v in results.items()}
    base = r.get("seq2seq lstm (base)")
    lines = ["Why the adder looks the way it does (accuracy on pairs never trained on, same short budget):", ""]
    comparisons = [
        ("single lstm baseline", "**One LSTM with a dense head (no decoder)**"),
        ("seq2seq gru", "**GRU instead of LSTM**"),
        ("seq2seq hidden=64", "**Hidden size 64 instead of 128**"),
        ("seq2seq not reversed", "**Query not reversed**"),
        ("seq2seq aligned numbers", "**Numbers right-aligned in three characters** (\"  7+123\" instead of \"7+123\")"),
        ("seq2seq train 10% of pairs", "**Training on 10 % of the pairs instead of 50 %** (same epochs, so 5x fewer updates)"),
        ("seq2seq train 25% of pairs", "**Training on 25 % of the pairs instead of 50 %** (same epochs, 2x fewer updates)"),
    ]
    for name, label in comparisons:
        if name in r and base is not None:
            lines.append(f"- {label}: {pct(r[name])}, the base encoder-decoder {pct(base)} "
                         f"({results[name]['parameters']:,} vs {results['seq2seq lstm (base)']['parameters']:,} parameters).")
    lines.append("")
    return "\n".join(lines)


def reader_label(architecture):
    """A digit reader's architecture (one reader's dict, or a list of them for an ensemble), in a few words."""
    if isinstance(architecture, list):
        return " + ".join(reader_label(a) for a in architecture)
    cnns = architecture.get("members", 1)
    return f"{cnns} CNN{'s' * (cnns > 1)} of {architecture['filters']} filters, dense {architecture['dense']}"


def measured(value):
    return pct(value) if value is not None else "not measured"


def end2end_starts():
    """The end-to-end runs started from trained readers (`experiments/end2end-*.json` and the shipped model):
    which reader, which learning rate, and validation accuracy per stage, as report lines."""
    rows, val_pairs = [], set()
    for name, run in recorded_runs("end2end-*.json", "end2end"):
        if not run["training"].get("init_reader"):
            continue
        validation, history = run["validation"], run["history"]
        val_pairs.add(f"{validation['val_pairs']:,}")
        rows.append((name, reader_label(run["architecture"]["digit_reader"]), run["training"]["epochs"], run["training"]["lr"],
                     measured(validation.get("val_sum_accuracy_at_start")), pct(history["val_sum_accuracy"][0]),
                     pct(validation["val_sum_accuracy"]), measured(run.get("test", {}).get("sum_accuracy"))))
    if not rows:
        return []
    return ["End-to-end models started from trained readers (`--init-reader`, auxiliary supervision; "
            f"validation: sum accuracy on {' or '.join(sorted(val_pairs))} pairs of held-out digits, before training, after the first epoch, "
            "and of the epoch kept; test: measured only for the models that were shipped). The learning rate "
            "decides how much of the trained reader the first epoch keeps:", "",
            table(["run", "digit reader started from", "epochs", "learning rate", "validation at start", "after epoch 1",
                   "validation kept", "test"], rows), ""]


def end2end_decisions():
    """The supervision regimes and sum decoders side by side, with the reader + adder pipeline on the same pairs."""
    runs = [(name, run_record(MODELS_DIR / name)) for name in ("end2end", "end2end-aux-scratch", "end2end-sum-only",
                                                              "end2end-neural-sum-only") if (MODELS_DIR / name / "metrics.json").exists()]
    # the models that later ones replaced: of 9,000 digits, and the 16-filter sum-only model
    replaced = sorted(EXPERIMENTS.glob("end2end-*-9k-digits.json")) + sorted(EXPERIMENTS.glob("end2end-sum-only-f16.json"))
    runs += [(f"`experiments/{path.name}`", read_json(path)) for path in replaced]

    def digit_reader(training):
        if training.get("init_reader"):
            return "the trained reader, fine-tuned"
        return f"{training['filters']} filters, {training['epochs']} epochs"

    rows = [(name, run["training"]["supervision"], run["architecture"].get("combine", "exact"), digit_reader(run["training"]),
             f"{run['validation'].get('train_digits', 9000):,}", measured(run["validation"].get("course_val_sum_accuracy")),
             pct(run["test"]["sum_accuracy"]), pct(run["test"]["lucky_fraction"])) for name, run in runs if "test" in run]
    pipeline = dict(runs).get("end2end", {}).get("test", {})  # the shipped model's pairs
    if "pipeline_sum_accuracy" in pipeline:
        reader = run_record(MODELS_DIR / "reader")
        rows.append(("reader + adder", "digits (reader), pairs (adder)", "the adder", "the reader",
                     f"{reader['validation'].get('train_digits', 9000):,}",
                     measured(dict(runs)["end2end"]["validation"].get("pipeline_course_val_sum_accuracy")),
                     pct(pipeline["pipeline_sum_accuracy"]),
                     pct(pipeline["pipeline_lucky_fraction"])))
    if not rows:
        return ""
    lines = []
    neural = MODELS_DIR / "end2end-neural-sum-only" / "history.csv"
    if neural.exists():
        epochs = len(plots.read_history(neural)["loss"])
        lines += [f"With the sum as its only signal, the learned MLP decoder (`end2end-neural-sum-only`) has to "
                  f"discover the digits and addition at once: early stopping ended it after {epochs} epochs near "
                  "chance, where the exact sum layer, given the same data and budget, learned the digits from sums "
                  "alone.", ""]
    lines += end2end_starts()
    if run := experiment("end2end-ensemble.json"):
        lines += [f"An ensemble digit reader (two trained readers averaged, fine-tuned as one model; "
                  f"`experiments/end2end-ensemble.json`) reached {pct(run['validation']['val_sum_accuracy'])} on "
                  f"validation, no better than one reader ({pct(run['single_reader_val_sum_accuracy'])} then), for "
                  "twice the compute: not shipped, and not measured on the test split.", ""]
    return "\n".join(lines + ["Supervision regimes and sum decoders on the same 10,000 test pairs (lucky: the sum is right "
                      "although a number was misread):", "",
                      table(["model", "supervision", "sum from the numbers", "digit reader", "training digits",
                             "course_val sums", "test sum accuracy", "lucky"], rows), ""])


# Multi-digit MNIST addition, published sum accuracies on the test digits (%, mean ± std over runs), columns
# N = 1, 2, 4, 15, as two tables collect them; "T/O": the method timed out at that N, "-": not in that table.
ADDITION_DIGITS = (1, 2, 4, 15)
A_NESI_TABLE = "A-NeSI, Table 1"
NESYDM_TABLE = "NeSyDM, Table 1"
ADDITION_PUBLISHED = [
    ("LTN (Badreddine et al., AIJ 2022)", A_NESI_TABLE, "80.54 ± 23.33", "77.54 ± 35.55", "T/O", "T/O"),
    ("NeuPSL (Pryor et al., IJCAI 2023)", A_NESI_TABLE, "97.34 ± 0.26", "93.91 ± 0.37", "T/O", "T/O"),
    ("DeepProbLog (Manhaeve et al., NeurIPS 2018)", A_NESI_TABLE, "97.20 ± 0.50", "95.20 ± 1.70", "T/O", "T/O"),
    ("DPLA* (Manhaeve et al., KR 2021)", A_NESI_TABLE, "88.90 ± 14.80", "83.60 ± 23.70", "T/O", "T/O"),
    ("NeurASP (Yang et al., IJCAI 2020)", A_NESI_TABLE, "97.30 ± 0.30", "93.90 ± 0.70", "T/O", "T/O"),
    ("DeepStochLog (Winters et al., AAAI 2022)", A_NESI_TABLE, "97.90 ± 0.10", "96.40 ± 0.10", "92.70 ± 0.60", "T/O"),
    ("Embed2Sym (Aspis et al., KR 2022)", A_NESI_TABLE, "97.62 ± 0.29", "93.81 ± 1.37", "91.65 ± 0.57", "60.46 ± 20.36"),
    ("A-NeSI, explain (van Krieken et al., NeurIPS 2023)", A_NESI_TABLE, "97.37 ± 0.32", "96.04 ± 0.46", "92.11 ± 1.06", "75.90 ± 2.17"),
    ("A-NeSI, predict (van Krieken et al., NeurIPS 2023)", A_NESI_TABLE, "97.66 ± 0.21", "95.96 ± 0.38", "92.56 ± 0.79", "76.84 ± 2.82"),
    ("DeepSoftLog (Maene & De Raedt, NeurIPS 2023)", NESYDM_TABLE, "-", "-", "93.5 ± 0.6", "77.1 ± 1.6"),
    ("PLIA (as NeSyDM cites it)", NESYDM_TABLE, "-", "-", "91.84 ± 0.73", "79.00 ± 0.73"),
    ("Scallop (Li et al., PLDI 2023; as NeSyDM cites it)", NESYDM_TABLE, "-", "-", "90.88 ± 0.48", "T/O"),
    ("EXAL (as NeSyDM cites it)", NESYDM_TABLE, "-", "-", "91.65 ± 0.57", "73.27 ± 2.05"),
    ("NeSyDM (van Krieken et al., 2025)", NESYDM_TABLE, "-", "-", "92.49 ± 0.98", "77.29 ± 1.40"),
]
ADDITION_SOURCES = (
    "Sources: \"A-NeSI, Table 1\": van Krieken, Thanapalasingam, Tomczak, van Harmelen, ten Teije, \"A-NeSI: A "
    "Scalable Approximate Method for Probabilistic Neurosymbolic Inference\", NeurIPS 2023 (arXiv 2212.12393), "
    "which collects the other methods' figures. \"NeSyDM, Table 1\": van Krieken, Minervini, Ponti, Vergari, "
    "\"Neurosymbolic Diffusion Models\" (2025), Table 1, N = 4 and 15 only (\"Accuracy of predicting the correct "
    "sum on MNIST Addition with N = 4 and N = 15 digits\"), which also reprints A-NeSI predict's 92.56 ± 0.79 and "
    "76.84 ± 2.82. Checked against a second source: DeepStochLog's N = 1, 2, 4 (97.9 ± 0.1, 96.4 ± 0.1, 92.7 ± 0.6, "
    "as a reproduction of DeepStochLog reprints its paper's table), A-NeSI predict's N = 4 and 15 (NeSyDM), A-NeSI explain's "
    "N = 15 (75.9 ± 2.2 in DeepProofLog, arXiv 2511.08581, Table 1). The other A-NeSI cells were transcribed in an "
    "earlier session and could not be re-read here: the search tools reach the paper's abstract, not its table."
)


def best_published():
    """The highest published mean per N, as "97.90 (N=1), ..." (the table's cells read as "mean ± std")."""
    means = [[float(cell.split(" ± ")[0]) for cell in column if "±" in cell]
             for column in zip(*(row[2:] for row in ADDITION_PUBLISHED))]
    return ", ".join(f"{max(column):.2f} (N={n})" for n, column in zip(ADDITION_DIGITS, means))


SUM_LAYER_LABELS = {
    "convolution_0_255": "convolution of two numbers' distributions over 0..255 (`SumDistribution`)",
    "carry_n3": "carry chain, N=3 (`CarrySumLikelihood`)",
    "carry_n15": "carry chain, N=15",
    "carry_n100": "carry chain, N=100",
    "digit_reader": "digit reader (`build_reader`), both strips of each pair",
}


def mean_std(test, key):
    return f"{100 * test[f'{key}_mean']:.2f} ± {100 * test[f'{key}_std']:.2f}"


def addition_section():
    """The MNIST-addition benchmark: the published table with our row, each N's runs, learning curves."""
    lines = ["## Multi-digit MNIST addition, learned from sums alone", "",
             "The neuro-symbolic benchmark (`python -m train.addition --digits N`, `mnistadd/addition.py`): two N-digit "
             "numbers written with MNIST digits, most significant first, labelled only with their sum. Training sums "
             "come from the first 54,000 MNIST training digits shuffled with the run's seed (the papers use all 60,000); "
             "the last 6,000, cut the same way, are the validation sums that early stopping reads; test: the 10,000 test "
             "digits cut into 10000 // 2N sums with a fixed seed. Digit labels build the sums and, after training, "
             "measure the digit accuracy; nothing else. The digit network is a LeNet-style CNN (two 5x5 convolution "
             "blocks of 32 and 64 filters with batch norm, a dense layer of 128, dropout) shared by all 2N digits; "
             "training maximizes the exact likelihood of the sum through the carry chain (`CarrySumLikelihood`: a "
             "product of N (carry in x carry out) matrices in log space, tested against enumeration for N = 1..3). "
             "The digit network first learns from the top digit pairs alone (`--warmup-sums`, 27,000 of "
             "them): their sum is the sum's first two digits up to a carry from below, the N = 1 problem, while a "
             "lower position's sum digit is a sum mod 10 that tells nothing about digits read near uniformly; without "
             "it, some N = 15 runs settled on a wrong digit assignment (the trainer's docstring). The N = 1 runs "
             "warm up 4 fresh digit networks (`--starts 4`) and keep the one that reads the validation sums best, "
             "sums only; the N > 1 runs use one start. A sum is predicted by reading each digit's most likely value "
             "and adding the two numbers.", ""]
    if before := experiment("addition-n1-one-start.json"):
        seeds = before["test"]["per_seed"]
        trapped = [seed for seed in seeds if seed["digit_accuracy"] < 0.5]
        lines += [f"Why starts: our first N = 1 runs (no warm-up for N = 1, one start; `experiments/addition-n1-one-start.json`) "
                  f"scored {mean_std(before['test'], 'sum_accuracy')} %: " + ", ".join(
                      f"seed {seed['seed']} read {pct(seed['digit_accuracy'])} of the digits right yet "
                      f"{pct(seed['sum_accuracy'])} of the sums" for seed in trapped) +
                  ", a relabelling of the digits whose errors cancel in about half the pairs, which training never left. "
                  "With one trapped start in five, four starts all trapped would be about 0.2^4 = 0.2 % of runs."]
        if (after := MODELS_DIR / "addition-n1" / "metrics.json").exists():
            starts = [a for seed in read_json(after)["test"]["per_seed"] for a in seed.get("start_val_sum_accuracies", [])]
            if starts:
                lines[-1] += (f" In the runs below, the {len(starts)} warm-ups (one epoch of whole sums each) read "
                              f"{pct(min(starts))} to {pct(max(starts))} of the validation sums: none was trapped, so "
                              "the warm-up at a constant learning rate may be what helped as much as the choice among starts.")
        lines.append("")
    ours = {n: read_json(path)["test"] for n in ADDITION_DIGITS
            if (path := MODELS_DIR / f"addition-n{n}" / "metrics.json").exists()}
    our_row = ("**mnistadd, carry-chain likelihood (ours)**", "this report",
               *[f"**{mean_std(ours[n], 'sum_accuracy')}**" if n in ours else "not trained yet" for n in ADDITION_DIGITS])
    lines += ["Sum accuracy on the MNIST test digits (%, mean ± standard deviation over runs). The published rows "
              "are other people's runs on the full 60,000 training digits, each method with its own digit network "
              "(mostly the LeNet-style CNN of DeepProbLog):", "",
              table(["method", "source", *[f"N={n}" for n in ADDITION_DIGITS]], ADDITION_PUBLISHED + [our_row]), "",
              f"{ADDITION_SOURCES} Best published per N: {best_published()}.", ""]
    if not ours:
        return "\n".join(lines)
    rows = [(n, test["seeds"], mean_std(test, "sum_accuracy"), mean_std(test, "other_pairings_sum_accuracy_mean"),
             pct(min(seed["other_pairings_sum_accuracy_min"] for seed in test["per_seed"])),
             mean_std(test, "digit_accuracy"), ", ".join(str(seed["epochs"]) for seed in test["per_seed"]),
             round(sum(seed["train_seconds"] for seed in test["per_seed"]) / test["seeds"]),
             f"{test['shipped_seed']} ({pct(test['shipped_sum_accuracy'])})")
            for n, test in ours.items()]
    lines += ["Our runs (seeds 0 .. runs-1). \"Other pairings\": the same models on 100 other pairings of the test "
              "digits (each run's mean, then mean ± std over runs; \"worst\" the lowest single pairing of any run). "
              "Digit accuracy: the 10,000 test digits read by the digit network that learned from sums alone. "
              "Seconds: training wall time per run on 2 CPU cores (shared with other work while they ran). Shipped: "
              "the run best on validation sums, whose model is `models/addition-nN`.", "",
              table(["N", "runs", "sum accuracy %", "other pairings %", "worst pairing", "digit accuracy %",
                     "epochs per run", "seconds per run", "shipped run (its test sum accuracy)"], rows), ""]
    for path in sorted(EXPERIMENTS.glob("addition-n*-stopped-history.csv")):  # the trainer's history.csv of such a run
        curve = plots.read_history(path)["val_sum_accuracy"]
        lines += [f"`experiments/{path.name}`: a run stopped before its end, for lack of CPU time, after {len(curve)} "
                  f"epochs, not among the runs above; its validation sum accuracy per epoch: "
                  f"{', '.join(pct(value) for value in curve)}.", ""]
    lines += [f"![addition N={n}: every seed](models/addition-n{n}/seeds.png)" for n in ours] + [""]
    if speed := experiment("sum_layers.json"):
        ms = speed["forward_and_backward_ms"]
        saving = (ms["convolution_0_255"] - ms["carry_n3"]) / (ms["convolution_0_255"] + ms["digit_reader"])
        lines += [f"`python -m benchmarks.sum_layers --repeats {speed['repeats']}`: forward and backward pass over "
                  f"{speed['batch_pairs']} pairs, median ms of {speed['repeats']} calls ({speed['environment']['machine']}, "
                  "shared with other training jobs while it ran). In a sum-only step of the end-to-end model (digit reader and "
                  f"sum), the carry chain instead of the convolution would save {pct(saving)} of the time. It would not "
                  "be the same model, though: the end-to-end model's numbers are valid numbers 0..255 (no leading "
                  "zeros; blanks), whose distribution is not a product of independent digits, so the chain would "
                  "score impossible numbers too (`PositionDigits` reads a blank as a leading 0: numbers 0..999).", "",
                  table(["computation", "ms"], [(SUM_LAYER_LABELS[key], value) for key, value in ms.items()]), ""]
    if runs := experiment("sum-layer-end2end.json"):
        rows = [(name, run["flags"] or "(defaults)", pct(run["val_sum_accuracy"]), pct(run["course_val_sum_accuracy"]),
                 pct(run["val_digitwise_sum_accuracy"]), run["train_seconds_this_run"]) for name, run in runs.items()]
        lines += ["Trained both ways (`python -m train.sweep sum-layer-end2end`): the sum-only end-to-end model from "
                  "scratch, the data-budget sweep's short budget (8 epochs of 150 steps of 64 pairs), its loss through "
                  "the convolution or through the carry chain (`--sum-layer carry`), two seeds each, one run after "
                  "another. Each model's sums are read two ways: by its output, the convolution over the valid "
                  "numbers 0..255 (our 1,000 validation pairs, and course_val: the course's strips of the validation "
                  "digits, 10,000 pairs), and digit by digit as the carry chain reads them (each position's most likely "
                  "class, a blank as a leading 0, the numbers added; validation pairs). The carry chain never tells a "
                  "blank from a leading 0, so a model trained through it cannot be read through the convolution, which "
                  "needs that difference to tell the valid numbers apart.", "",
                  table(["run", "flags", "validation sums (convolution) %", "course_val sums (convolution) %",
                         "validation sums (digit by digit) %", "training seconds"], rows), ""]
        by_layer = {layer: [run for run in runs.values() if run["sum_layer"] == layer] for layer in ("convolution", "carry")}
        mean = lambda layer, key: float(np.mean([run[key] for run in by_layer[layer]]))
        if all(by_layer.values()):
            lines += [f"Mean over the seeds: trained through the carry chain, the model reads "
                      f"{pct(mean('carry', 'val_digitwise_sum_accuracy'))} of the validation sums digit by digit "
                      f"(trained through the convolution: {pct(mean('convolution', 'val_digitwise_sum_accuracy'))} that way, "
                      f"{pct(mean('convolution', 'val_sum_accuracy'))} through its output), in "
                      f"{mean('carry', 'train_seconds_this_run') / mean('convolution', 'train_seconds_this_run'):.2f}x "
                      f"the time; but only {pct(mean('carry', 'val_sum_accuracy'))} through the convolution. It "
                      "learns the digits as well and faster, as a model of numbers 0..999 that a reading of the valid "
                      "numbers 0..255 cannot use: the end-to-end model keeps the convolution.", ""]
    return "\n".join(lines)


def results_table():
    rows = []
    for name, metric, label in (("reader", "number_accuracy", "number exact match, 10,000 test strips"),
                                ("reader", "digit_accuracy", "digit accuracy, test strips"),
                                ("adder", "all_pairs_accuracy", "exact sum, all 65,536 pairs"),
                                ("adder", "held_out_accuracy", "exact sum, pairs never trained on"),
                                ("adder-gru", "all_pairs_accuracy", "follow-up: GRU on 80 % of pairs, all pairs"),
                                ("adder-gru", "held_out_accuracy", "follow-up: GRU on 80 % of pairs, never trained on"),
                                ("end2end", "sum_accuracy", "sum exact match, 10,000 test pairs (shipped: numbers as "
                                 "auxiliary targets, digit reader started from the trained reader)"),
                                ("end2end", "pipeline_sum_accuracy", "reader + adder pipeline (the shipped models), same pairs"),
                                ("end2end-aux-scratch", "sum_accuracy", "numbers as auxiliary targets, from scratch, same pairs"),
                                ("end2end-sum-only", "sum_accuracy", "sum-only supervision, from scratch, same pairs"),
                                ("end2end-neural-sum-only", "sum_accuracy", "sum-only supervision, learned MLP sum decoder "
                                 "instead of the exact sum, same pairs"),
                                *[(f"addition-n{n}", "sum_accuracy_mean", f"MNIST addition N={n} from sums alone, sum "
                                   f"accuracy on {10000 // (2 * n):,} test sums, mean over runs") for n in ADDITION_DIGITS]):
        path = MODELS_DIR / name / "metrics.json"
        metrics = read_json(path) if path.exists() else {}
        value = metrics.get("test", {}).get(metric)
        if metrics and name.startswith("end2end") and "train_digits" not in metrics["validation"]:
            label += " (trained on 9,000 digits, not yet retrained on all of MNIST)"
        rows.append((name, label, pct(value) if value is not None else "not measured yet"))
    for name in ("reader", "adder", "end2end"):
        path = MODELS_DIR / name / "metrics.json"
        if path.exists():
            seconds = read_json(path)["validation"]["train_seconds_this_run"]
            config = read_json(MODELS_DIR / name / "config.json")
            kept, members = len(config.get("kept_members", [])), config["architecture"].get("members", 1)
            # a reader grown with --keep-members: its earlier runs' times are in their own records
            last_run = f"; the last training run only, which added {members - kept} of its {members} CNNs" if kept else ""
            rows.append((name, f"training wall time, 2 CPU cores (after `--resume`, the resumed part{last_run})",
                         f"{seconds:,} s"))
    return table(["model", "measure", "ours"], rows) + "\n\nPublished anchors (other data budgets):\n\n" + \
        table(["anchor", "measure", "published"], ANCHORS)


def main():
    results, generator, app = results_table(), generator_section(), app_section()  # in both files
    sections = [
        "# mnistadd report", "",
        "Rebuilt by `python -m train.report` from the saved runs. Test figures come from "
        "`python -m mnistadd.evaluate <model>`; everything else from validation data (held-out training digits) "
        "or held-out pairs.", "",
        "## Results", "", results, "",
        generator,
        app,
        calibration_section(),
        model_section("reader", "Reader (task 1)", "python -m train.reader", {"test": "MNIST test digits, course spacing"}),
        sweep_section("reader", "val_number_accuracy"),
        data_budget_section(),
        reader_decisions(),
        model_section("adder", "Adder (task 2)", "python -m train.adder", {"test": "every pair 0..255 + 0..255"}),
        sweep_section("adder", "held_out_accuracy"),
        adder_decisions(),
        end2end_decisions(),
        model_section("end2end", "End-to-end (bonus), shipped: auxiliary supervision, started from the reader",
                      "python -m train.end2end --init-reader models/reader --epochs 6 --lr 5e-5", {"test": "10,000 test pairs"}),
        model_section("end2end-aux-scratch", "End-to-end, auxiliary supervision, from scratch",
                      "python -m train.end2end --supervision aux --epochs 25 --out models/end2end-aux-scratch", {"test": "10,000 test pairs"}),
        model_section("end2end-sum-only", "End-to-end, sum-only supervision",
                      "python -m train.end2end --supervision sum --filters 32 --epochs 30 --out models/end2end-sum-only", {"test": "10,000 test pairs"}),
        model_section("end2end-neural-sum-only", "End-to-end, sum-only supervision, learned MLP sum decoder",
                      "python -m train.end2end --supervision sum --combine neural --epochs 25 --out models/end2end-neural-sum-only",
                      {"test": "10,000 test pairs"}),
        addition_section(),
    ]
    write_text_atomic(ROOT / "REPORT.md", "\n".join(sections))
    readme = (ROOT / "README.md").read_text()
    block = ("<!-- results:start -->\n## Results\n\nMeasured by `python -m mnistadd.evaluate <model>`; "
             "the full report with architectures, experiments and plots is [REPORT.md](REPORT.md).\n\n"
             + results + "\n\n" + generator.replace("## Data generator", "### Data generator")
             + "\n" + app.replace("## The app", "### The app")
             + "\n<!-- results:end -->")
    write_text_atomic(ROOT / "README.md", re.sub(r"<!-- results:start -->.*<!-- results:end -->", lambda _: block, readme, flags=re.S))
    print("wrote REPORT.md and README.md's results")


if __name__ == "__main__":
    main()
