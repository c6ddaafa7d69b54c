"""Serving the models to many people at once, as the Space does (`space/app.py`): TensorFlow's threads set
for many small calls, one batcher per model so that concurrent requests share a call
(`mnistadd.batching`), traced before the first request, gradio's settings for a busy queue, and its
new sessions (one per API call without a session) made without copying every component's config.

`python -m benchmarks.space_load` measures what a request costs the app against its models' own calls.
"""

import os

import numpy as np

from mnistadd.batching import Batcher
from mnistadd.geometry import STRIP_SHAPE

BUSY_MESSAGE = "The app is busy: try again in a few seconds."
# TensorFlow threads: one per model call (its thread pool's hand-offs cost more than a small call gains
# from a second core); concurrent calls, one per model's batcher, share the cores.
TF_THREADS = {"intra_op": 1, "inter_op": 2}
# Gradio's queue summarizes its last events in a pandas table after every event, a cost per request that
# grows with the events kept (up to 10,000): once in 1,000 events, of the last 1,000.
QUEUE_ANALYTICS = {"GRADIO_ANALYTICS_CACHE_FREQUENCY": "1000", "GRADIO_ANALYTICS_MAX_EVENTS": "1000"}
# Gradio keeps a state for each session (the configs of the components a request used, `ConfigsOnDemand`),
# and an API call without one is a session of its own: a bound on the memory they take. The app keeps
# nothing in them, so a session dropped is made again as it was when next used.
SESSIONS_KEPT = 1000


class ConfigsOnDemand(dict):
    """A session's copy of each component's config, {block id: config}, each made when first asked for.
    Gradio makes all of them for every new session (every API call without one), about a third of a
    request's CPU for the app's 71 components; a request asks for those of its inputs and outputs only
    (`in`, `[]`), and a deep link for all, which every other view of the mapping makes first."""

    def __init__(self, blocks_config, ids):
        super().__init__()
        self.blocks_config, self.ids = blocks_config, ids

    def __contains__(self, block_id):
        return block_id in self.ids or super().__contains__(block_id)

    def __missing__(self, block_id):
        return self.setdefault(block_id, self.blocks_config.config_for_block(block_id, [], self.blocks_config.blocks[block_id]))

    def get(self, block_id, default=None):
        return self[block_id] if block_id in self else default

    def made(self):
        """The ids of the configs made so far."""
        return list(super().keys())

    def _all(self):
        for block_id in self.blocks_config.blocks:
            if block_id in self.ids:
                self[block_id]
        return self

    def items(self):
        return super(ConfigsOnDemand, self._all()).items()

    def keys(self):
        return super(ConfigsOnDemand, self._all()).keys()

    def values(self):
        return super(ConfigsOnDemand, self._all()).values()

    def __iter__(self):
        return super(ConfigsOnDemand, self._all()).__iter__()

    def __len__(self):
        return super(ConfigsOnDemand, self._all()).__len__()


def make_session_configs_on_demand():
    """Gradio's new sessions get ConfigsOnDemand instead of every component's config made at once."""
    from types import SimpleNamespace

    from gradio import state_holder

    made_at_once = state_holder.SessionState
    if getattr(made_at_once, "configs_on_demand", False):
        return

    class SessionState(made_at_once):
        configs_on_demand = True

        def __init__(self, blocks):
            # gradio's own set-up, given no components to make configs of; then the configs on demand
            super().__init__(SimpleNamespace(default_config=blocks.default_config, blocks={}))
            self.config_values = ConfigsOnDemand(self.blocks_config, set(blocks.blocks) & set(self.blocks_config.blocks))

    state_holder.SessionState = SessionState


def set_tensorflow_threads():
    """TF_THREADS, unless TensorFlow has already started in this process (its pools are fixed then)."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(TF_THREADS["intra_op"])
        tf.config.threading.set_inter_op_parallelism_threads(TF_THREADS["inter_op"])
    except RuntimeError:  # started already, as in the tests: its settings stay
        pass


def model_calls(predictors):
    """A Batcher over each loaded predictor's call: the reader's read_or_decline, the adder's predict and
    the end-to-end model's sum_probabilities, keyed by model name."""
    methods = {"reader": "read_or_decline", "adder": "predict", "end2end": "sum_probabilities"}
    calls = {name: Batcher(getattr(predictors[name], method), name=name) for name, method in methods.items()
             if name in predictors}
    # Keras traces a model's graph for its first batch size and again, for any size, at a second one:
    # both done now, so that no request pays for tracing.
    blank = np.zeros((2, *STRIP_SHAPE), np.float32)
    warm_ups = {"reader": (blank,), "adder": ([0, 0], [0, 0]), "end2end": (blank, blank)}
    for name, call in calls.items():
        for items in (1, 2):
            call.function(*(inputs[:items] for inputs in warm_ups[name]))
    return calls


def set_queue_analytics():
    """QUEUE_ANALYTICS, unless set otherwise; gradio reads them when a queue is made."""
    for name, value in QUEUE_ANALYTICS.items():
        os.environ.setdefault(name, value)


async def refuse_when_busy(request, error):
    """Gradio's answer to a request that finds the queue full, in words for a person (BUSY_MESSAGE); any
    other HTTP error as FastAPI gives it. A FastAPI exception handler."""
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.responses import JSONResponse

    if error.status_code == 503 and str(error.detail).startswith("Queue is full"):
        return JSONResponse({"detail": BUSY_MESSAGE}, status_code=503, headers={"Retry-After": "5"})
    return await http_exception_handler(request, error)
