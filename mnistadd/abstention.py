"""When the reader should decline: calibrated confidence and the evidence that an image is not a number
0..255 at all (four digits, a number over 255, a letter, a scribble).

The reader was trained on numbers 0..255 only, so it gives every image some reading, often a confident
one. Its three position outputs carry more than the best valid number, though, and these scores are
computed from them (`evidence`), all as log-probabilities, higher meaning "more like a number 0..255":

- `number`: the calibrated probability of the best valid number among the valid numbers (what the app
  calls confidence);
- `valid_mass`: the probability the positions give to readings that are valid numbers at all; "9" in
  the hundreds (999) or a digit left of a blank gets the rest;
- `joint`: both at once, the probability of the best valid number among all 11^3 readings;
- `members`: the lowest probability that any ensemble member gives the ensemble's number (members
  trained apart disagree more off their training distribution);
- `ink_runs`: minus the number of separate ink runs in the strip beyond three (a fourth glyph);
- `embedding`: each member's last hidden layer (a vector, not a score), what it saw before deciding on
  digits: a linear rule over it can learn what letters and scribbles look like there.

A decline rule is a linear score over these with a threshold (what is not a number scores low), plus a
confidence floor: an image whose calibrated confidence is below it is declined too, as one the reader
would likely misread.

`python -m train.calibrate` fits the temperature and the decline rule on validation data and a
generated out-of-domain set, and writes both to the model folder's calibration.json (`CALIBRATION_FILE`),
which `mnistadd.api.Reader` applies. A reader folder without one never declines.
"""

import numpy as np
from scipy.special import log_softmax, logsumexp

from mnistadd.geometry import INK_LEVEL, MAX_DIGITS
from mnistadd.reader import NUMBER_CLASSES, POSITIONS

CALIBRATION_FILE = "calibration.json"
FEATURES = ("number", "valid_mass", "joint", "members", "ink_runs")


def tempered_log_probs(log_probs, temperature):
    """Log-probabilities (..., K) with logits divided by `temperature`, renormalized over the last axis."""
    return log_softmax(log_probs / temperature, axis=-1)


def tempered(position_probs, temperature):
    """Position probabilities (..., 3, 11) with logits divided by `temperature` (softmax renormalized)."""
    return np.exp(tempered_log_probs(np.log(np.clip(position_probs, 1e-7, 1.0)), temperature))


def reading_log_probs(position_probs):
    """Log-probability of each valid number's reading (N, 256), NOT renormalized over valid numbers."""
    log_probs = np.log(np.clip(position_probs, 1e-7, 1.0))
    return sum(log_probs[:, k, NUMBER_CLASSES[:, k]] for k in range(POSITIONS))


def ink_runs(strips):
    """Number of separate runs of ink columns in each strip (N, 28, 84): one per glyph when the glyphs
    do not touch (to_strip keeps a gap of at least 3 px at the strip's scale)."""
    columns = (np.asarray(strips) > INK_LEVEL).any(axis=1)  # fainter pixels are background
    starts = columns[:, 1:] & ~columns[:, :-1]
    return starts.sum(axis=1) + columns[:, 0]


def evidence(member_probs, member_features, strips, temperature=1.0):
    """The ensemble's readings and the scores above: (numbers (N,), {feature: (N,) log-scores, and
    "embedding": (N, D) the members' hidden features side by side}).

    `member_probs` (M, N, 3, 11) are each member's position probabilities (M = 1 for one CNN), and
    `member_features` (M, N, D / M) their last hidden layers; the ensemble reads through the average of
    the probabilities, as the saved model does."""
    member_probs = np.asarray(member_probs, np.float64)
    joint = reading_log_probs(tempered(member_probs.mean(axis=0), temperature))
    numbers = joint.argmax(axis=1)
    rows = np.arange(len(numbers))
    valid_mass = logsumexp(joint, axis=-1)
    member_number = [reading_log_probs(tempered(p, temperature)) for p in member_probs]
    member_number = [m[rows, numbers] - logsumexp(m, axis=-1) for m in member_number]
    return numbers, {
        "number": joint[rows, numbers] - valid_mass,
        "valid_mass": valid_mass,
        "joint": joint[rows, numbers],
        "members": np.min(member_number, axis=0),
        "ink_runs": -np.maximum(ink_runs(strips) - MAX_DIGITS, 0).astype(np.float64),  # a fourth glyph
        "embedding": np.concatenate(list(member_features), axis=-1),
    }


def rule_score(scores, rule):
    """The decline rule's score: a weighted sum of evidence scores (rule["weights"]) and of the embedding
    (rule["embedding_weights"], when the rule has them); below rule["threshold"] declines."""
    score = sum(weight * scores[name] for name, weight in rule["weights"].items()) + rule.get("bias", 0.0)
    if rule.get("embedding_weights"):
        score = score + scores["embedding"] @ np.asarray(rule["embedding_weights"])
    return score


def declines(scores, rule):
    """Which images the rule declines: its score below rule["threshold"], or the calibrated confidence in
    the number below rule["confidence_floor"] (none for a rule without one)."""
    unsure = np.exp(scores["number"]) < rule.get("confidence_floor", 0.0)
    return (rule_score(scores, rule) < rule["threshold"]) | unsure


def decide(member_probs, member_features, strips, calibration=None):
    """(numbers, calibrated confidences, declined) for each strip. Without a calibration (a reader folder
    from before `train.calibrate`), temperature 1 and nothing declined."""
    calibration = calibration or {}
    numbers, scores = evidence(member_probs, member_features, strips, calibration.get("temperature", 1.0))
    rule = calibration.get("rule")
    declined = declines(scores, rule) if rule else np.zeros(len(numbers), bool)
    return numbers, np.exp(scores["number"]), declined
