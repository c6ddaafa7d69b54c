"""`to_strip(image)`: a number as a person gives it (a drawing, a photo, an upload) -> the 28x84 strip
the models read.

The models learned from strips rendered out of MNIST digits (`mnistadd.data`): raw pixels 0-255, ink
high on a background of 0, rows of digits about 22 px tall, their center of mass near row 14, the row of
digits centered left to right, strokes 2-3.5 px wide and 0-6 px between digits. A user's image is
anything but that: any size and color, dark ink on white or the reverse, a transparent sketchpad
canvas, wide margins, digits far apart, a thin pen. `to_strip` maps it onto the training
distribution step by step:

0. a file (path or bytes) is opened, turned upright by its EXIF orientation and downscaled so its longer
   side is at most MAX_SIDE px before anything else (`load_image`): a 4000x3000 phone photo costs what a
   sketch costs, and a JPEG is decoded at reduced size straight away;
1. grayscale, with transparent pixels composited onto the background (`_grayscale`);
2. ink as the distance from the background color, whichever way that goes, stretched so the strongest
   ink is 255; fainter than a fifth of that is noise, set to 0 (`_ink`);
3. crop to the ink's bounding box and close gaps between digits wider than the generator's (`_close_gaps`);
4. scale so the ink is 22 px tall (or at most 80 px wide), thickening thin strokes on the way
   (`_thicken`); ink already as tall as in the training strips (17-26 px) keeps its size, so a
   generator strip comes out as it went in, up to re-centering;
5. place it in 28x84: its bounding box centered left to right, its center of mass on row 14.

The placement rule follows the training strips, measured on 3,000 test strips: horizontally the
ink's bounding-box center sits at column 41.4 +- 0.8 (its center of mass wanders +- 2.1), vertically
the center of mass sits at row 13.9 +- 1.1 (the bounding-box center +- 1.3).
"""

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from mnistadd.geometry import INK_FRACTION, MAX_PIXEL
from mnistadd.geometry import STRIP_HEIGHT as HEIGHT
from mnistadd.geometry import STRIP_WIDTH as WIDTH

TARGET_HEIGHT = 22  # px of ink height: the training strips' median (their digits' 20 px boxes, warped and on
# uneven baselines); drawn validation numbers read 0.14 points better than at 20 px, MNIST's box (REPORT.md)
KEEP_HEIGHTS = (17, 26)  # px: ink this tall (training strips: 1st-99th percentile) is not rescaled
MAX_INK_WIDTH = 80  # px: a wider number is scaled down to fit, keeping 2 px margins
CENTER_ROW = 14.0  # where the ink's center of mass goes (training strips: 13.9)
MAX_GAP, CLOSED_GAP = 6, 3  # px: training strips' widest and median gap between ink columns
MIN_STROKE, TARGET_STROKE = 2.2, 2.7  # px: thinner strokes are dilated to about MNIST's median width
BLANK_CONTRAST = 32  # gray levels: less ink contrast than this is an empty canvas or sensor noise
WORK_SCALE = 4  # thickening runs at 4x the output resolution, fine enough to add a fraction of a pixel
MAX_SIDE = 1024  # px: larger images are downscaled first; the strip is 28x84 and ink ends up 22 px tall
MAX_PIXELS = 64_000_000  # an image this large (8000x8000) is refused before it is decoded
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601, as PIL's "L" mode

BLANK_MESSAGE = "The image is blank: draw or upload a number from 0 to 255 (dark on light or light on dark)."
NOT_AN_IMAGE = "The file is not an image that can be read: upload a PNG, JPEG or WebP picture of a number."


def load_image(source):
    """An image file (a path or its bytes) -> an upright PIL image whose longer side is at most MAX_SIDE.

    Raises ValueError with a message for a person when the file is no image, is broken, or is huge."""
    try:
        image = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"The image is too large ({image.width}x{image.height} pixels): "
                             f"upload one of at most {MAX_PIXELS // 1_000_000} megapixels.")
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # a JPEG decodes at 1/2, 1/4 or 1/8 size: much faster
        image = ImageOps.exif_transpose(image)  # phones store photos sideways with an orientation tag
        return _downscaled(image)
    except ValueError:
        raise
    except (OSError, SyntaxError, Image.DecompressionBombError):  # what PIL raises for unreadable files
        raise ValueError(NOT_AN_IMAGE) from None


def to_strip(image, target_height=TARGET_HEIGHT):
    """A user's image of a number -> a (28, 84) float32 strip, ink high (0-255) on a background of 0.

    `image` is a numpy array ((H, W) gray, (H, W, 1-4) gray/gray+alpha/RGB/RGBA; uint8 0-255 or floats
    0-1 or 0-255), a PIL image, an image file (a path or bytes, through `load_image`), or the value of a
    gradio ImageEditor/Sketchpad (a dict whose "composite" is the flattened drawing, in any of those
    forms). `target_height`: px of ink height for ink that is rescaled (`benchmarks.drawn_accuracy` compares
    choices). Raises ValueError, with a message for a person, when there is nothing to read."""
    ink = _ink(_grayscale(image))
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height = ink.shape[0]
    scale = 1.0 if KEEP_HEIGHTS[0] <= height <= KEEP_HEIGHTS[1] else target_height / height
    ink = _close_gaps(ink, MAX_GAP / scale, CLOSED_GAP / scale)
    width = ink.shape[1]
    scale = min(scale, MAX_INK_WIDTH / width)
    work_scale = min(1.0, WORK_SCALE * scale)  # shrink big images first, never enlarge them here
    work = _thicken(_resize(ink, width * work_scale, height * work_scale), scale / work_scale)
    ink = _resize(work, work.shape[1] * scale / work_scale, work.shape[0] * scale / work_scale)
    return _place(np.clip(ink * (MAX_PIXEL / ink.max()), 0, MAX_PIXEL))  # shrinking dims thin strokes: restretch


def _grayscale(image):
    """Any supported image -> float32 (H, W) gray levels 0-255, transparency flattened."""
    if isinstance(image, dict):  # gradio's ImageEditor/Sketchpad value: background, layers, composite
        image = image.get("composite")
    if image is None:
        raise ValueError(BLANK_MESSAGE)
    if isinstance(image, (str, Path, bytes, bytearray)):
        image = load_image(image)
    if isinstance(image, Image.Image):
        image = _downscaled(image).convert("RGBA" if image.has_transparency_data else "RGB")
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 2, 3, 4) or min(pixels.shape[:2]) < 1:
        raise ValueError(f"expected an (H, W) or (H, W, 1-4 channels) image, got shape {pixels.shape}")
    is_float = pixels.dtype.kind == "f"
    pixels = pixels.astype(np.float32) * (255 if pixels.dtype == bool else 1)
    if not np.isfinite(pixels).all():
        raise ValueError("the image holds NaN or infinite values")
    if is_float and pixels.max() <= 1:
        pixels = pixels * 255
    channels = pixels.shape[-1]
    gray = pixels[..., :3] @ LUMA if channels >= 3 else pixels[..., 0]
    if channels in (2, 4):
        gray = _flatten_alpha(gray, np.clip(pixels[..., -1] / 255, 0, 1))
    return gray


def _downscaled(image):
    """A PIL image with its longer side at most MAX_SIDE (a new image; the caller's is left alone)."""
    if max(image.size) <= MAX_SIDE:
        return image
    scale = MAX_SIDE / max(image.size)
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BILINEAR,
                        reducing_gap=2.0)


def _flatten_alpha(gray, alpha):
    """Composites gray levels with an alpha channel onto the background they were drawn on.

    A transparent canvas carries no background color (a sketchpad exports black under alpha 0), so it
    is inferred: when the opaque pixels cover under half the image they are strokes, and the background
    is the opposite of their color (black strokes -> white); when they cover more, they are paper with
    transparent margins, and the margins take the paper's color."""
    opaque = alpha > 0.5
    if not opaque.any():
        return np.zeros_like(gray)  # nothing drawn
    level = np.median(gray[opaque])
    if opaque.mean() < 0.5:
        level = 255.0 if level < 128 else 0.0
    return gray * alpha + level * (1 - alpha)


def _ink(gray):
    """Gray levels -> ink 0-255: distance from the background (the border's median color) towards the
    ink's side (whichever extreme is farther), stretched so the strongest ink is 255, with faint noise set to 0."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = np.median(border)
    ink = gray - background if gray.max() - background > background - gray.min() else background - gray
    peak = ink.max()
    if peak < BLANK_CONTRAST:
        raise ValueError(BLANK_MESSAGE)
    return np.where(ink >= INK_FRACTION * peak, ink * (MAX_PIXEL / peak), 0)  # fainter: noise


def _close_gaps(ink, max_gap, closed_gap):
    """Shortens every run of empty columns wider than `max_gap` to `closed_gap` columns, so digits
    written far apart sit as close as in the training strips. Narrower runs, such as the gaps the
    generator leaves or a gap inside one digit, stay as they are."""
    empty = np.concatenate([[False], ~ink.any(axis=0), [False]]).astype(np.int8)
    starts, ends = np.nonzero(np.diff(empty) == 1)[0], np.nonzero(np.diff(empty) == -1)[0]
    keep = np.ones(ink.shape[1], bool)
    for start, end in zip(starts, ends):
        if end - start > max_gap:
            keep[start + round(closed_gap):end] = False
    return ink[:, keep]


def _thicken(ink, scale):
    """Dilates strokes that would end up thinner than MIN_STROKE px once scaled by `scale`, padding the
    sides so that a lone "1" can grow too.

    Stroke width is estimated as 2 * area / boundary of the ink's mask: a stroke of width w and length
    L covers w*L pixels, about 2*L of them on its boundary."""
    mask = np.pad(ink > ink.max() / 2, 1)
    inner = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    stroke = 2 * np.count_nonzero(mask) / np.count_nonzero(mask[1:-1, 1:-1] & ~inner)
    if stroke * scale >= MIN_STROKE:
        return ink
    size = 2 * round((TARGET_STROKE / scale - stroke) / 2) + 1  # odd; the stroke grows by size - 1
    if size == 1:
        return ink
    padded = np.pad(ink, ((0, 0), (size // 2, size // 2)))
    return np.asarray(Image.fromarray(padded).filter(ImageFilter.MaxFilter(size)))


def _resize(ink, width, height):
    """Resamples float ink to (round(height), round(width)); PIL's bilinear filter averages the source
    pixels under each output pixel when shrinking, so thin strokes fade instead of vanishing."""
    size = (max(1, round(width)), max(1, round(height)))
    return np.asarray(Image.fromarray(ink.astype(np.float32)).resize(size, Image.BILINEAR))


def _place(ink):
    """Pastes the scaled ink into a 28x84 strip: bounding box centered left to right, center of mass
    on CENTER_ROW (kept inside the strip)."""
    height, width = ink.shape
    center_of_mass = ink.sum(axis=1) @ np.arange(height) / ink.sum()
    top = int(np.clip(round(CENTER_ROW - center_of_mass), 0, HEIGHT - height))
    left = (WIDTH - width) // 2
    strip = np.zeros((HEIGHT, WIDTH), np.float32)
    strip[top:top + height, left:left + width] = ink
    return strip
