"""What every trainer shares: Keras callbacks, the learning-rate schedule, and the atomic write of a
finished model folder (`models/<name>/`, a ready Hugging Face model repo).

Saved models keep their Dense kernels in int8 (Keras post-training quantization, `model.quantize`): the
readers' CNNs hold 95 % of their weights in one Dense layer, so their files shrink 3x, while what they
read changes on a handful of strips in 20,000 at most (checked on the shipped reader when this came in;
calls on CPU take a few percent longer). Training that starts from a saved model gets the dequantized
weights (`copy_weights`). Trainers measure their figures on the int8 copy that they save (the training
log, history.csv, is the float model's)."""

import csv
import os
import platform
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import keras
import tensorflow as tf
from keras import ops

from mnistadd.data import split_digits
from mnistadd.io import read_json, write_json  # noqa: F401  read_json: the trainers' import


def cosine_schedule(learning_rate, total_steps):
    """Linear warm-up over the first 5 % of steps, then cosine decay to 1 % of the peak."""
    warmup_steps = total_steps // 20
    return keras.optimizers.schedules.CosineDecay(
        learning_rate / 10, decay_steps=max(1, total_steps - warmup_steps), alpha=0.01,
        warmup_target=learning_rate, warmup_steps=warmup_steps,
    )


def training_callbacks(work_dir, monitor, patience, mode="max"):
    """Progress bar (fit's default), resumable state, early stopping, CSV history, best model.

    `BackupAndRestore` keeps the model, optimizer and epoch in `work_dir/backup`, so running the same
    command again (`--resume`) continues an interrupted run where it stopped. `best.keras` keeps the
    best model so far, so a run that fails after training still leaves its result. After `--resume`, the
    checkpoint and early stopping go on from the interrupted run's best epoch (`ResumableEarlyStopping`)."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    early_stopping = ResumableEarlyStopping(work_dir, monitor=monitor, mode=mode, patience=patience)
    return [
        keras.callbacks.BackupAndRestore(str(work_dir / "backup")),
        early_stopping,
        keras.callbacks.CSVLogger(str(work_dir / "history.csv"), append=True),
        keras.callbacks.ModelCheckpoint(str(work_dir / "best.keras"), monitor=monitor, mode=mode, save_best_only=True,
                                        initial_value_threshold=early_stopping.past_best()[0]),
    ]


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """Early stopping that restores the best weights, and after `--resume` counts the interrupted run's
    epochs too: their best value, its epoch and the epochs since (history.csv), and that epoch's weights
    (best.keras). Plain `EarlyStopping` starts afresh with each `fit`, so patience would restart and the
    weights finally kept could be a resumed epoch's although an earlier one was better."""

    def __init__(self, work_dir, **kwargs):
        super().__init__(restore_best_weights=True, **kwargs)
        self.work_dir = Path(work_dir)

    def past_best(self):
        """(best value, its epoch, epochs done) of the interrupted run in `work_dir`; (None, None, 0) when
        there is none: no history, or no best.keras from it."""
        history = self.work_dir / "history.csv"
        if not history.exists() or not (self.work_dir / "best.keras").exists():
            return None, None, 0
        with history.open() as f:
            values = [float(row[self.monitor]) for row in csv.DictReader(f)]
        if not values:
            return None, None, 0
        epoch = (min if self.mode == "min" else max)(range(len(values)), key=values.__getitem__)
        return values[epoch], epoch, len(values)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        best, epoch, epochs = self.past_best()
        if best is not None:
            self.best, self.best_epoch, self.wait = best, epoch, epochs - 1 - epoch
            checkpoint = keras.saving.load_model(self.work_dir / "best.keras", compile=False, safe_mode=True)
            self.best_weights = checkpoint.get_weights()


def training_digits(args):
    """How many training digits a trainer's `--train-digits` and `--mnist-dir` leave it."""
    return len(split_digits("train", args.mnist_dir)[1][:args.train_digits])


def batches_done(work_dir, steps_per_epoch):
    """Training batches an interrupted run in `work_dir` has used: its finished epochs (the rows of its
    history.csv; none in a fresh work directory) times `steps_per_epoch`. A resumed run's stream starts
    there, so that it goes on with the strips an uninterrupted run would see, not its first epochs again."""
    history = Path(work_dir) / "history.csv"
    epochs = len(history.read_text().splitlines()) - 1 if history.exists() else 0
    return max(epochs, 0) * steps_per_epoch


def prepare_work_dir(work_dir, resume):
    """A fresh work directory, or the existing one when resuming."""
    work_dir = Path(work_dir)
    if work_dir.exists() and not resume:
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    return work_dir


def environment():
    """Where a model's figures came from."""
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "accelerators": [d.name for d in tf.config.list_physical_devices() if d.device_type != "CPU"],
    }


def inference_copy(model):
    """The model as it is measured and saved: without its optimizer state, which would triple the size of
    the file, and with its Dense kernels in int8."""
    copy = model.__class__.from_config(model.get_config())  # clone_model would carry the optimizer along
    copy.set_weights(model.get_weights())
    with warnings.catch_warnings():  # one "does not have a `quantize` method" warning per other layer
        warnings.simplefilter("ignore", UserWarning)
        copy.quantize("int8")
    return copy


def leaf_layers(model):
    """The layers of `model` that hold weights of their own (no nested models), depth first."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def copy_weights(source, target):
    """Sets the weights of `target` to those of `source`, a model of the same layers, layer by layer; an
    int8 Dense kernel of a saved model (`inference_copy`) comes back as float, kernel / scale."""
    for from_layer, to_layer in zip(leaf_layers(source), leaf_layers(target), strict=True):
        if getattr(from_layer, "quantization_mode", None) == "int8":
            kernel = ops.cast(from_layer.kernel, "float32") / from_layer.kernel_scale
            to_layer.set_weights([kernel, from_layer.bias] if from_layer.use_bias else [kernel])
        else:
            to_layer.set_weights(from_layer.get_weights())  # raises if the layers differ


def save_model_folder(out_dir, model, config, metrics, history_csv, extra_files=()):
    """Writes `out_dir` whole or not at all: everything goes to a temporary sibling folder, which then
    replaces `out_dir`. `model` is saved as given: an `inference_copy`, the model its metrics were measured
    on. `extra_files` are (name, writer) pairs, each writer called with its path."""
    if getattr(model, "optimizer", None) is not None:  # set by compile, which an inference_copy never saw
        raise ValueError("save_model_folder saves an inference_copy(model), not a model with training state")
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the finished folder is a model repo for all to read
    try:
        model.save(staging / "model.keras")
        write_json(staging / "config.json", config)
        write_json(staging / "metrics.json", metrics)
        shutil.copy(history_csv, staging / "history.csv")
        for name, writer in extra_files:
            writer(staging / name)
        if out_dir.exists():
            retired = out_dir.with_name(f".{out_dir.name}-old-{int(time.time())}")
            os.replace(out_dir, retired)
            os.replace(staging, out_dir)
            shutil.rmtree(retired)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def recipe_record(args, metrics):
    """The config's "recipe" entry when a recipe trained the model (`train.recipe` sets `args.recipe_entry`):
    its name, the one command that reproduces it, and the training seconds of all its steps."""
    entry = getattr(args, "recipe_entry", None)
    if entry is None:
        return {}
    seconds = metrics.get("train_seconds_this_run", metrics.get("train_seconds", 0))
    return {"recipe": {"name": entry["name"], "command": entry["command"],
                       "train_seconds": entry["earlier_train_seconds"] + seconds}}


def finish_training(args, model, config, metrics, work_dir, extra_files=(), test=None):
    """Writes the model folder `args.out` (config with the run's settings, the recipe that trained it and
    the environment, validation metrics, `test` metrics when the trainer measured them, history, plots,
    model card), then pushes it to the Hub if `--push-to-hub` asked."""
    from mnistadd.hub import push, write_model_card  # the Hub client is only needed once training is done

    settings = {key: value for key, value in vars(args).items()
                if key not in ("push_to_hub", "private", "resume", "recipe_entry")}
    config = {**config, **recipe_record(args, metrics), "training": settings, "environment": environment()}
    metrics = {"validation": metrics, **({"test": test} if test else {})}
    out = save_model_folder(args.out, model, config, metrics, Path(work_dir) / "history.csv", extra_files)
    write_model_card(out)
    print(f"wrote {out}")
    if args.push_to_hub:
        print(push(out, args.push_to_hub, private=args.private))
    return out

