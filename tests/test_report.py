"""train.report's results table, on model folders written by hand (no model, no training): it quotes
each folder's measured figure, says where none was measured, and says whose training time it gives."""

import pytest

from mnistadd.training import write_json
from train import report


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "MODELS_DIR", tmp_path)
    return tmp_path


def write_folder(models_dir, name, metrics, architecture, kept_members=()):
    (models_dir / name).mkdir()
    write_json(models_dir / name / "metrics.json", metrics)
    config = {"architecture": architecture, **({"kept_members": list(kept_members)} if kept_members else {})}
    write_json(models_dir / name / "config.json", config)


def row(table, name, measure_start):
    return next(line for line in table.splitlines() if line.startswith(f"| {name} | {measure_start}"))


def test_results_table_quotes_each_folders_figures(models_dir):
    write_folder(models_dir, "reader", {"validation": {"train_seconds_this_run": 1234},
                                        "test": {"number_accuracy": 0.98765, "digit_accuracy": 0.995}}, {"members": 2})
    table = report.results_table()
    assert row(table, "reader", "number exact match").endswith("| 98.77 % |")
    assert row(table, "adder", "exact sum, all").endswith("| not measured yet |")
    timing = row(table, "reader", "training wall time")
    assert timing.endswith("| 1,234 s |") and "last training run" not in timing


def test_a_grown_reader_says_its_time_is_its_last_runs(models_dir):
    write_folder(models_dir, "reader", {"validation": {"train_seconds_this_run": 99}}, {"members": 6},
                 kept_members=[{"seed": 0}] * 4)
    assert "the last training run only, which added 2 of its 6 CNNs" in row(report.results_table(), "reader",
                                                                               "training wall time")


def test_reader_mix_finding_quotes_each_reader_both_averages_and_the_shipped_reader(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "EXPERIMENTS", tmp_path)
    figures = lambda course_val, draws: {"course_val_number_accuracy": course_val, "val_number_accuracy_draws_mean": draws}
    write_json(tmp_path / "reader-mix-a-b.json", {
        "readers": [{"folder": "a", "cnns": 4, **figures(0.9914, 0.99095)}, {"folder": "b", "cnns": 6, **figures(0.9913, 0.9902)}],
        "averaged_by_cnns": figures(0.9917, 0.9907), "averaged_by_readers": figures(0.9919, 0.9908)})
    finding, = report.reader_mix_findings({"validation": figures(0.9914, 0.9909)})
    assert "`python -m benchmarks.reader_mix a b`" in finding and "`b` (6 CNNs) course_val 99.13 %" in finding
    assert "Every CNN weighing the same: course_val 99.17 %, mean of 4 draws 99.07 %" in finding
    assert "every reader weighing the same" in finding and "course_val 99.19 %, mean of 4 draws 99.08 %" in finding
    assert finding.endswith("The shipped reader: course_val 99.14 %, mean of 4 draws 99.09 %.")


def test_more_training_finding_skips_the_fine_tuning_on_drawings(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "EXPERIMENTS", tmp_path)
    validation = lambda course_val, members: {"val_number_accuracy": 0.9912, "val_number_accuracy_draws_mean": 0.9909,
                                              "course_val_number_accuracy": course_val, "val_number_accuracy_members": members,
                                              "train_seconds_this_run": 1965}
    training = {"init": "models/reader", "lr": 1e-4, "epochs": 6, "stroke": 1.0}
    write_json(tmp_path / "reader-a-finetune.json", {"training": {**training, "drawn": 0.0}, "validation": validation(0.9911, [0.99])})
    write_json(tmp_path / "reader-drawn-finetune.json", {"training": {**training, "drawn": 0.25}, "validation": validation(0.9909, [0.98])})
    finding, = report.more_training_findings({"validation": validation(0.9914, [0.9902])})
    assert "`--init models/reader --lr 0.0001 --epochs 6`" in finding and "`experiments/reader-a-finetune.json`" in finding
    assert "course_val 99.11 %; each CNN alone: 99.00 %" in finding
    assert finding.endswith("course_val 99.14 %; each CNN alone: 99.02 %.")
