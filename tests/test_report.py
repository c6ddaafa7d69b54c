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
