"""Numbers as a person gives them: drawn on a sketchpad or on paper, photographed or scanned, made from
the generator's strips of MNIST digits. What the app's preprocessing (`mnistadd.preprocess.to_strip`) is
measured on (`benchmarks.drawn_accuracy`), the reader's decline rule is fitted on (`train.calibrate`), and
the reader can train on (`train.reader --drawn`: `drawn_strips`).

A drawing (`draw_like_a_person`):

- digits spaced unevenly (each gap 4-40 px at strip scale) and off a common baseline (+-2 px);
- enlarged 3-8x onto a 200x600 canvas at a random place, so margins and scale vary;
- a pen 0.6-2x as thick as MNIST's (eroded or dilated after enlarging);
- dark ink on light paper or light on dark, half and half, at random ink and paper levels;
- a slight blur (radius 0-1.5 px) and sensor noise (sigma 3 gray levels).
"""

import numpy as np
from PIL import Image, ImageFilter

from mnistadd.preprocess import HEIGHT, to_strip

CANVAS = (200, 600)  # height, width: a sketchpad-sized picture
MIN_DIGIT_GAP = 4  # px at strip scale: the clean cut leaves 2 px on each side of a digit


def digit_pieces(strip):
    """The strip's digits as column slices of its ink (split at gaps of MIN_DIGIT_GAP or more)."""
    ink_columns = np.flatnonzero(strip.max(axis=0) > 0)
    breaks = np.flatnonzero(np.diff(ink_columns) > MIN_DIGIT_GAP) + 1
    return [strip[:, run[0]:run[-1] + 1] for run in np.split(ink_columns, breaks)]


def draw_like_a_person(strip, rng):
    """A generator strip (ink high, 0-255) -> a uint8 CANVAS-sized grayscale picture of the same number."""
    return draw_pieces(digit_pieces(strip), rng)


def draw_pieces(pieces, rng):
    """Glyphs at strip scale (28 px tall, ink high, 0-255), spaced unevenly and off a common baseline,
    -> a uint8 CANVAS-sized picture of them as a person would give it (`draw_row`)."""
    gaps = rng.integers(4, 41, len(pieces) - 1)
    shifts = rng.integers(-2, 3, len(pieces))
    width = sum(piece.shape[1] for piece in pieces) + gaps.sum()
    row = np.zeros((HEIGHT + 4, width), np.float32)
    left = 0
    for piece, gap, shift in zip(pieces, np.append(gaps, 0), shifts):
        row[2 + shift:2 + shift + HEIGHT, left:left + piece.shape[1]] = piece
        left += piece.shape[1] + gap
    return draw_row(row, rng)


def draw_row(row, rng):
    """A row of ink at strip scale (float, ink high, 0-255) -> a uint8 CANVAS-sized picture: enlarged
    3-8x at a random place, a thicker or thinner pen, either polarity, blur and sensor noise."""
    fits = min(0.95 * CANVAS[0] / row.shape[0], 0.95 * CANVAS[1] / row.shape[1])
    scale = rng.uniform(min(3.0, fits), min(8.0, fits))
    size = (round(row.shape[1] * scale), round(row.shape[0] * scale))
    ink = Image.fromarray(row).resize(size, Image.BILINEAR)
    pen = round(rng.uniform(-0.4, 1.0) * 2.7 * scale / 2)  # px added to (or taken from) each side of a stroke
    if pen:
        ink = ink.filter((ImageFilter.MaxFilter if pen > 0 else ImageFilter.MinFilter)(2 * abs(pen) + 1))

    canvas = np.zeros(CANVAS, np.float32)
    top, left = rng.integers(0, CANVAS[0] - size[1] + 1), rng.integers(0, CANVAS[1] - size[0] + 1)
    canvas[top:top + size[1], left:left + size[0]] = np.asarray(ink) / 255
    paper, pen_level = rng.uniform(190, 255), rng.uniform(0, 70)
    if rng.random() < 0.5:
        paper, pen_level = 255 - paper, 255 - pen_level  # light ink on dark
    picture = Image.fromarray((paper + (pen_level - paper) * canvas).astype(np.uint8))
    picture = np.asarray(picture.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.5))), np.float32)
    return np.clip(picture + rng.normal(0, 3, CANVAS), 0, 255).astype(np.uint8)


def drawn_strips(renderer, numbers, rng):
    """`numbers` drawn from `renderer`'s digits ("clean" cut: whole digits) and read back through
    `to_strip`, as the app reads a drawing: (N, 28, 84) float32 strips."""
    strips = renderer.render(np.asarray(numbers, np.int32), rng.integers(0, 2**31, 2)).numpy()
    return np.stack([to_strip(draw_like_a_person(strip, rng)) for strip in strips])
