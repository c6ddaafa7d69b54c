"""`Batcher(function)`: calls that arrive at the same time, from many threads, share one model call.

    reader_calls = Batcher(reader.read_or_decline)
    numbers, confidences, declined, probs = reader_calls(strips)   # in any thread: blocks for the answer

A web app serves each request in a thread of its own, and each request brings a strip or two: one
model call per request pays the call's fixed cost (graph dispatch, thread hand-offs) once per strip.
A Batcher runs `function` in a worker thread of its own: while one call runs, the requests that
arrive queue up, and the next call takes them all at once, their arrays concatenated along the first
axis; each caller gets back its own rows of every output. Nothing waits on purpose: a lone request
runs at once, and batches grow only as fast as requests pile up behind a running call.

Inputs are checked by the caller before they are submitted, so a bad input is its own request's error
and never reaches the shared call; should the shared call fail all the same, every request in it gets
that error.
"""

import threading
from collections import Counter, deque
from concurrent.futures import Future

import numpy as np


class Batcher:
    """Runs `function(*arrays)` on many callers' arrays at once. `function` takes arrays whose first axis
    holds items and returns an array, or a tuple of arrays, with one row per item; `max_rows` caps the
    items in one call (a caller's own items are never split)."""

    def __init__(self, function, max_rows=64, name="batcher"):
        self.function, self.max_rows = function, max_rows
        self.batch_sizes = Counter()  # shared calls made, by the items in each: how well requests batch
        self._pending = deque()  # (arrays, future), in arrival order
        self._wake = threading.Condition()
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def submit(self, *arrays):
        """A Future of this caller's rows of `function`'s outputs for `arrays` (each with its items along
        the first axis, as many items in each)."""
        arrays = [np.asarray(array) for array in arrays]
        if len({len(array) for array in arrays}) != 1:
            raise ValueError(f"every input needs as many items, got {[len(array) for array in arrays]}")
        future = Future()
        with self._wake:
            self._pending.append((arrays, future))
            self._wake.notify()
        return future

    def __call__(self, *arrays):
        return self.submit(*arrays).result()

    def _take(self):
        """The pending calls that fit in one shared call: at least the oldest, then up to max_rows items."""
        with self._wake:
            while not self._pending:
                self._wake.wait()
            taken, rows = [], 0
            while self._pending and (not taken or rows + len(self._pending[0][0][0]) <= self.max_rows):
                arrays, future = self._pending.popleft()
                taken.append((arrays, future))
                rows += len(arrays[0])
            return taken

    def _serve(self):
        while True:
            taken = self._take()
            counts = [len(arrays[0]) for arrays, _ in taken]
            try:
                joined = [np.concatenate(column) for column in zip(*(arrays for arrays, _ in taken))]
                outputs = self.function(*joined)
            except Exception as error:  # the shared call failed: each of its callers is told
                for _, future in taken:
                    future.set_exception(error)
                continue
            self.batch_sizes[sum(counts)] += 1
            single = not isinstance(outputs, tuple)
            outputs = (outputs,) if single else outputs
            ends = np.cumsum(counts)
            for (_, future), end, count in zip(taken, ends, counts):
                rows = tuple(np.asarray(output)[end - count:end] for output in outputs)
                future.set_result(rows[0] if single else rows)
