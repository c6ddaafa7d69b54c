"""Numbers and their decimal digits, most significant first, for numbers of any length."""

import numpy as np

INT64_DIGITS = 18  # longer numbers overflow int64, so they are held as Python ints


def digits_of(numbers, n):
    """Non-negative integers (B,) -> their n digits (B, n), most significant first, as int64.
    Numbers of more than 18 digits may be given as Python ints (an object array)."""
    numbers = np.asarray(numbers)
    if n > INT64_DIGITS or numbers.dtype == object:
        return np.array([[int(c) for c in str(int(x)).zfill(n)[-n:]] for x in numbers], dtype=np.int64).reshape(-1, n)
    return numbers.astype(np.int64)[:, None] // 10 ** np.arange(n - 1, -1, -1, dtype=np.int64) % 10


def numbers_of(digits):
    """Digits (B, n), most significant first -> the numbers (B,): int64 up to 18 digits, Python ints
    (an object array) beyond, so that sums of long numbers stay exact."""
    digits = np.asarray(digits, dtype=np.int64)
    if digits.shape[1] > INT64_DIGITS:
        return np.array([int("".join(map(str, row))) for row in digits], dtype=object)
    return digits @ 10 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64)
