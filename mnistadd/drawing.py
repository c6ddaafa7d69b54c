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

A phone photo of a number written on paper (`photo_of_number`, what `benchmarks.photo_accuracy` reads):

- off-white or tinted paper with a faint grain: blank, ruled in faint blue or gray (a third; a red
  margin on some) or squared (a fifth);
- a ballpoint, gel pen, pencil (lighter, grainy) or marker, blue or black, of varying width;
- a three-digit number 18-50 % of the photo's width across (a shorter one narrower), somewhere on
  the page, the page turned up to 6 degrees and the writing up to 3 more;
- the table beyond the page's edge (three in ten) or a finger at the edge (three in twenty);
- light falling off across the page and towards the corners, a soft shadow (a third), glare (some);
- a perspective tilt, camera blur, sensor noise, JPEG quality 60-92, 1200x1600 up to 4032x3024
  (portrait or landscape), a quarter stored sideways with an EXIF orientation.
"""

import io
from pathlib import Path

import cv2
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
PHOTO_SIZES = ((1600, 1200), (2048, 1536), (2592, 1944), (3264, 2448), (4032, 3024))  # landscape (w, h)
SCENE_SIDE = 1280  # px: the scene is composed at most this large, then resized to the photo's size
INKS = {"ballpoint blue": (35, 55, 150), "ballpoint black": (30, 30, 38), "gel black": (15, 15, 20),
        "gel blue": (20, 40, 120), "pencil": (95, 95, 100), "marker black": (25, 25, 25), "marker blue": (25, 45, 130)}
PAPERS = ((250, 248, 240), (245, 245, 245), (252, 246, 225), (240, 244, 250), (250, 238, 240), (236, 236, 228))
TABLES = ((120, 85, 55), (70, 60, 55), (180, 175, 170), (40, 40, 45), (150, 110, 75))
SKIN = ((225, 180, 150), (200, 150, 120), (150, 105, 80), (240, 200, 175))
ORIENTATION = 0x0112  # EXIF tag: 6 and 8 say the stored picture is turned a quarter


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
    return draw_row(pieces_row(pieces, rng), rng)


def pieces_row(pieces, rng, gaps=(4, 41)):
    """Glyphs at strip scale laid in one row (float, 32 px tall), gaps uniform on `gaps` (px, end
    excluded) and each glyph up to 2 px off the common baseline."""
    gaps = rng.integers(*gaps, len(pieces) - 1)
    shifts = rng.integers(-2, 3, len(pieces))
    width = sum(piece.shape[1] for piece in pieces) + gaps.sum()
    row = np.zeros((HEIGHT + 4, width), np.float32)
    left = 0
    for piece, gap, shift in zip(pieces, np.append(gaps, 0), shifts):
        row[2 + shift:2 + shift + HEIGHT, left:left + piece.shape[1]] = piece
        left += piece.shape[1] + gap
    return row


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


# --------------------------------------------------------------- photos of a number on paper

def _smooth_noise(shape, cells, rng):
    """Smooth random field (float32, mean 0, std about 1) of `shape`, varying over about `cells` cells."""
    small = rng.standard_normal((max(2, shape[0] * cells // max(shape)), max(2, shape[1] * cells // max(shape))))
    return cv2.resize(small.astype(np.float32), shape[::-1], interpolation=cv2.INTER_CUBIC)


def _paper(height, width, line_step, rng):
    """The page (float32 RGB 0-255): tinted paper with a faint texture, blank, ruled or squared."""
    paper = np.empty((height, width, 3), np.float32)
    paper[:] = np.array(PAPERS[rng.integers(len(PAPERS))], np.float32) - rng.uniform(0, 12)
    paper *= (1 + 0.015 * _smooth_noise((height, width), 200, rng))[..., None]
    kind = str(rng.choice(["blank", "ruled", "grid"], p=[0.45, 0.35, 0.2]))
    if kind != "blank":
        color = np.array([rng.uniform(120, 200), rng.uniform(160, 215), rng.uniform(215, 250)], np.float32)
        if rng.random() < 0.3:
            color[:] = rng.uniform(150, 200)  # gray printed lines
        strength = rng.uniform(0.35, 0.9)
        thick = int(rng.integers(1, 4))
        step = line_step * (rng.uniform(0.5, 0.8) if kind == "grid" else 1)
        lines = np.zeros((height, width), np.float32)
        offset = rng.uniform(0, step)
        for y in np.arange(offset, height, step):
            lines[int(y):int(y) + thick] = 1
        if kind == "grid":
            for x in np.arange(rng.uniform(0, step), width, step):
                lines[:, int(x):int(x) + thick] = 1
        elif rng.random() < 0.4:  # a red margin line
            x = int(rng.uniform(0.05, 0.15) * width)
            paper[:, x:x + thick + 1] = paper[:, x:x + thick + 1] * 0.6 + np.array([230, 120, 120], np.float32) * 0.4
        lines = cv2.GaussianBlur(lines, (0, 0), 0.7) * strength
        paper += (color - paper) * lines[..., None]
    return paper, kind


def _handwriting(row, number_width, rng):
    """The row of ink enlarged so it is `number_width` px wide, in a pen: (coverage 0-1, ink RGB, pen)."""
    scale = number_width / row.shape[1]
    size = (round(row.shape[1] * scale), round(row.shape[0] * scale))
    ink = cv2.resize(row / 255, size, interpolation=cv2.INTER_CUBIC).clip(0, 1)
    pen = str(rng.choice(list(INKS)))
    widen = rng.uniform(0.3, 0.8) if pen.startswith("marker") else rng.uniform(-0.3, 0.5)
    radius = round(widen * 2.7 * scale / 2)
    if radius:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(radius) + 1,) * 2)
        ink = (cv2.dilate if radius > 0 else cv2.erode)(ink, kernel)
    ink = (ink > 0.35).astype(np.float32)  # a pen lays ink or not; the edge is softened below
    ink = cv2.GaussianBlur(ink, (0, 0), max(0.6, scale * 0.15))
    pressure = 1 + 0.12 * _smooth_noise(ink.shape, 12, rng)
    if pen == "pencil":  # graphite: lighter, grainy
        pressure = pressure * rng.uniform(0.55, 0.85) * (1 - 0.35 * rng.random(ink.shape, np.float32))
    color = np.array(INKS[pen], np.float32) + rng.uniform(-10, 10, 3)
    return np.clip(ink * pressure, 0, 1), color, pen


def photo_of_number(pieces, rng, size=None):
    """Glyphs of a number at strip scale -> (JPEG bytes of a phone photo of it written on paper, the
    conditions as a dict). `size` (w, h) of the stored photo; random from PHOTO_SIZES by default."""
    width, height = size or PHOTO_SIZES[rng.integers(len(PHOTO_SIZES))]
    if rng.random() < 0.5:
        width, height = height, width  # portrait
    scale = min(1.0, SCENE_SIDE / max(width, height))
    w, h = round(width * scale), round(height * scale)
    row = pieces_row(pieces, rng, gaps=(4, 21))
    number_width = rng.uniform(0.18, 0.5) * w * min(1.0, row.shape[1] / 70)  # a short number is narrower
    digit_height = number_width / row.shape[1] * HEIGHT
    page, paper = _paper(h, w, digit_height * rng.uniform(1.05, 1.6), rng)
    ink, color, pen = _handwriting(row, number_width, rng)

    # the number somewhere on the page, off its lines' baseline, the page and the writing turned
    top = int(rng.uniform(0.15, 0.85) * (h - ink.shape[0]))
    left = int(rng.uniform(0.1, 0.9) * (w - ink.shape[1]))
    layer = np.zeros((h, w), np.float32)
    layer[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    angle = rng.uniform(-6, 6)
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    writing = cv2.getRotationMatrix2D((left + ink.shape[1] / 2, top + ink.shape[0] / 2), rng.uniform(-3, 3), 1.0)
    layer = cv2.warpAffine(layer, writing, (w, h))
    scene = page * (1 - layer[..., None] * (1 - color / 255))
    scene = cv2.warpAffine(scene, turn, (w, h), borderMode=cv2.BORDER_REFLECT101)

    conditions = {"size": [width, height], "paper": paper, "pen": pen, "angle": round(angle, 1)}
    # the table beyond the page's edge, or a finger holding it
    edge = rng.random()
    if edge < 0.3:
        table = np.array(TABLES[rng.integers(len(TABLES))], np.float32)
        side, depth = rng.integers(4), rng.uniform(0.03, 0.12)
        yy, xx = np.ogrid[0:h, 0:w]
        slope = rng.uniform(-0.05, 0.05)
        coord = {0: yy / h + slope * xx / w, 1: 1 - yy / h + slope * xx / w,
                 2: xx / w + slope * yy / h, 3: 1 - xx / w + slope * yy / h}[int(side)]
        beyond = cv2.GaussianBlur((coord < depth).astype(np.float32), (0, 0), 1.5)[..., None]
        surface = table * (1 + 0.08 * _smooth_noise((h, w), 60, rng))[..., None]
        scene = scene * (1 - beyond) + surface * beyond
        conditions["edge"] = "table"
    elif edge < 0.45:
        cx, cy = (rng.uniform(0.2, 0.8) * w, h * rng.choice([0.0, 1.0])) if rng.random() < 0.5 else \
                 (w * rng.choice([0.0, 1.0]), rng.uniform(0.2, 0.8) * h)
        finger = np.zeros((h, w), np.float32)
        cv2.ellipse(finger, (int(cx), int(cy)), (int(0.06 * max(w, h)), int(0.13 * max(w, h))), rng.uniform(0, 180),
                    0, 360, 1.0, -1)
        finger = cv2.GaussianBlur(finger, (0, 0), 4)[..., None]
        skin = np.array(SKIN[rng.integers(len(SKIN))], np.float32) * (0.75 + 0.25 * finger)
        scene = scene * (1 - finger) + skin * finger
        conditions["edge"] = "finger"

    # light: falloff across the page, a soft shadow on a third, glare on some
    yy, xx = (axis.astype(np.float32) for axis in np.ogrid[0:h, 0:w])
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(direction) * (xx / w - 0.5) + np.sin(direction) * (yy / h - 0.5))
    light = rng.uniform(0.7, 1.0) * (1 - rng.uniform(0, 0.35) * (ramp + 0.5))
    light *= 1 - rng.uniform(0, 0.25) * (((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) * 2)
    if rng.random() < 1 / 3:
        a = rng.uniform(0, 2 * np.pi)
        cut = np.cos(a) * (xx - rng.uniform(0.2, 0.8) * w) + np.sin(a) * (yy - rng.uniform(0.2, 0.8) * h)
        cut += 0.15 * max(w, h) * _smooth_noise((h, w), 4, rng)  # a shadow's edge is no straight line
        softness = rng.uniform(0.01, 0.06) * max(w, h)
        light *= 1 - rng.uniform(0.25, 0.55) / (1 + np.exp(-cut / softness))
        conditions["shadow"] = True
    scene *= light[..., None]
    if rng.random() < 0.15:
        gx, gy, radius = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.08, 0.25) * max(w, h)
        glare = rng.uniform(0.3, 0.8) * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * radius ** 2))
        scene += (255 - scene) * glare[..., None]
        conditions["glare"] = True

    # a perspective tilt, camera blur; the photo's own size, sensor noise, JPEG
    jitter = rng.uniform(-0.05, 0.05, (4, 2)) * [w, h]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    tilt = cv2.getPerspectiveTransform(corners, (corners + jitter).astype(np.float32))
    scene = cv2.warpPerspective(scene, tilt, (w, h), borderMode=cv2.BORDER_REPLICATE)
    blur = rng.uniform(0.3, 2.0) * max(w, h) / 1600
    scene = cv2.GaussianBlur(scene, (0, 0), blur)
    noise = np.empty(scene.shape, np.float32)
    cv2.randn(noise, 0, rng.uniform(1.5, 6))  # at the scene's scale: a phone's denoised grain
    photo = cv2.resize(np.clip(scene + noise, 0, 255).astype(np.uint8), (width, height), interpolation=cv2.INTER_LINEAR)
    quality = int(rng.integers(60, 93))
    image = Image.fromarray(photo)
    exif = Image.Exif()
    if rng.random() < 0.25:  # stored sideways, with the tag that turns it upright
        orientation = int(rng.choice([6, 8]))
        image = image.transpose(Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270)
        exif[ORIENTATION] = orientation
        conditions["orientation"] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=exif)
    conditions.update(quality=quality, blur=round(blur, 2))
    return buffer.getvalue(), conditions


def photos(count, renderer, rng):
    """`count` (JPEG bytes, true number, conditions) of random numbers 0..255 written with `renderer`'s
    digits ("clean" cut) and photographed (`photo_of_number`)."""
    out = []
    for _ in range(count):
        number = int(rng.integers(0, MAX_NUMBER + 1))
        jpeg, conditions = photo_of_number(number_pieces(renderer, str(number), rng), rng)
        out.append((jpeg, number, conditions))
    return out
