"""Numbers as a person gives them: drawn on a sketchpad or on paper, photographed or scanned, made from
the generator's strips of MNIST digits; and what is not a number 0..255, drawn the same way (`drawings`:
four-digit numbers, numbers over 255, letters and words in the system's fonts, scribbles). What the app's
preprocessing (`mnistadd.preprocess.to_strip`) is measured on (`benchmarks.drawn_accuracy`), the reader's
decline rule is fitted on (`train.calibrate`), the Space's examples are drawn with
(`train.space_examples`), and the reader can train on (`train.reader --drawn`: `drawn_strips`).

A drawing (`draw_like_a_person`):

- digits spaced unevenly (each gap 4-40 px at strip scale) and off a common baseline (+-2 px);
- enlarged 3-8x onto a 200x600 canvas at a random place, so margins and scale vary;
- a pen 0.6-2x as thick as MNIST's (eroded or dilated after enlarging);
- dark ink on light paper or light on dark, half and half, at random ink and paper levels;
- a slight blur (radius 0-1.5 px) and sensor noise (sigma 3 gray levels).
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from mnistadd.geometry import MAX_NUMBER
from mnistadd.geometry import STRIP_HEIGHT as HEIGHT
from mnistadd.preprocess import to_strip

CANVAS = (200, 600)  # height, width: a sketchpad-sized picture
MIN_DIGIT_GAP = 4  # px at strip scale: the clean cut leaves 2 px on each side of a digit
FONTS = Path("/usr/share/fonts/truetype/dejavu")
OUT_OF_DOMAIN = ("four_digits", "over_255", "letters", "scribbles")
LETTERS = "ACEFHKLMNPRUVWXYacdefhkmnpruvwxy"  # no O, D, Q, I, l, i, j, S, s, Z, z, B, b, G, g, q, T, t
WORDS = ("cat", "hi", "ok", "yes", "max", "run", "Hey", "car", "AC", "fun", "mew", "EUR", "km", "dry")


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


# --------------------------------------------------------------- what is not a number 0..255

def system_fonts(pattern="*.ttf"):
    """The system's fonts that letters are written in (none: PIL's default font)."""
    return sorted(str(path) for path in FONTS.glob(pattern))


def glyph_row(draw, width, rng):
    """A strip-scale row (28 px tall, `width` px wide, float ink 0-255) drawn at 4x by `draw(canvas,
    rng)` on a PIL "L" image and shrunk: strokes come out antialiased, 2-3 px wide as MNIST's."""
    big = Image.new("L", (4 * width, 4 * HEIGHT))
    draw(ImageDraw.Draw(big), big.size, rng)
    return np.asarray(big.resize((width, HEIGHT), Image.BILINEAR), np.float32)


def cut_to_ink(row):
    columns = np.flatnonzero(row.max(axis=0) > 50)
    return row[:, max(columns[0] - 2, 0):columns[-1] + 3] if len(columns) else row


def text_piece(text, fonts, rng):
    """`text` in a random system font, 20 px tall at strip scale, slightly rotated."""
    font = ImageFont.truetype(str(rng.choice(fonts)), 80) if fonts else ImageFont.load_default(80)
    big = Image.new("L", (120 * len(text) + 80, 160))
    ImageDraw.Draw(big).text((40, 20), text, fill=255, font=font, stroke_width=int(rng.integers(0, 4)))
    big = big.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR)
    box = big.getbbox()
    big = big.crop(box)
    scale = rng.uniform(17, 23) / big.height
    small = np.asarray(big.resize((max(1, round(big.width * scale)), max(1, round(big.height * scale))), Image.BILINEAR),
                       np.float32)
    piece = np.zeros((HEIGHT, small.shape[1] + 4), np.float32)
    top = (HEIGHT - small.shape[0]) // 2
    piece[top:top + small.shape[0], 2:2 + small.shape[1]] = small[:HEIGHT]
    return piece


def scribble(canvas, size, rng):
    """One of: a random smooth curve, a zigzag, a smiley, a cross, a star, a box, hatching."""
    width, height = size
    pen = int(rng.integers(8, 13))
    kind = rng.integers(7)
    margin = 12
    if kind == 0:  # a smooth random walk
        position, heading, points = np.array([rng.uniform(margin, width - margin), height / 2]), rng.uniform(0, 6.3), []
        for _ in range(int(rng.integers(15, 45))):
            heading += rng.normal(0, 0.6)
            position = np.clip(position + 14 * np.array([np.cos(heading), np.sin(heading)]), margin,
                               [width - margin, height - margin])
            points.append(tuple(position))
        canvas.line(points, fill=255, width=pen, joint="curve")
    elif kind == 1:  # zigzag or wave
        xs = np.linspace(margin, width - margin, int(rng.integers(4, 14)))
        ys = np.where(np.arange(len(xs)) % 2, margin, height - margin) + rng.normal(0, 6, len(xs))
        canvas.line(list(zip(xs, ys)), fill=255, width=pen, joint="curve")
    elif kind == 2:  # a smiley
        r = height / 2 - margin
        cx = width / 2
        canvas.ellipse([cx - r, margin, cx + r, height - margin], outline=255, width=pen)
        for dx in (-r / 2.5, r / 2.5):
            canvas.ellipse([cx + dx - 5, height / 2 - r / 2.5 - 5, cx + dx + 5, height / 2 - r / 2.5 + 5], fill=255)
        canvas.arc([cx - r / 1.8, height / 2 - r / 3, cx + r / 1.8, height / 2 + r / 1.6], 20, 160, fill=255, width=pen)
    elif kind == 3:  # a cross
        canvas.line([(margin, margin), (width - margin, height - margin)], fill=255, width=pen)
        canvas.line([(margin, height - margin), (width - margin, margin)], fill=255, width=pen)
    elif kind == 4:  # a star
        cx, cy, r = width / 2, height / 2, height / 2 - margin
        angles = -np.pi / 2 + np.arange(6) * 4 * np.pi / 5
        canvas.line([(cx + r * np.cos(a), cy + r * np.sin(a)) for a in angles], fill=255, width=pen, joint="curve")
    elif kind == 5:  # a box or triangle
        corners = [(margin, margin), (width - margin, margin), (width - margin, height - margin), (margin, height - margin)]
        if rng.random() < 0.5:
            corners = [(width / 2, margin), (width - margin, height - margin), (margin, height - margin)]
        canvas.line(corners + corners[:1], fill=255, width=pen, joint="curve")
    else:  # hatching
        for x in np.linspace(margin, width - margin - 30, int(rng.integers(3, 8))):
            canvas.line([(x, height - margin), (x + 30, margin)], fill=255, width=pen)


def number_pieces(renderer, text, rng):
    """The digits of `text` as strip-scale glyphs of validation digits, each its own random warp."""
    strips = renderer.render(np.array([int(d) for d in text], np.int32), rng.integers(0, 2**31, 2)).numpy()
    return [digit_pieces(strip)[0] for strip in strips]


def drawings(kind, count, renderer, fonts, rng):
    """`count` (picture, true number or -1) of one kind."""
    out = []
    for _ in range(count):
        if kind == "drawn":
            number = int(rng.integers(0, MAX_NUMBER + 1))
            out.append((draw_pieces(number_pieces(renderer, str(number), rng), rng), number))
        elif kind == "four_digits":
            out.append((draw_pieces(number_pieces(renderer, str(rng.integers(1000, 10000)), rng), rng), -1))
        elif kind == "over_255":
            out.append((draw_pieces(number_pieces(renderer, str(rng.integers(MAX_NUMBER + 1, 1000)), rng), rng), -1))
        elif kind == "letters":
            text = str(rng.choice(WORDS)) if rng.random() < 0.3 else str(rng.choice(list(LETTERS)))
            pieces = [cut_to_ink(text_piece(text, fonts, rng))]
            out.append((draw_pieces(pieces, rng), -1))
        else:
            row = glyph_row(scribble, int(rng.integers(24, 84)), rng)
            out.append((draw_row(np.pad(row, ((2, 2), (0, 0))), rng), -1))
    return out
