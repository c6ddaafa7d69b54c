"""mnistadd.reader: the number encoding, reading the best valid number (positions and CTC), the CNN and its
ensemble."""

import numpy as np

from conftest import random_strips
from mnistadd.reader import build_reader, ctc_number_log_probs, encode_numbers, ensemble_members, read_numbers


def test_number_encoding_is_right_aligned_with_blanks():
    np.testing.assert_array_equal(encode_numbers([0, 7, 42, 255]), [[10, 10, 0], [10, 10, 7], [10, 4, 2], [2, 5, 5]])


def test_reading_picks_the_best_valid_number():
    probs = np.full((2, 3, 11), 1e-3, np.float32)
    probs[0, [0, 1, 2], [10, 4, 2]] = 1.0  # clearly "42"
    probs[1, [0, 1, 2], [3, 0, 0]] = 1.0  # "300" is not a valid number 0..255 ...
    probs[1, 0, 2] = 0.9  # ... "200" is the best valid reading
    numbers, confidence = read_numbers(probs / probs.sum(-1, keepdims=True))
    assert numbers.tolist() == [42, 200] and confidence[0] > 0.9


def test_reader_build_shapes():
    model = build_reader(filters=4, blocks=2, dense=8)
    assert model.output_shape == (None, 3, 11)
    out = model.predict(random_strips(3), verbose=0)
    np.testing.assert_allclose(out.sum(-1), 1, rtol=1e-5)


def test_ctc_reading_picks_the_best_valid_number_over_alignments():
    logits = np.full((3, 21, 11), -5.0, np.float32)
    logits[:, :, 0] = 5.0  # the CTC blank everywhere, but where a digit d (class d + 1) is written
    logits[0, 3:5, 5], logits[0, 8:10, 3] = 10.0, 10.0  # "4", blank, "2": 42
    logits[1, 3:5, 2], logits[1, 8:10, 2] = 10.0, 10.0  # "1", blank, "1": 11, not the merged 1
    logits[2, 3:5, 2], logits[2, 5:7, 2] = 10.0, 10.0  # "1" over four columns: 1
    log_probs = ctc_number_log_probs(logits, chunk=2)
    assert log_probs.shape == (3, 256) and log_probs.argmax(axis=1).tolist() == [42, 11, 1]
    np.testing.assert_allclose(np.exp(log_probs).sum(axis=1), 1, rtol=1e-5)


def test_reader_ensemble_averages_independent_members():
    model = build_reader(filters=4, blocks=2, dense=8, members=3)
    members = ensemble_members(model)
    assert [m.name for m in members] == ["member_0", "member_1", "member_2"]
    x = random_strips(2)
    each = [m.predict(x, verbose=0) for m in members]
    assert not np.allclose(each[0], each[1])  # initialized apart
    np.testing.assert_allclose(model.predict(x, verbose=0), np.mean(each, axis=0), atol=1e-6)
