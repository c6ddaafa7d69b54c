"""mnistadd.abstention: the evidence the reader declines on, computed from position probabilities
built by hand (no model needed), and a reader folder's calibration applied by mnistadd.api."""

import numpy as np
import pytest

from mnistadd.abstention import CALIBRATION_FILE, decide, declines, evidence, ink_runs, rule_score, tempered
from mnistadd.reader import BLANK
from mnistadd.io import write_json


def positions(*classes, sure=0.97):
    """Position probabilities (1, 3, 11) putting `sure` on each given class (hundreds, tens, units)."""
    probs = np.full((1, 3, 11), (1 - sure) / 10)
    for k, c in enumerate(classes):
        probs[0, k, c] = sure
    return probs


def strips_with_glyphs(count):
    strip = np.zeros((1, 28, 84), np.float32)
    for i in range(count):
        strip[0, 5:25, 4 + 12 * i:10 + 12 * i] = 255
    return strip


def scores_of(probs, glyphs=2, temperature=1.0):
    member_features = np.zeros((1, 1, 4))
    return evidence(probs[None], member_features, strips_with_glyphs(glyphs), temperature)


def test_a_clear_number_scores_high_and_is_read():
    numbers, scores = scores_of(positions(1, 2, 8))
    assert numbers[0] == 128
    assert np.exp(scores["number"][0]) > 0.9 and np.exp(scores["valid_mass"][0]) > 0.85


def test_a_nine_in_the_hundreds_leaves_little_mass_on_valid_numbers():
    """999 written: the positions say 9, 9, 9; the best valid number is some other reading, and the
    positions' mass on valid numbers is tiny."""
    numbers, scores = scores_of(positions(9, 9, 9))
    assert numbers[0] == 99  # the best valid reading drops the impossible hundreds digit
    assert np.exp(scores["valid_mass"][0]) < 0.05
    assert scores["joint"][0] < scores_of(positions(BLANK, 9, 9))[1]["joint"][0]


def test_members_that_disagree_lower_the_members_score():
    agree = np.stack([positions(BLANK, 4, 7), positions(BLANK, 4, 7)])
    disagree = np.stack([positions(BLANK, 4, 7), positions(BLANK, 1, 7)])
    features = np.zeros((2, 1, 4))
    strips = strips_with_glyphs(2)
    assert evidence(disagree, features, strips)[1]["members"][0] < evidence(agree, features, strips)[1]["members"][0] - 1


@pytest.mark.parametrize("glyphs, runs", [(1, 1), (3, 3), (4, 4), (6, 6)])
def test_ink_runs_count_separate_glyphs(glyphs, runs):
    assert ink_runs(strips_with_glyphs(glyphs))[0] == runs
    assert scores_of(positions(BLANK, 1, 2), glyphs)[1]["ink_runs"][0] == -max(runs - 3, 0)


def test_temperature_softens_without_changing_the_reading():
    probs = positions(2, 5, 5)
    assert np.allclose(tempered(probs, 1.0), probs)
    hot = tempered(probs, 3.0)
    assert np.allclose(hot.sum(axis=-1), 1) and hot.max() < probs.max()
    assert scores_of(probs, temperature=3.0)[0][0] == 255
    assert scores_of(probs, temperature=3.0)[1]["number"][0] < scores_of(probs)[1]["number"][0]


def test_rule_score_adds_the_embedding_term():
    scores = {"number": np.array([-1.0]), "embedding": np.array([[1.0, 2.0]])}
    rule = {"weights": {"number": 2.0}, "bias": 0.5, "threshold": 0.0}
    assert rule_score(scores, rule)[0] == pytest.approx(-1.5)
    assert rule_score(scores, {**rule, "embedding_weights": [1.0, -1.0]})[0] == pytest.approx(-2.5)


def test_without_a_calibration_nothing_is_declined():
    _, confidence, declined = decide(positions(9, 9, 9)[None], np.zeros((1, 1, 4)), strips_with_glyphs(3))
    assert not declined.any() and 0 < confidence[0] <= 1


def test_a_calibration_declines_below_its_threshold():
    calibration = {"temperature": 1.0, "rule": {"weights": {"valid_mass": 1.0}, "bias": 0.0, "threshold": np.log(0.5)}}
    probs = np.concatenate([positions(1, 2, 8), positions(9, 9, 9)])
    _, _, declined = decide(probs[None], np.zeros((1, 2, 4)), np.concatenate([strips_with_glyphs(3)] * 2), calibration)
    assert declined.tolist() == [False, True]


def test_a_confidence_floor_declines_an_unsure_reading_the_rule_lets_through():
    """Both readings are valid numbers the rule passes; the one read with 60 % confidence is declined as
    likely misread, and a rule without a floor declines neither."""
    rule = {"weights": {"valid_mass": 1.0}, "bias": 0.0, "threshold": np.log(0.5)}
    probs = np.concatenate([positions(BLANK, 4, 7), positions(BLANK, 4, 7)])
    probs[1, 1] = 0.0
    probs[1, 1, [4, 9]] = 0.6, 0.4  # 4 or 9 in the tens
    _, scores = evidence(probs[None], np.zeros((1, 2, 4)), np.concatenate([strips_with_glyphs(2)] * 2))
    assert not declines(scores, rule).any()
    assert declines(scores, {**rule, "confidence_floor": 0.8}).tolist() == [False, True]


def test_reader_folder_calibration_is_applied(tmp_path):
    """load("reader") reads calibration.json from the folder: a rule that declines everything does."""
    from space_helpers import make_standin_models

    from mnistadd.api import load

    models = make_standin_models(tmp_path, names=["reader"])
    strips = np.zeros((2, 28, 84), np.float32)
    strips[:, 5:25, 40:43] = 255
    assert not load("reader", models_dir=models).read_or_decline(strips)[2].any()
    write_json(models / "reader" / CALIBRATION_FILE,
               {"temperature": 2.0, "rule": {"weights": {"number": 0.0}, "bias": 0.0, "threshold": 1.0}})
    numbers, confidence, declined, probs = load("reader", models_dir=models).read_or_decline(strips)
    assert declined.all() and numbers.shape == (2,) and probs.shape == (2, 3, 11)


def test_a_calibration_fitted_to_another_reader_is_not_applied(tmp_path):
    from space_helpers import make_standin_models

    from mnistadd.api import load

    models = make_standin_models(tmp_path, names=["reader"])
    write_json(models / "reader" / CALIBRATION_FILE, {"temperature": 1.0, "reader_sha256": "0123456789abcdef",
               "rule": {"weights": {"number": 0.0}, "bias": 0.0, "threshold": 1.0}})
    strips = np.zeros((1, 28, 84), np.float32)
    with pytest.warns(UserWarning, match="fitted to another reader"):
        reader = load("reader", models_dir=models)
    assert not reader.read_or_decline(strips)[2].any()
