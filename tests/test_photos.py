"""Photos of numbers handwritten on paper: the simulator (`mnistadd.drawing.photo_of_number`) and the
foreground step of `mnistadd.preprocess` that reads them.

Drawings and generator strips must never take the photo path (their strips stay as they were); photos
must, and their strips must look like the same digits drawn cleanly."""

import io
import time

import numpy as np
import pytest
from PIL import Image, ImageOps
from scipy import ndimage

from mnistadd import preprocess
from mnistadd.data import StripRenderer
from mnistadd.drawing import (OUT_OF_DOMAIN, ORIENTATION, drawings, number_pieces, photo_of_number, pieces_row,
                              system_fonts)
from mnistadd.preprocess import looks_like_photo, strip_and_crop, to_strip


@pytest.fixture(scope="module")
def renderer(small_mnist_dir):
    return StripRenderer.from_split("test", small_mnist_dir, cut="clean")


def correlation(a, b, blur=0.0):
    """Pearson correlation of two strips, blurred first by `blur` px: pen width and a few degrees' turn
    then matter less than where the digits' strokes are."""
    a, b = ndimage.gaussian_filter(a, blur), ndimage.gaussian_filter(b, blur)
    return np.corrcoef(np.ravel(a), np.ravel(b))[0, 1]


def jpeg(array, quality=85):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def lit_page(height=1200, width=1600, seed=0):
    """A gray page lit from one side (brightness falling 30 % across) with faint ruled lines: a photo's
    background, float gray levels."""
    rng = np.random.default_rng(seed)
    page = np.tile(np.linspace(235, 165, width, dtype=np.float32), (height, 1))
    page[::60] *= 0.8
    return page + rng.normal(0, 2, page.shape).astype(np.float32)


def written(page, row, top, left, height):
    """`row` (strip-scale ink, high) written dark into `page` at (top, left), `height` px tall."""
    scale = height / row.shape[0]
    ink = np.asarray(Image.fromarray(row).resize((round(row.shape[1] * scale), height), Image.BILINEAR)) / 255
    page = page.astype(np.float32)
    page[top:top + ink.shape[0], left:left + ink.shape[1]] *= 1 - 0.85 * np.clip(ink, 0, 1)
    return np.clip(page, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("kind", ("drawn",) + OUT_OF_DOMAIN)
def test_drawings_keep_the_drawing_path(renderer, kind):
    """Drawings of every kind (either polarity) are no photos, so to_strip reads them as before the
    foreground step existed; the same for a transparent sketchpad's composite."""
    pictures = [picture for picture, _ in drawings(kind, 40, renderer, system_fonts(), np.random.default_rng(1))]
    assert not any(looks_like_photo(preprocess._grayscale(picture)) for picture in pictures)
    sketch = np.zeros((*pictures[0].shape, 4), np.uint8)
    sketch[..., 3] = 255 - pictures[0] if pictures[0].mean() > 127 else pictures[0]
    assert not looks_like_photo(preprocess._grayscale({"composite": sketch}))


def test_generator_strips_keep_the_drawing_path(renderer):
    strips = renderer.render(np.arange(0, 256, 5), np.array([0, 1])).numpy()
    assert not any(looks_like_photo(preprocess._grayscale(strip)) for strip in strips)


def test_photos_are_read_like_the_same_digits_drawn(renderer):
    """Simulated phone photos (paper, pen, light, shadow, lines, table, tilt, JPEG as they come) take the
    photo path, and their strips look like those of the same digits laid cleanly in a row (the strips of
    the drawing path correlate 0.2 in the median)."""
    rng = np.random.default_rng(3)
    similar = []
    for number in (7, 42, 105, 183, 219, 250):
        pieces = number_pieces(renderer, str(number), rng)
        photo, _ = photo_of_number(pieces, rng, size=(1600, 1200))
        assert looks_like_photo(preprocess._grayscale(photo))
        clean = to_strip(pieces_row(pieces, np.random.default_rng(0), gaps=(4, 5)))
        similar.append(correlation(to_strip(photo), clean, blur=2))
    assert np.median(similar) > 0.8 and min(similar) > 0.5, similar


def test_a_shadowed_photo_of_ruled_paper_is_cropped_to_the_number(renderer):
    """The light falls off across the page and ruled lines cross it: the crop is the number's box, and
    its strip is the number's."""
    row = pieces_row(number_pieces(renderer, "254", np.random.default_rng(4)), np.random.default_rng(0), gaps=(6, 7))
    photo = written(lit_page(), row, top=500, left=600, height=160)
    strip, corners = strip_and_crop(jpeg(photo))
    (left, top), (right, bottom) = corners.min(axis=0) * [1600, 1200], corners.max(axis=0) * [1600, 1200]
    ink_rows, ink_columns = np.nonzero(row > 50)
    scale = 160 / row.shape[0]
    assert abs(top - (500 + ink_rows.min() * scale)) < 12 and abs(bottom - (500 + ink_rows.max() * scale)) < 12
    assert abs(left - (600 + ink_columns.min() * scale)) < 12 and abs(right - (600 + ink_columns.max() * scale)) < 12
    assert correlation(strip, to_strip(row)) > 0.8


def test_several_lines_of_writing_get_a_message(renderer):
    rng = np.random.default_rng(5)
    page = lit_page()
    for top, text in ((300, "12"), (700, "345")):
        page = written(page, pieces_row(number_pieces(renderer, text, rng), rng), top=top, left=500, height=150)
    with pytest.raises(ValueError, match="more than one line of writing"):
        to_strip(jpeg(page.astype(np.uint8)))


def test_a_page_without_writing_gets_a_message():
    with pytest.raises(ValueError, match="Nothing in the photo looks like a handwritten number"):
        to_strip(jpeg(np.clip(lit_page(), 0, 255).astype(np.uint8)))


def test_a_sideways_photo_carries_its_orientation(renderer):
    """A photo the simulator stores sideways has the EXIF tag that turns it upright to the asked size."""
    rng = np.random.default_rng(6)
    pieces = number_pieces(renderer, "8", rng)
    for _ in range(40):
        photo, conditions = photo_of_number(pieces, rng, size=(320, 240))
        if "orientation" in conditions:
            break
    image = Image.open(io.BytesIO(photo))
    assert image.getexif()[ORIENTATION] in (6, 8)
    assert sorted(ImageOps.exif_transpose(image).size) == [240, 320]
    assert ImageOps.exif_transpose(image).size == tuple(conditions["size"])


def test_a_12_megapixel_photo_is_read_quickly(renderer):
    """Bound on a shared test machine; benchmarks.photo_accuracy measures the time itself."""
    photo, _ = photo_of_number(number_pieces(renderer, "96", np.random.default_rng(7)), np.random.default_rng(7),
                               size=(4032, 3024))
    to_strip(photo)  # OpenCV's first calls
    started = time.perf_counter()
    to_strip(photo)
    assert time.perf_counter() - started < 1.5
