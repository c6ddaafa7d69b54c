"""The strip renderer and the homework's data API: contract, reproducibility, splits, exact pixels."""

import numpy as np
import pytest
import tensorflow as tf

import data_generator
from mnistadd.data import StripRenderer, _stroke_width, split_digits
from mnistadd.evaluate import course_val_accuracy
from mnistadd.mnist import load_mnist


def test_generator_contract():
    x, numbers, sums = next(data_generator.training_generator(batch_size=16, seed=0))
    assert x.shape == (16, 2, 28, 84) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 255 and x.max() > 200
    assert numbers.shape == (16, 2) and np.issubdtype(numbers.dtype, np.integer)
    assert sums.shape == (16, 1) and (sums[:, 0] == numbers.sum(axis=1)).all()
    assert numbers.min() >= 0 and numbers.max() <= 255
    # the background is black: the corners of every strip are empty
    assert (x[..., :2, :2] == 0).all()


def test_generators_are_endless_and_seeded():
    first = [next(data_generator.training_generator(batch_size=8, seed=3)) for _ in range(2)]
    stream = data_generator.training_generator(batch_size=8, seed=3)
    again = [next(stream), next(stream)]
    np.testing.assert_array_equal(first[0][0], again[0][0])
    assert not np.array_equal(again[0][0], again[1][0])  # the stream moves on
    other = next(data_generator.training_generator(batch_size=8, seed=4))
    assert not np.array_equal(other[1], again[0][1])


def test_all_numbers_and_lengths_occur():
    renderer = StripRenderer.from_split("test")
    _, numbers = renderer.fixed_set(20000, seed=0)
    assert numbers.min() == 0 and numbers.max() == 255
    assert len(np.unique(numbers)) == 256
    lengths = np.array([len(str(n)) for n in numbers])
    assert set(lengths) == {1, 2, 3}


def test_train_and_test_use_their_own_digits(small_mnist_dir):
    (x_train, y_train), (x_test, y_test) = load_mnist()
    train_images, _ = split_digits("train+val")
    test_images, _ = split_digits("test")
    np.testing.assert_array_equal(train_images, x_train)
    np.testing.assert_array_equal(test_images, x_test)
    train_part, _ = split_digits("train")
    val_part, _ = split_digits("val")
    assert len(train_part) + len(val_part) == len(x_train) and len(val_part) == len(x_train) // 10


def test_unaugmented_clean_render_reproduces_mnist_pixels():
    """One-digit numbers without augmentation: the strip holds the MNIST image's ink columns exactly."""
    images, labels = split_digits("test")
    # a renderer over one image per digit makes the chosen glyph known
    chosen = np.array([np.flatnonzero(labels == d)[0] for d in range(10)])
    renderer = StripRenderer(images[chosen], labels[chosen], cut="clean", augment=False)
    strips = renderer.render(np.arange(10), np.array([0, 0])).numpy()
    for digit, strip in enumerate(strips):
        glyph = images[chosen[digit]].astype(np.float32)
        ink = np.flatnonzero(glyph.max(axis=0) > 0.2 * 255)  # the renderer's ink threshold
        columns = np.flatnonzero(strip.max(axis=0) > 0)
        window = strip[:, columns[0]:columns[-1] + 1]
        start = np.flatnonzero(glyph.max(axis=0) > 0)[0]
        np.testing.assert_array_equal(window, glyph[:, start:start + window.shape[1]])
        assert window.shape[1] >= ink[-1] - ink[0] + 1  # the clean cut keeps the whole digit


def test_elastic_distortion_bends_digits_but_keeps_them():
    """Elastic strips differ from the plain ones of the same seed, keep roughly their ink, and repeat
    with the seed; elastic=0 renders exactly the plain strips."""
    images, labels = split_digits("test")
    numbers, seed = np.arange(0, 256, 5), np.array([0, 2])
    plain = StripRenderer(images, labels, cut="clean")  # the default
    unbent = StripRenderer(images, labels, cut="clean", elastic=0.0)
    elastic = StripRenderer(images, labels, cut="clean", elastic=1.0)
    plain, unbent = plain.render(numbers, seed).numpy(), unbent.render(numbers, seed).numpy()
    np.testing.assert_array_equal(plain, unbent)
    bent = elastic.render(numbers, seed).numpy()
    np.testing.assert_array_equal(bent, elastic.render(numbers, seed).numpy())
    assert bent.min() >= 0 and bent.max() <= 255
    changed = np.abs(bent - plain).mean(axis=(1, 2)) > 1
    assert changed.all()
    ink_ratio = bent.sum(axis=(1, 2)) / plain.sum(axis=(1, 2))
    assert 0.7 < np.median(ink_ratio) < 1.3


def test_stroke_width_change_thickens_and_thins_digits():
    """At full strength a digit's change reaches a 3x3 dilation or erosion: much more ink or much less,
    never outside 0..255; strength 0 renders exactly the plain strips."""
    images, labels = split_digits("test")
    glyphs = tf.constant(images[:64, ..., None], tf.float32)
    varied = _stroke_width(glyphs, tf.constant([0, 1], tf.int64), 1.0).numpy()
    assert varied.min() >= 0 and varied.max() <= 255
    ratio = varied.sum(axis=(1, 2, 3)) / glyphs.numpy().sum(axis=(1, 2, 3))
    assert (ratio > 1.2).any() and (ratio < 0.8).any()  # some digits much thicker, some much thinner
    numbers, seed = np.arange(0, 256, 5), np.array([0, 2])
    plain, unchanged = StripRenderer(images, labels, cut="clean"), StripRenderer(images, labels, cut="clean", stroke=0.0)
    varied = StripRenderer(images, labels, cut="clean", stroke=0.5)
    plain = plain.render(numbers, seed).numpy()
    np.testing.assert_array_equal(plain, unchanged.render(numbers, seed).numpy())
    assert not np.array_equal(plain, varied.render(numbers, seed).numpy())


def test_stroke_width_change_beyond_one_step_reaches_further_within_its_bounds():
    """Strength 2 allows two 3x3 steps: some digits get more ink than one full dilation gives, some less
    than one full erosion leaves, and every pixel stays between the 5x5 erosion and the 5x5 dilation."""
    images, _ = split_digits("test")
    glyphs = tf.constant(images[:64, ..., None], tf.float32)
    varied = _stroke_width(glyphs, tf.constant([0, 1], tf.int64), 2.0).numpy()
    one_step_up = tf.nn.max_pool2d(glyphs, 3, 1, "SAME").numpy().sum(axis=(1, 2, 3))
    one_step_down = -tf.nn.max_pool2d(-glyphs, 3, 1, "SAME").numpy().sum(axis=(1, 2, 3))
    ink = varied.sum(axis=(1, 2, 3))
    assert (ink > one_step_up).any() and (ink < one_step_down).any()
    assert (varied <= tf.nn.max_pool2d(glyphs, 5, 1, "SAME").numpy() + 1e-3).all()
    assert (varied >= -tf.nn.max_pool2d(-glyphs, 5, 1, "SAME").numpy() - 1e-3).all()


def _block_glyphs():
    """One synthetic glyph per digit: blocks of ink in known columns (rows 8-19)."""
    images = np.zeros((10, 28, 28), np.uint8)
    for digit in range(10):
        images[digit, 8:20, 5 + digit:12 + digit] = 200
    images[0, 8:20, 0:9] = 200  # ink touching the left edge: a single change
    images[1] = 0
    images[1, 8:20, 4:12] = images[1, 8:20, 16:21] = 200  # two inked runs: cut after the first
    return images, np.arange(10)


def _course_window(glyph, c1, c2):
    """The course's crop of one uint8 glyph (its own Python slicing, as in its data_generator.py)."""
    ink = glyph.max(axis=0) > 0
    changes = np.flatnonzero(ink[1:] != ink[:-1])
    if len(changes) < 2:
        return glyph
    window = glyph[:, changes[0] - c1:changes[1] + c2]
    return glyph if window.shape[1] < 6 else window


def test_course_cut_follows_the_course_rule():
    """Unwarped one-digit strips: every strip is the course's crop for some jitter (c1, c2) in
    {-1, 0, 1, 2}^2, padded with the odd column on the left, and every jitter occurs."""
    images, labels = _block_glyphs()
    renderer = StripRenderer(images, labels, cut="course", augment=False)
    jitters = [(c1, c2) for c1 in range(-1, 3) for c2 in range(-1, 3)]
    seen = set()
    for seed in range(40):
        strips = renderer.render(np.arange(10), np.array([seed, 0])).numpy()
        for digit, strip in enumerate(strips):
            matches = set()
            for c1, c2 in jitters:
                window = _course_window(images[digit], c1, c2)
                padding = 84 - window.shape[1]
                expected = np.pad(window, ((0, 0), (padding - padding // 2, padding // 2)))
                if np.array_equal(strip, expected):
                    matches.add((c1, c2))
            assert matches, f"digit {digit}, seed {seed}: no course crop gives this strip"
            if digit >= 2:
                seen |= matches
    assert seen == set(jitters)
    # the edge-touching glyph is kept whole; the two-run glyph loses its second run
    assert np.array_equal(strips[0][:, 28:56], images[0])
    assert (strips[1].max(axis=0) > 0).sum() <= 8


def test_course_cut_matches_course_spacing():
    """Warped digits: windows of 6 to 28 columns, a median near the course's, some digits cut short."""
    renderer = StripRenderer.from_split("train", cut="course")
    width, cut_off = (t.numpy() for t in renderer.window_stats(np.arange(256).repeat(20), np.array([0, 1])))
    assert 15 <= np.median(width) <= 19
    assert width.min() >= 6 and width.max() <= 28
    assert 0.10 <= cut_off.mean() <= 0.50


def test_warped_digits_are_whole_pixel_values():
    """As the course's uint8 images: every warped pixel is an integer 0..255."""
    strips, _ = StripRenderer.from_split("train", cut="course").fixed_set(64, seed=3)
    np.testing.assert_array_equal(strips, np.round(strips))
    assert strips.min() == 0 and strips.max() <= 255


def test_clean_cut_loses_no_ink():
    renderer = StripRenderer.from_split("train", cut="clean")
    _, cut_off = renderer.window_stats(np.arange(256), np.array([0, 1]))
    assert not cut_off.numpy().any()


def test_test_generator_is_different_data():
    x_train, _, _ = next(data_generator.training_generator(batch_size=4, seed=0))
    x_test, _, _ = next(data_generator.test_generator(batch_size=4, seed=0))
    assert not np.array_equal(x_train, x_test)


def test_dataset_pipeline_yields_batches():
    renderer = StripRenderer.from_split("train")
    images, numbers = next(iter(renderer.dataset(batch_size=8, seed=1)))
    assert images.shape == (8, 28, 84) and numbers.shape == (8,)


def test_dataset_from_a_start_is_the_same_streams_tail():
    """What a resumed training run relies on to go on with new strips instead of its first ones again."""
    renderer = StripRenderer.from_split("train")
    batches = list(renderer.dataset(batch_size=4, seed=1).take(3))
    images, numbers = next(iter(renderer.dataset(batch_size=4, seed=1, start=2)))
    np.testing.assert_array_equal(images, batches[2][0])
    np.testing.assert_array_equal(numbers, batches[2][1])
    assert not np.array_equal(images, batches[0][0])


def test_bad_cut_and_missing_digits_are_refused():
    images, labels = split_digits("test")
    with pytest.raises(ValueError, match="unknown cut"):
        StripRenderer(images, labels, cut="wide")
    with pytest.raises(ValueError, match="every digit"):
        StripRenderer(images[labels < 9], labels[labels < 9])


def test_course_val_accuracy_reads_the_course_file(tmp_path):
    """Readers are scored on every strip of the file, end-to-end models on its pairs' sums; without the
    file there is nothing to report."""
    numbers = np.array([[3, 40], [255, 7], [12, 0]])
    path = tmp_path / "course_val.npz"
    np.savez(path, x=np.zeros((3, 2, 28, 84), np.uint8), numbers=numbers, sums=numbers.sum(axis=1, keepdims=True))
    misread_first = lambda images: np.where(np.arange(len(images)) == 0, -1, numbers.ravel())
    assert course_val_accuracy(misread_first, "reader", path) == {"course_val_number_accuracy": 5 / 6}
    right_sums = lambda a, b: numbers.sum(axis=1)
    assert course_val_accuracy(right_sums, "end2end", path) == {"course_val_sum_accuracy": 1.0}
    assert course_val_accuracy(right_sums, "end2end", tmp_path / "absent.npz") == {}
