"""train.end2end (and train.record on its folders): sum-only training of each sum layer, starting from trained
readers (one, or an ensemble), the digit-wise sum accuracy. Tiny budgets: behaviour, not accuracy."""

import json

import keras
import numpy as np
import pytest

from conftest import NO_RECIPE, TINY_CNN, assert_same_learned_weights, random_strips
from mnistadd import load, plots
from mnistadd.end2end import build_end2end
from mnistadd.reader import NUMBER_CLASSES
from train import end2end as train_end2end
from train import record as train_record


@pytest.mark.parametrize("combine, sum_layer", [("exact", "convolution"), ("neural", "convolution"), ("exact", "carry")])
def test_end2end_build_and_sum_only_training(tmp_path, small_mnist_dir, combine, sum_layer):
    model, with_positions = build_end2end({"filters": 4, "blocks": 2, "dense": 8}, combine)
    assert model.output_shape == (None, 511) and set(with_positions.output) == {"sum", "positions_a", "positions_b"}
    train_end2end.main(NO_RECIPE + TINY_CNN + ["--supervision", "sum", "--combine", combine, "--sum-layer", sum_layer,
                                   "--epochs", "1", "--steps-per-epoch", "2",
                                   "--batch-size", "4", "--val-size", "8", "--mnist-dir", str(small_mnist_dir),
                                   "--out", str(tmp_path / "e2e"), "--work-dir", str(tmp_path / "run")])
    validation = json.loads((tmp_path / "e2e" / "metrics.json").read_text())["validation"]
    assert validation["supervision"] == "sum" and "val_sum_accuracy_at_start" not in validation  # nothing to start from
    assert validation.get("sum_layer") == (sum_layer if combine == "exact" else None)  # a neural decoder has none
    assert 0 <= validation["val_digitwise_sum_accuracy"] <= 1
    end2end = load("e2e", models_dir=tmp_path)
    assert end2end.config["architecture"]["combine"] == combine
    a, b = random_strips(2, 1), random_strips(2, 2)
    np.testing.assert_allclose(end2end.sum_probabilities(a, b).sum(1), 1, rtol=1e-4)


def test_digitwise_sum_accuracy_reads_blanks_as_leading_zeros():
    one_hot = np.eye(11, dtype=np.float32)[NUMBER_CLASSES]
    outputs = {"positions_a": one_hot[[123, 7]], "positions_b": one_hot[[45, 200]]}  # as the training view gives them
    assert train_end2end.digitwise_sum_accuracy(outputs, np.array([168, 207])) == 1.0
    assert train_end2end.digitwise_sum_accuracy(outputs, np.array([168, 208])) == 0.5


def test_carry_chain_training_needs_sums_alone_and_the_exact_model():
    with pytest.raises(SystemExit, match="--sum-layer carry needs"):
        train_end2end.train(train_end2end.parse_args(["--sum-layer", "carry", "--supervision", "aux"]))


def test_end2end_can_start_from_a_trained_reader(models_dir, tmp_path, small_mnist_dir):
    common = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--val-size", "8",
              "--mnist-dir", str(small_mnist_dir), "--init-reader", str(models_dir / "reader"),
              "--work-dir", str(tmp_path / "run")]
    train_end2end.main(NO_RECIPE + common + ["--out", str(tmp_path / "e2e"), "--lr", "0"])  # lr 0: weights stay as loaded
    validation = json.loads((tmp_path / "e2e" / "metrics.json").read_text())["validation"]
    assert 0 <= validation["val_sum_accuracy_at_start"] <= 1  # the reader's sums before any end-to-end step
    reader = keras.saving.load_model(models_dir / "reader" / "model.keras", compile=False)
    end2end = keras.saving.load_model(tmp_path / "e2e" / "model.keras", compile=False)
    assert_same_learned_weights(reader, end2end.get_layer("digit_reader"))
    with pytest.raises(SystemExit, match="needs --supervision aux"):
        train_end2end.main(NO_RECIPE + common + ["--supervision", "sum", "--out", "none"])


def test_end2end_digit_reader_can_be_an_ensemble(models_dir, tmp_path, small_mnist_dir):
    """Two --init-reader folders: each member starts from its reader, the digit reader averages them, and
    the saved model loads and predicts through the public API."""
    folder = str(models_dir / "reader")
    train_end2end.main(NO_RECIPE + ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--val-size", "8",
                        "--mnist-dir", str(small_mnist_dir), "--init-reader", folder, folder, "--lr", "0",
                        "--work-dir", str(tmp_path / "run"), "--out", str(tmp_path / "e2e")])
    reader = keras.saving.load_model(models_dir / "reader" / "model.keras", compile=False)
    end2end = load("e2e", models_dir=tmp_path)
    digit_reader = end2end.model.get_layer("digit_reader")
    for member in ("member_0", "member_1"):
        assert_same_learned_weights(reader, digit_reader.get_layer(member))
    assert len(end2end.config["architecture"]["digit_reader"]) == 2
    images = np.random.default_rng(0).uniform(0, 255, (3, 28, 84)).astype(np.float32)
    sums = end2end.predict(images, images)
    assert sums.shape == (3,) and ((sums >= 0) & (sums <= 510)).all()


def test_an_end2end_run_is_recorded_with_its_accuracy_per_epoch(models_dir, tmp_path):
    train_record.main([str(models_dir / "end2end"), str(tmp_path / "run.json"), "--about", "a tiny run"])
    record = json.loads((tmp_path / "run.json").read_text())
    history = plots.read_history(models_dir / "end2end" / "history.csv")
    assert record["history"] == {column: history[column] for column in ("sum_accuracy", "val_sum_accuracy")}
    assert record["validation"] == json.loads((models_dir / "end2end" / "metrics.json").read_text())["validation"]
    assert record["architecture"]["combine"] == "exact" and "final_epoch_train_number_accuracy" not in record
