"""The strip and the numbers it holds: the sizes and ranges every module shares.

A strip is 28x84 pixels, raw 0-255 with ink high: a number 0..255 written with up to three 28x28
MNIST digits side by side.
"""

DIGIT_SIZE = 28
DIGIT_SHAPE = (DIGIT_SIZE, DIGIT_SIZE)
MAX_DIGITS = 3  # hundreds, tens, units
STRIP_HEIGHT, STRIP_WIDTH = DIGIT_SIZE, MAX_DIGITS * DIGIT_SIZE
STRIP_SHAPE = (STRIP_HEIGHT, STRIP_WIDTH)
MAX_NUMBER = 255
MAX_SUM = 2 * MAX_NUMBER
MAX_PIXEL = 255  # pixels are raw 0..255, ink high
INK_FRACTION = 0.2  # pixels fainter than this fraction of full ink count as background
INK_LEVEL = INK_FRACTION * MAX_PIXEL
