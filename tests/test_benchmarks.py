"""benchmarks: reader_mix on tiny readers."""

import json

import pytest

from benchmarks import reader_mix


def test_reader_mix_reports_each_reader_and_both_averages(tmp_path, models_dir):
    """benchmarks.reader_mix: each reader's chosen-by figures and the two averages (no course_val here); a
    reader averaged with itself reads exactly as it does alone, whichever way the average weighs."""
    folder = str(models_dir / "reader")
    reader_mix.main([folder, folder, "--out", str(tmp_path / "mix.json")])
    result = json.loads((tmp_path / "mix.json").read_text())
    alone = result["readers"][0]
    assert alone["cnns"] == 2 and alone["course_val_number_accuracy"] is None
    assert len(alone["val_number_accuracy_draws"]) == 4
    assert {key: value for key, value in alone.items() if key not in ("folder", "cnns")} == \
        result["averaged_by_cnns"] == result["averaged_by_readers"]
    with pytest.raises(SystemExit):
        reader_mix.main([folder])
