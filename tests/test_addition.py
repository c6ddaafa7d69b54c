"""Multi-digit MNIST addition: the carry-chain likelihood against brute-force enumeration, a tiny
training run through the trainer, and the model folder behind `load`."""

import numpy as np
import pytest

from mnistadd import load
from mnistadd.addition import CarrySumLikelihood, EachDigit, add_digits, build_digit_net, sum_accuracy
from mnistadd.digits import digits_of, numbers_of
from mnistadd.io import read_json
from train import addition as train_addition


def number_distribution(digit_probs):
    """Brute force: the probability of every n-digit number 0 .. 10^n - 1 from its digits' (n, 10)."""
    probs = np.ones(1)
    for position in digit_probs:  # most significant first, so each new digit is the last
        probs = np.outer(probs, position).ravel()
    return probs


@pytest.mark.parametrize("n", [1, 2, 3])
def test_carry_likelihood_is_the_enumerated_sum_distribution(n):
    rng = np.random.default_rng(n)
    probs_a, probs_b = rng.dirichlet(np.full(10, 0.5), (2, n))
    enumerated = np.convolve(number_distribution(probs_a), number_distribution(probs_b))  # every pair (a, b)
    sums = np.arange(len(enumerated))  # 0 .. 2 (10^n - 1)
    log_a, log_b = (np.repeat(np.log(p)[None], len(sums), 0).astype("float32") for p in (probs_a, probs_b))
    likelihood = np.exp(np.asarray(CarrySumLikelihood()(log_a, log_b, digits_of(sums, n + 1))))
    np.testing.assert_allclose(likelihood, enumerated, atol=1e-6)


def test_a_carry_into_the_units_shifts_the_sum_by_one():
    rng = np.random.default_rng(0)
    probs_a, probs_b = rng.dirichlet(np.ones(10), (2, 1, 2))
    sums = np.arange(2 * 99 + 2)  # 0 .. 199: the sum of two 2-digit numbers and a carry
    enumerated = np.convolve(number_distribution(probs_a[0]), number_distribution(probs_b[0]))
    with_carry = 0.7 * np.append(enumerated, 0) + 0.3 * np.insert(enumerated, 0, 0)
    log_a, log_b = (np.repeat(np.log(p), len(sums), 0).astype("float32") for p in (probs_a, probs_b))
    likelihood = np.exp(np.asarray(CarrySumLikelihood(carry_in=0.3)(log_a, log_b, digits_of(sums, 3))))
    np.testing.assert_allclose(likelihood, with_carry, atol=1e-6)


def test_carry_likelihood_stays_finite_for_fifteen_confident_digits():
    n = 15
    logits = np.random.default_rng(0).normal(0, 30, (2, 1, n, 10))  # near one-hot: tiny probabilities elsewhere
    log_probs = (logits - np.log(np.exp(logits).sum(-1, keepdims=True))).astype("float32")
    a, b = numbers_of(log_probs[0].argmax(-1)), numbers_of(log_probs[1].argmax(-1))
    wrong = digits_of(a + b + 1, n + 1)
    log_likelihood = np.asarray(CarrySumLikelihood()(log_probs[0], log_probs[1], wrong))
    assert np.isfinite(log_likelihood).all() and log_likelihood < -10


def test_digits_add_with_carries():
    a, b = np.array([999, 15, 500]), np.array([1, 985, 499])
    np.testing.assert_array_equal(np.asarray(add_digits(digits_of(a, 3), digits_of(b, 3))), digits_of(a + b, 4))
    log_probs = np.log(np.eye(10)[np.stack([digits_of(a, 3), digits_of(b, 3)], axis=1)] + 1e-6)  # (3, 2, 3, 10)
    targets = digits_of(a + b, 4)
    targets[2, 0] = 0  # 500 + 499 = 999, so the last target is wrong
    np.testing.assert_array_equal(np.asarray(sum_accuracy(targets[[0, 1]], log_probs[[0, 1]])), [1, 1])
    np.testing.assert_array_equal(np.asarray(sum_accuracy(digits_of(a + b + 1, 4), log_probs)), [0, 0, 0])


def test_sums_of_long_numbers_are_exact():
    a, b = np.full((1, 100), 9), np.zeros((1, 100), dtype=int)
    b[0, -1] = 1  # 99...9 + 1 = 10^100, beyond int64
    sums = digits_of(numbers_of(a) + numbers_of(b), 101)
    np.testing.assert_array_equal(sums[0], [1] + [0] * 100)
    np.testing.assert_array_equal(sums, np.asarray(add_digits(a, b)))


def test_cut_into_sums_labels_long_numbers_with_their_exact_sums():
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (400, 28, 28)), rng.integers(0, 10, 400)
    inputs, targets = train_addition.cut_into_sums(images, labels, 50, seed=3)
    groups = train_addition.pairing(400, 50, seed=3)
    np.testing.assert_array_equal(targets, np.asarray(add_digits(labels[groups[:, 0]], labels[groups[:, 1]])))
    assert inputs["digits_a"].shape == (4, 50, 28, 28)


def test_carry_likelihood_stays_finite_and_exact_over_five_hundred_digits():
    n, rng = 500, np.random.default_rng(1)
    digits = rng.integers(0, 10, (2, 1, n))
    log_probs = np.log(np.where(np.eye(10)[digits], 0.99, 0.01 / 9)).astype("float32")  # (2, 1, n, 10)
    right = np.asarray(add_digits(digits[0], digits[1]))
    log_likelihood = np.asarray(CarrySumLikelihood()(log_probs[0], log_probs[1], right))
    assert np.isfinite(log_likelihood).all() and log_likelihood[0] > 2 * n * np.log(0.99) - 1e-2  # at least the right pair's


@pytest.mark.parametrize("design", ["lenet", "vgg"])
def test_each_digit_reads_every_position_as_the_network_reads_it_alone(design):
    net = build_digit_net(filters=4, dense=8, design=design, augment=1.0)
    digits = np.random.default_rng(0).uniform(0, 255, (3, 7, 28, 28)).astype("float32")
    together = np.asarray(EachDigit(net)(digits, training=False))
    alone = np.stack([np.asarray(net(digits[:, i], training=False)) for i in range(7)], axis=1)
    np.testing.assert_allclose(together, alone, atol=1e-5)  # augmentation only in training


def test_test_pairings_use_every_number_once():
    groups = train_addition.pairing(100, 2, seed=0)
    assert groups.shape == (25, 2, 2) and len(np.unique(groups)) == 100
    assert not np.array_equal(groups, train_addition.pairing(100, 2, seed=1))


def test_tiny_training_run_writes_a_loadable_model(tmp_path):
    n = 2
    train_addition.main(["--digits", str(n), "--seeds", "2", "--epochs", "1", "--filters", "4", "--dense", "8", "--warmup-sums", "64",
                         "--out", str(tmp_path / "addition-n2"), "--work-dir", str(tmp_path / "work")])
    metrics = read_json(tmp_path / "addition-n2" / "metrics.json")
    assert len(metrics["test"]["per_seed"]) == 2 and 0 <= metrics["test"]["sum_accuracy_mean"] <= 1
    assert metrics["test"]["shipped_seed"] in (0, 1)
    card = (tmp_path / "addition-n2" / "README.md").read_text()
    assert "sum_accuracy_mean" in card and "model-index" in card

    addition = load("addition-n2", models_dir=tmp_path)
    digits_a, digits_b = np.random.default_rng(0).integers(0, 256, (2, 5, n, 28, 28))
    sums = addition.predict(digits_a, digits_b)
    assert sums.shape == (5,) and sums.dtype == np.int64 and ((0 <= sums) & (sums <= 198)).all()
    with pytest.raises(ValueError, match="digits_a"):
        addition.predict(digits_a[:, :1], digits_b)
