"""train.reader (and train.record on its folders): CTC experiments, bfloat16 ensembles, keeping the CNNs of a
trained reader, fine-tuning on drawings, the MLP baseline, resuming an interrupted run. Tiny budgets:
behaviour, not accuracy."""

import json

import keras
import numpy as np
import pytest

from conftest import NO_RECIPE, TINY_CNN, assert_same_learned_weights, random_strips
from mnistadd import load, plots
from mnistadd.reader import NUMBER_CLASSES, build_ctc_reader, ensemble_members
from train import end2end as train_end2end
from train import reader as train_reader
from train import record as train_record


def test_ctc_reader_trains_and_is_read_on_validation(small_mnist_dir, tmp_path):
    assert build_ctc_reader(filters=4, dense=8).output_shape == (None, 21, 11)
    args = train_reader.parse_args(TINY_CNN[:2] + ["--dense", "8", "--output", "ctc", "--members", "1", "--out", "none",
                                   "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "8", "--val-size", "8",
                                   "--mnist-dir", str(small_mnist_dir), "--work-dir", str(tmp_path)])
    _, val_metrics, _ = train_reader.train(args)
    assert 0 <= val_metrics["val_number_accuracy"] <= 1 and "val_loss" in plots.read_history(tmp_path / "history.csv")


def test_ctc_readers_are_experiments_only():
    with pytest.raises(SystemExit):  # the product reads positions: a CTC model folder would not load
        train_reader.parse_args(["--output", "ctc", "--members", "1"])


def test_reader_ensemble_trains_in_bfloat16_and_is_saved_in_float32(tmp_path, small_mnist_dir):
    """Two CNNs under mixed_bfloat16: each member has a loss of its own (the history shows both), early
    stopping follows their average, and the saved model computes in float32 on any machine."""
    train_reader.main(NO_RECIPE + TINY_CNN + ["--members", "2", "--precision", "mixed_bfloat16", "--epochs", "1",
                                  "--steps-per-epoch", "2", "--val-size", "16", "--mnist-dir", str(small_mnist_dir),
                                  "--out", str(tmp_path / "reader"), "--work-dir", str(tmp_path / "run")])
    config = json.loads((tmp_path / "reader" / "config.json").read_text())
    assert config["architecture"]["members"] == 2
    members_accuracy = json.loads((tmp_path / "reader" / "metrics.json").read_text())["validation"]["val_number_accuracy_members"]
    assert len(members_accuracy) == 2 and all(0 <= a <= 1 for a in members_accuracy)
    header = (tmp_path / "reader" / "history.csv").read_text().splitlines()[0].split(",")
    assert {"member_0_loss", "member_1_loss", "val_positions_number_accuracy"} <= set(header)
    model = keras.saving.load_model(tmp_path / "reader" / "model.keras", compile=False)
    layers = [layer for member in ensemble_members(model) for layer in member.get_layer("trunk").layers]
    assert {layer.dtype_policy.name for layer in layers} == {"float32"}
    assert keras.mixed_precision.global_policy().name == "float32"  # training left no global policy behind
    assert load("reader", models_dir=tmp_path).predict(random_strips(2)).shape == (2,)
    # the end-to-end model starts from such a folder too: its digit reader is then the same ensemble
    train_end2end.main(NO_RECIPE + ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--val-size", "8", "--lr", "0",
                        "--mnist-dir", str(small_mnist_dir), "--init-reader", str(tmp_path / "reader"),
                        "--work-dir", str(tmp_path / "e2e-run"), "--out", str(tmp_path / "e2e")])
    digit_reader = load("e2e", models_dir=tmp_path).model.get_layer("digit_reader")
    assert_same_learned_weights(model, digit_reader)


def test_reader_keeps_members_of_a_trained_reader_unchanged(tmp_path, models_dir, small_mnist_dir):
    """--keep-members: the trained reader's two CNNs become the ensemble's first members unchanged (weights and
    batch-norm statistics alike), a new CNN trains on its own, and the config says where each came from."""
    train_reader.main(NO_RECIPE + TINY_CNN + ["--keep-members", str(models_dir / "reader"), "--members", "1", "--seed", "1",
                                  "--epochs", "1", "--steps-per-epoch", "2", "--val-size", "16",
                                  "--mnist-dir", str(small_mnist_dir), "--out", str(tmp_path / "reader"),
                                  "--work-dir", str(tmp_path / "run")])
    kept = keras.saving.load_model(models_dir / "reader" / "model.keras", compile=False)
    joined = keras.saving.load_model(tmp_path / "reader" / "model.keras", compile=False)
    *firsts, new = ensemble_members(joined)
    for trained, first in zip(ensemble_members(kept), firsts, strict=True):
        for before, after in zip(trained.get_weights(), first.get_weights(), strict=True):
            # saving quantizes again: the int8 kernels come back equal, their scales to float rounding
            np.testing.assert_allclose(after, before, rtol=1e-5)
    x = random_strips(2)
    assert not np.allclose(firsts[0].predict(x, verbose=0), new.predict(x, verbose=0))
    header = (tmp_path / "reader" / "history.csv").read_text().splitlines()[0].split(",")
    assert "number_accuracy" in header and not any(column.startswith("member_") for column in header)  # one CNN trained
    config = json.loads((tmp_path / "reader" / "config.json").read_text())
    assert config["architecture"]["members"] == 3 and config["training"]["seed"] == 1
    assert [settings["seed"] for settings in config["kept_members"]] == [0, 0]
    assert train_record.run_record(tmp_path / "reader")["kept_members"] == config["kept_members"]
    with pytest.raises(SystemExit):  # only a positions CNN can take more CNNs
        train_reader.parse_args(["--keep-members", str(models_dir / "reader"), "--arch", "mlp"])
    with pytest.raises(SystemExit):  # the whole ensemble's accuracy exists only once the CNNs join
        train_reader.parse_args(["--keep-members", str(models_dir / "reader"), "--select", "accuracy"])


def test_reader_fine_tunes_a_trained_reader_on_drawings(tmp_path, models_dir, small_mnist_dir):
    """--init: every CNN starts from a trained reader, in its architecture whatever the flags say; --drawn: a
    share of each batch is drawings read through to_strip, from a pool made once and kept for --resume."""
    common = ["--init", str(models_dir / "reader"), "--drawn", "0.25", "--drawn-pool", "24", "--batch-size", "8",
              "--filters", "16", "--members", "5", "--mnist-dir", str(small_mnist_dir), "--work-dir", str(tmp_path / "run")]
    args = train_reader.parse_args(common)
    assert (args.filters, args.members) == (4, 2)
    images, classes = next(iter(train_reader.training_data(args, tmp_path / "run")))
    with np.load(tmp_path / "run" / "drawn_pool.npz") as pool:
        strips, numbers = pool["strips"], pool["numbers"]
    assert strips.shape == (24, 28, 84) and images.shape == (8, 28, 84)
    for image, target in zip(images[-2:], classes[-2:]):  # the batch's last quarter: drawings from the pool
        match = np.flatnonzero((strips == image.numpy()).all(axis=(1, 2)))
        assert len(match) and (NUMBER_CLASSES[numbers[match[0]]] == target.numpy()).all()
    assert not any((strips == image.numpy()).all(axis=(1, 2)).any() for image in images[:6])
    for cut, drawn in (("course", "0"), ("mixed", "0"), ("clean", "0.3")):  # every way of filling a batch of 7
        args = train_reader.parse_args(common[4:] + ["--cut", cut, "--drawn", drawn, "--batch-size", "7"])
        images, classes = next(iter(train_reader.training_data(args, tmp_path / "run")))
        assert images.shape == (7, 28, 84) and classes.shape == (7, 3)

    train_reader.main(NO_RECIPE + common + ["--lr", "1e-12", "--epochs", "1", "--steps-per-epoch", "1", "--val-size", "16",
                                "--out", str(tmp_path / "reader")])
    tuned = keras.saving.load_model(tmp_path / "reader" / "model.keras", compile=False)
    assert_same_learned_weights(keras.saving.load_model(models_dir / "reader" / "model.keras", compile=False), tuned)
    config = json.loads((tmp_path / "reader" / "config.json").read_text())
    assert config["architecture"]["filters"] == 4 and len(config["fine_tuned_from"]) == 2
    with pytest.raises(SystemExit):  # fine-tuning and growing an ensemble are separate runs
        train_reader.parse_args(["--init", str(models_dir / "reader"), "--keep-members", str(models_dir / "reader")])


def test_the_mlp_baseline_records_no_member_accuracies(small_mnist_dir, tmp_path):
    args = train_reader.parse_args(["--arch", "mlp", "--members", "2", "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "8",
                                    "--val-size", "8", "--mnist-dir", str(small_mnist_dir), "--work-dir", str(tmp_path)])
    _, val_metrics, _ = train_reader.train(args)  # --members asks for an ensemble, which the MLP ignores
    assert 0 <= val_metrics["val_number_accuracy"] <= 1 and "val_number_accuracy_members" not in val_metrics


def test_interrupted_training_resumes(tmp_path, small_mnist_dir, monkeypatch):
    args = TINY_CNN + ["--epochs", "3", "--steps-per-epoch", "2", "--val-size", "16", "--out", "none",
                       "--work-dir", str(tmp_path / "run"), "--mnist-dir", str(small_mnist_dir)]

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    callbacks, batches_done, starts = train_reader.training_callbacks, train_reader.batches_done, []
    monkeypatch.setattr(train_reader, "batches_done", lambda *a: starts.append(batches_done(*a)) or starts[-1])
    monkeypatch.setattr(train_reader, "training_callbacks", lambda *a: callbacks(*a) + [Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        train_reader.main(NO_RECIPE + args)
    assert any((tmp_path / "run" / "backup").iterdir())
    monkeypatch.setattr(train_reader, "training_callbacks", callbacks)
    _, metrics, _ = train_reader.train(train_reader.parse_args(args + ["--resume"]))
    assert metrics["train_epochs_this_run"] == 1  # what its seconds are the time of
    epochs = [line.split(",")[0] for line in (tmp_path / "run" / "history.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2"]  # the resumed run did only the epoch that was missing
    assert starts == [0, 4]  # and its strips went on after the 2 x 2 batches already used


def test_a_reader_run_is_recorded_with_its_settings_and_metrics(models_dir, tmp_path):
    train_record.main([str(models_dir / "reader"), str(tmp_path / "run.json"), "--about", "a tiny run"])
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["about"] == "a tiny run" and record["training"]["filters"] == 4
    assert record["validation"] == json.loads((models_dir / "reader" / "metrics.json").read_text())["validation"]
    history = plots.read_history(models_dir / "reader" / "history.csv")
    column = "number_accuracy" if "number_accuracy" in history else "positions_number_accuracy"  # one CNN or several
    assert record["final_epoch_train_number_accuracy"] == history[column][-1]
