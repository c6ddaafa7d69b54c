"""mnistadd.evaluate: the readers' several validation draws, and the end-to-end model beside the pipeline."""

import json

import numpy as np
import pytest

from mnistadd import evaluate


def test_readers_are_validated_on_several_draws_the_first_the_trainers_own(models_dir):
    validation = json.loads((models_dir / "reader" / "metrics.json").read_text())["validation"]
    draws = validation["val_number_accuracy_draws"]
    assert len(draws) == len(evaluate.VALIDATION_DRAWS) and draws[0] == validation["val_number_accuracy"]
    assert validation["val_number_accuracy_draws_mean"] == pytest.approx(np.mean(draws), abs=1e-6)  # rounded
    test_before = json.loads((models_dir / "reader" / "metrics.json").read_text()).get("test")
    evaluate.main(["reader", "--split", "val", "--models-dir", str(models_dir)])  # 5,000 strips per draw this time
    metrics = json.loads((models_dir / "reader" / "metrics.json").read_text())
    assert metrics["validation"]["val_number_accuracy"] == validation["val_number_accuracy"]  # the trainer's figure stays
    assert len(metrics["validation"]["val_number_accuracy_draws"]) == len(draws) and metrics.get("test") == test_before
    with pytest.raises(SystemExit):
        evaluate.main(["adder", "--split", "val", "--models-dir", str(models_dir)])


def test_end2end_evaluation_names_the_pipeline_it_compares_with(models_dir, small_mnist_dir):
    metrics = evaluate.evaluate_end2end(models_dir / "end2end", small_mnist_dir, n_pairs=64)
    assert metrics["pairs"] == 64 and 0 <= metrics["sum_accuracy"] <= 1 and 0 <= metrics["pipeline_sum_accuracy"] <= 1
    assert "filters 4" in metrics["pipeline_reader"]  # the tiny reader beside it, not the shipped one
