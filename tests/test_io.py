"""Files written whole or not at all, and experiment records that keep their own words."""

import pytest

from mnistadd.io import atomic_path, read_json, write_json, write_record


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "record.json"
    write_json(path, {"accuracy": 0.5})
    with pytest.raises(RuntimeError), atomic_path(path) as staging:
        staging.write_text("{half")
        raise RuntimeError("the writer failed")
    assert read_json(path) == {"accuracy": 0.5} and [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_measuring_again_keeps_the_records_question_rule_and_verdict(tmp_path):
    path = tmp_path / "experiment.json"
    write_json(path, {"question": "Which?", "rule": "The better one.", "verdict": "A.", "accuracy": 0.5})
    write_record(path, {"accuracy": 0.6})
    assert read_json(path) == {"question": "Which?", "rule": "The better one.", "verdict": "A.", "accuracy": 0.6}
    write_record(path, {"verdict": "B.", "accuracy": 0.7})
    assert read_json(path)["verdict"] == "B."


def test_a_broken_record_is_named(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{")
    with pytest.raises(ValueError, match="broken.json"):
        read_json(path)
    assert read_json(tmp_path / "missing.json", default={}) == {}
