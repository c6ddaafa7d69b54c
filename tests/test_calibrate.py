"""train.calibrate's confidence floor: on scores built by hand (no model), it declines the least
confident of the numbers the rule lets through, up to the decline budget in all."""

import numpy as np
import pytest

from mnistadd.abstention import FEATURES, declines, rule_score
from train.calibrate import DECLINE_BUDGET, OUT_OF_DOMAIN_MARGIN, confidence_floor, fit_logistic, smallest_share


def test_the_floor_fills_the_budget_with_the_least_confident_numbers_the_rule_passed():
    count = 400
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.3, 1.0, count)
    valid_mass = np.zeros(count)
    valid_mass[:3] = -5.0  # three images the rule declines by its score, whatever their confidence
    confidence[:3] = 0.99
    scores = {"number": np.log(confidence), "valid_mass": valid_mass}
    rule = {"weights": {"valid_mass": 1.0}, "bias": 0.0, "threshold": -1.0}
    rule["confidence_floor"] = confidence_floor(scores, rule)
    declined = declines(scores, rule)
    assert declined.sum() == round(DECLINE_BUDGET * count)
    assert declined[:3].all()
    by_floor = declined[3:]
    assert confidence[3:][by_floor].max() < confidence[3:][~by_floor].min()


def test_no_floor_when_the_rule_alone_spends_the_budget():
    scores = {"number": np.log(np.full(100, 0.5)), "valid_mass": np.r_[np.full(10, -5.0), np.zeros(90)]}
    rule = {"weights": {"valid_mass": 1.0}, "bias": 0.0, "threshold": -1.0}
    assert confidence_floor(scores, rule) == 0.0


def test_a_hidden_unit_that_barely_fires_cannot_dominate_the_rule():
    """A unit that fires only faintly, on genuine images only, separates them perfectly; scaled by its own
    tiny spread it would get a weight in the thousands, and an image that woke it as much as the other
    units fire would pass on that unit alone."""
    count = 400
    rng = np.random.default_rng(0)
    genuine = np.arange(count) < count // 2
    scores = {name: rng.normal(genuine.astype(float), 1.0) for name in FEATURES}
    scores["embedding"] = np.abs(rng.normal(1.0, 0.5, (count, 20)))
    scores["embedding"][:, 0] = np.where(genuine, 1e-5, 0.0)
    rule = fit_logistic(scores, genuine, embedding=True, strength=0.1)
    spread = np.std(rule_score(scores, rule))
    woken = abs(rule["embedding_weights"][0]) * 1.0
    assert woken < spread


def test_the_floor_gets_the_budget_the_out_of_domain_margin_leaves():
    least = {0.0025: OUT_OF_DOMAIN_MARGIN - 0.05, 0.005: OUT_OF_DOMAIN_MARGIN + 0.01, 0.0125: OUT_OF_DOMAIN_MARGIN + 0.07}
    assert smallest_share({share: {"tune_out_of_domain_least": x} for share, x in least.items()}) == 0.005
    short = {share: {"tune_out_of_domain_least": OUT_OF_DOMAIN_MARGIN - 0.1} for share in least}
    assert smallest_share(short) == 0.0125


def test_measure_applies_the_saved_calibration_to_fresh_sets_only(tmp_path):
    from space_helpers import make_standin_models

    from mnistadd.abstention import CALIBRATION_FILE
    from mnistadd.io import write_json
    from train.calibrate import measure_reader

    models = make_standin_models(tmp_path, names=["reader"])
    write_json(models / "reader" / CALIBRATION_FILE, {"temperature": 1.0, "seed": 0,  # a rule that declines all
               "rule": {"weights": {"number": 0.0}, "bias": 0.0, "threshold": 1.0}})
    table = measure_reader(models, count=4, seed=1, mnist_dir=None)
    assert set(table) == {"strips", "drawn", "four_digits", "over_255", "letters", "scribbles"}
    assert all(row["declined"] == 1.0 for row in table.values())
    with pytest.raises(SystemExit, match="another --seed"):
        measure_reader(models, count=4, seed=0, mnist_dir=None)
