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
   ink is 255; fainter than a fifth of that is noise, set to 0 (`_ink`). A photo or scan, whose light
   changes along its edge (`looks_like_photo`), goes through `_foreground` instead: the paper's
   brightness is modelled and divided out, so that light and shadow drop out; ruled lines, specks, the
   page's edge and the table beyond it are dropped, and the strokes along one line are the number;
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

import cv2
import numpy as np
from PIL import Image, ImageFilter, ImageOps
from scipy import ndimage

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
MAX_STROKE = 4.0  # px: a photo's wider strokes (a marker's) are eroded to about MNIST's median width
BLANK_CONTRAST = 32  # gray levels: less ink contrast than this is an empty canvas or sensor noise
WORK_SCALE = 4  # thickening runs at 4x the output resolution, fine enough to add a fraction of a pixel
MAX_SIDE = 1024  # px: larger images are downscaled first; the strip is 28x84 and ink ends up 22 px tall
MAX_PIXELS = 64_000_000  # an image this large (8000x8000) is refused before it is decoded
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601, as PIL's "L" mode
# Photos and scans (`_foreground`); chosen on simulated photos of validation digits (benchmarks.photo_accuracy)
PAPER_SIDE = 256  # px: the paper's brightness is modelled on a copy this long, and the edge's light measured
PAPER_KERNEL = 21  # px at PAPER_SIDE: a closing this wide wipes out strokes (a thick marker's too)
EDGE_WINDOW = 0.25  # of the way round the image: the median filter along its edge
UNEVEN_EDGE = 1.5  # gray levels: light along the edge varying more than this is a photo's (drawings: 1.0 at most)
CONTRAST_FRACTION, CONTRAST_RANGE = 0.4, (0.08, 0.25)  # ink is darker than the paper by this much of the strongest ink
LINE_SIDE, LINE_ANGLES, LINE_COVER = 400, np.arange(-7, 7.01, 0.5), 0.5  # a ruled line crosses half the page
EDGE_REACH = 0.012  # of the longer side: ink this close to other ink that reaches the edge is edge clutter
MAX_GLYPH, MIN_GLYPH = 0.4, 0.012  # of the longer side: a digit is no larger, and the largest one no shorter
SPECK = 0.04  # of the largest component's area: smaller components are specks
LINE_GAP, LINE_OVERLAP = 1.5, 0.3  # digits of one number: gaps under 1.5 heights, rows shared 30 % of a height
OTHER_AREA, OTHER_HEIGHT, OTHER_STRENGTH = 0.25, 0.5, 0.7  # writing off the number's line this large and dark
# (of its largest digit's area, its height, its ink's darkness) is another line

BLANK_MESSAGE = "The image is blank: draw or upload a number from 0 to 255 (dark on light or light on dark)."
NOT_AN_IMAGE = "The file is not an image that can be read: upload a PNG, JPEG or WebP picture of a number."
SEVERAL_LINES = ("The photo holds more than one line of writing: photograph (or crop the photo to) the one "
                 "number from 0 to 255 to read.")
NO_HANDWRITING = ("Nothing in the photo looks like a handwritten number: photograph a number from 0 to 255 written "
                  "dark on light paper, away from the page's edge.")


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
    return strip_and_crop(image, target_height)[0]


def strip_and_crop(image, target_height=TARGET_HEIGHT):
    """`to_strip`'s strip and where in the image the number was found: the crop's corners (4, 2), each
    (x, y) as fractions of the (upright) image's width and height, a photo's crop turned as its page."""
    gray = _grayscale(image)
    ink, corners = _foreground(gray) if looks_like_photo(gray) else (_ink(gray), None)
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    if corners is None:
        box = np.array([[cols[0], rows[0]], [cols[-1] + 1, rows[0]], [cols[-1] + 1, rows[-1] + 1], [cols[0], rows[-1] + 1]])
        corners = box / [ink.shape[1], ink.shape[0]]
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height = ink.shape[0]
    scale = 1.0 if KEEP_HEIGHTS[0] <= height <= KEEP_HEIGHTS[1] else target_height / height
    ink = _close_gaps(ink, MAX_GAP / scale, CLOSED_GAP / scale)
    width = ink.shape[1]
    scale = min(scale, MAX_INK_WIDTH / width)
    work_scale = min(1.0, WORK_SCALE * scale)  # shrink big images first, never enlarge them here
    work = _thicken(_resize(ink, width * work_scale, height * work_scale), scale / work_scale)
    ink = _resize(work, work.shape[1] * scale / work_scale, work.shape[0] * scale / work_scale)
    return _place(np.clip(ink * (MAX_PIXEL / ink.max()), 0, MAX_PIXEL)), corners  # shrinking dims thin strokes: restretch


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


# ---------------------------------------------------------------- photos and scans: the foreground

def looks_like_photo(gray):
    """Whether the light changes around the image's edge (falloff, a shadow, the table beyond the page):
    a photo or a scan, not a drawing or a generator strip, whose margins keep one level but where ink
    touches them. The edge's gray levels, in order around the image, are median-filtered over a quarter
    of the way round, which wipes out ink crossing the edge and keeps what varies slowly."""
    if min(gray.shape) < 3 * PAPER_KERNEL:
        return False
    small = _shrunk(gray, min(1.0, PAPER_SIDE / max(gray.shape)))
    ring = np.concatenate([small[0, :-1], small[:-1, -1], small[-1, :0:-1], small[:0:-1, 0]])
    level = ndimage.median_filter(ring, size=round(EDGE_WINDOW * len(ring)) | 1, mode="wrap")
    return bool(np.ptp(level) > UNEVEN_EDGE)


def _foreground(gray):
    """A photo's gray levels (dark ink on lighter paper) -> (ink 0-255 of the number's strokes alone,
    in the image's frame turned so that ruled lines are level; the crop's corners (4, 2), (x, y) as
    fractions of the image's width and height, in its own frame).

    The paper's brightness is modelled and divided out, so light and shadow drop out; what is darker
    than the paper by a fraction of the strongest ink is ink; ruled and squared lines, specks, the
    page's edge and what lies beyond it are dropped; the strokes along one line from the largest one
    are the number (`_number_components`)."""
    gray = _shrunk(gray, min(1.0, MAX_SIDE / max(gray.shape)))
    height, width = gray.shape
    paper = cv2.resize(_paper(gray), (width, height), interpolation=cv2.INTER_LINEAR)
    darkness = np.clip(1 - gray / np.maximum(paper, 1), 0, 1)
    peak = float(cv2.blur(_shrunk(darkness, 0.5), (3, 3)).max())  # the strongest ink, not a noisy pixel
    mask = (darkness > np.clip(CONTRAST_FRACTION * peak, *CONTRAST_RANGE)).astype(np.uint8)
    angle = _line_angle(mask)
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle or 0.0, 1.0)
    if angle is not None:
        mask = cv2.warpAffine(mask, turn, (width, height), flags=cv2.INTER_NEAREST)
        darkness = cv2.warpAffine(darkness, turn, (width, height), flags=cv2.INTER_LINEAR)
    mask[_lines(mask) > 0] = 0
    keep, (left, top, right, bottom) = _number_components(mask, darkness)
    keep = cv2.dilate(_thinned(keep, TARGET_HEIGHT / (bottom - top)), np.ones((3, 3), np.uint8))  # soft edges
    ink = np.where(keep > 0, darkness, 0)
    ink = np.where(ink >= INK_FRACTION * ink.max(), ink * (MAX_PIXEL / ink.max()), 0)
    corners = np.array([[[left, top], [right, top], [right, bottom], [left, bottom]]], np.float64)
    return ink, cv2.transform(corners, cv2.invertAffineTransform(turn))[0] / [width, height]


def _thinned(mask, scale):
    """Erodes strokes (a marker's) that would end up wider than MAX_STROKE px once scaled by `scale`,
    to about MNIST's median width; stroke width as in `_thicken`."""
    boundary = np.count_nonzero(mask & ~cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))))
    stroke = 2 * np.count_nonzero(mask) / max(boundary, 1)
    radius = round((stroke - TARGET_STROKE / scale) / 2)
    if stroke * scale <= MAX_STROKE or radius < 1:
        return mask
    return cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))


def _shrunk(image, scale):
    """`image` resized by `scale` (at most 1), pixels averaged (float32)."""
    image = np.asarray(image, np.float32)
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _paper(gray):
    """The paper's brightness, on a copy PAPER_SIDE px long: a grayscale closing, which wipes out dark
    strokes narrower than PAPER_KERNEL and keeps light falloff, shadows and the table."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (PAPER_KERNEL, PAPER_KERNEL))
    return cv2.morphologyEx(_shrunk(gray, PAPER_SIDE / max(gray.shape)), cv2.MORPH_CLOSE, kernel)


def _line_angle(mask):
    """The angle (degrees) that makes ruled or squared lines level, or None when no line crosses the
    image: the turn whose row (or column) sums peak highest, searched on a small copy."""
    small = _shrunk(mask, LINE_SIDE / max(mask.shape))
    height, width = small.shape
    cover = []
    for angle in LINE_ANGLES:
        turned = cv2.warpAffine(small, cv2.getRotationMatrix2D((width / 2, height / 2), float(angle), 1.0),
                                (width, height))
        cover.append(max(turned.sum(axis=1).max() / width, turned.sum(axis=0).max() / height))
    return float(LINE_ANGLES[np.argmax(cover)]) if max(cover) >= LINE_COVER else None


def _lines(mask):
    """The pixels of level lines: runs across (or down) a third of the image, a pixel's slack allowed."""
    height, width = mask.shape
    thick = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    across = cv2.morphologyEx(thick, cv2.MORPH_OPEN, np.ones((1, width // 3), np.uint8))
    down = cv2.morphologyEx(thick, cv2.MORPH_OPEN, np.ones((height // 3, 1), np.uint8))
    return cv2.dilate(across | down, np.ones((3, 3), np.uint8))


def _number_components(mask, darkness):
    """The number's strokes in an ink mask -> (their mask, their box (left, top, right, bottom) in px).

    Connected components that lie near the image's edge (however broken up: a table's grain, a finger's
    shading), that are too large for a digit or are specks are dropped; from the largest one left, the
    line grows by the components beside it that share its rows. Raises ValueError when nothing as tall
    as a digit is left, or when writing as large and dark as the number's is left off its line."""
    height, width = mask.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    x, y, w, h, area = stats[1:].T
    reach = round(EDGE_REACH * max(width, height))
    clutter = cv2.connectedComponents(cv2.dilate(mask, np.ones((2 * reach + 1,) * 2, np.uint8)), connectivity=8)[1]
    at_edge = np.unique(np.concatenate([clutter[0], clutter[-1], clutter[:, 0], clutter[:, -1]]))
    edge_labels = np.unique(labels[np.isin(clutter, at_edge[at_edge > 0]) & (labels > 0)])
    plausible = ~np.isin(np.arange(1, count), edge_labels) & (np.maximum(w, h) < MAX_GLYPH * max(width, height))
    if not plausible.any():
        raise ValueError(NO_HANDWRITING)
    plausible &= area >= SPECK * area[plausible].max()
    line = np.arange(len(area)) == np.argmax(np.where(plausible, area, -1))
    if h[line][0] < MIN_GLYPH * max(width, height):  # specks alone: JPEG's ringing, the paper's grain
        raise ValueError(NO_HANDWRITING)
    while True:
        left, right = x[line].min(), (x + w)[line].max()
        top, bottom = y[line].min(), (y + h)[line].max()
        reach = LINE_GAP * np.maximum(h, bottom - top)
        shared = np.minimum(y + h, bottom) - np.maximum(y, top)
        beside = (plausible & ~line & (shared > LINE_OVERLAP * np.minimum(h, bottom - top))
                  & (x < right + reach) & (x + w > left - reach))
        if not beside.any():
            break
        line |= beside
    strength = np.bincount(labels.ravel(), darkness.ravel(), count)[1:] / area  # mean darkness: ink, or a shadow's rim
    off_line = (plausible & ~line & (area >= OTHER_AREA * area[line].max()) & (h >= OTHER_HEIGHT * (bottom - top))
                & (strength >= OTHER_STRENGTH * np.median(strength[line])))
    if off_line.any():
        raise ValueError(SEVERAL_LINES)
    return np.isin(labels, 1 + np.flatnonzero(line)).astype(np.uint8), (left, top, right, bottom)


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
