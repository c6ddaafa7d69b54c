"""The Space's drawn examples (space/examples/*.png): numbers drawn from MNIST validation digits as a
person would on the sketchpad (dark pen on white, 600x200), and things that are not a number 0..255,
which the reader should decline.

    python -m train.space_examples [--mnist-dir DIR] [--out space/examples]
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from mnistadd.data import StripRenderer
from mnistadd.drawing import cut_to_ink, draw_pieces, number_pieces, system_fonts, text_piece

NUMBERS = ("47", "5", "128", "209", "250")
NOT_NUMBERS = ("999", "1234")  # the reader should decline these, and the letter below
LETTER = "A"


def on_white(picture):
    """A drawing as dark ink on white paper, whichever way it was drawn."""
    return 255 - picture if np.median(picture) < 128 else picture


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist-dir")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "space" / "examples"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    renderer = StripRenderer.from_split("val", args.mnist_dir, cut="clean")
    fonts = system_fonts("DejaVuSans*.ttf")
    drawings = {text: draw_pieces(number_pieces(renderer, text, rng), rng) for text in NUMBERS + NOT_NUMBERS}
    drawings[LETTER] = draw_pieces([cut_to_ink(text_piece(LETTER, fonts, rng))], rng)
    for index, (text, picture) in enumerate(drawings.items()):
        Image.fromarray(on_white(picture)).save(out / f"{index}-{text}.png", optimize=True)
    print(f"wrote {len(drawings)} examples to {out}")


if __name__ == "__main__":
    main()
