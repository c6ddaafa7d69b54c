"""Concurrent requests sharing model calls (mnistadd.batching, the app's batchers) and the app refusing
what it cannot queue: each request gets its own answer, or its own error, or a clear "busy"."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import gradio as gr
import numpy as np
import pytest
from PIL import Image
from space_helpers import free_port, import_app, make_standin_models

from benchmarks import space_load
from mnistadd import serving
from mnistadd.batching import Batcher
from mnistadd.preprocess import to_strip


def slow_double(values):
    """Each row doubled and its sum, slowly enough that callers pile up behind a running call."""
    time.sleep(0.05)
    if (values < 0).any():
        raise ValueError("negative")
    return values * 2, values.sum(axis=1)


def test_each_caller_gets_its_own_rows():
    batcher = Batcher(slow_double, max_rows=8)
    inputs = [np.full((1 + i % 3, 2), i, np.float32) for i in range(24)]  # 1 to 3 rows each, told apart by value
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda values: batcher(values), inputs))
    for values, (doubled, sums) in zip(inputs, answers):
        np.testing.assert_array_equal(doubled, values * 2)
        np.testing.assert_array_equal(sums, values.sum(axis=1))
    assert max(batcher.batch_sizes) > 3 and max(batcher.batch_sizes) <= 8  # shared calls, never past max_rows
    assert sum(size * calls for size, calls in batcher.batch_sizes.items()) == sum(map(len, inputs))


def test_a_failed_shared_call_tells_its_callers_and_the_next_calls_are_served():
    batcher = Batcher(slow_double)
    with pytest.raises(ValueError, match="negative"):
        batcher(np.full((1, 2), -1.0))
    doubled, _ = batcher(np.ones((1, 2)))
    np.testing.assert_array_equal(doubled, np.full((1, 2), 2.0))
    with pytest.raises(ValueError, match="as many items"):
        batcher.submit(np.ones((1, 2)), np.ones((2, 2)))


@pytest.fixture(scope="module")
def app_and_models(tmp_path_factory):
    app = import_app()
    models = app.load_models({name: None for name in ("reader", "adder", "end2end")},
                             models_dir=make_standin_models(tmp_path_factory.mktemp("models")))
    return app, models


def drawing(folder, seed):
    """A 600x200 drawing of a few random bars, other for each seed."""
    rng, image = np.random.default_rng(seed), np.full((200, 600), 255, np.uint8)
    for top, left in zip(rng.integers(20, 120, 4), rng.integers(100, 420, 4)):
        image[top:top + rng.integers(20, 80), left:left + rng.integers(8, 60)] = 0
    path = folder / f"bars-{seed}.png"
    Image.fromarray(image).save(path)
    return str(path)


def test_concurrent_reads_get_their_own_answers_and_a_bad_file_its_own_error(app_and_models, tmp_path):
    app, models = app_and_models
    space = app.Space(models)
    files = [drawing(tmp_path, seed) for seed in range(12)]
    (tmp_path / "notes.png").write_text("not an image")
    files.insert(5, str(tmp_path / "notes.png"))
    direct = {file: models.predictors["reader"].read_or_decline(to_strip(file)[None])[3][0]
              for file in files if "notes" not in file}
    probs = np.stack(list(direct.values()))
    apart = np.abs(probs[:, None] - probs[None]).max(axis=(2, 3))[~np.eye(len(probs), dtype=bool)].min()
    assert apart > 1e-4  # the stand-in reader tells every drawing apart: a crossed answer would show
    start = threading.Barrier(len(files))

    def read(file):
        start.wait()  # all at once: the reader's batcher takes them in shared calls
        try:
            return space.read(file)
        except gr.Error as error:
            return error

    with ThreadPoolExecutor(len(files)) as pool:
        answers = dict(zip(files, pool.map(read, files)))
    error = answers.pop(str(tmp_path / "notes.png"))
    assert isinstance(error, gr.Error) and "not an image" in error.message
    for file, (_, _, *labels, _) in answers.items():
        served = np.array([[label[name] for name in app.CLASS_NAMES] for label in labels])
        # batch size changes float rounding (about 1e-6), far less than drawings differ by
        np.testing.assert_allclose(served, direct[file], rtol=0, atol=apart / 10)  # this request's rows, no other's
    assert max(space.calls["reader"].batch_sizes) > 1


def test_a_full_queue_refuses_with_a_busy_message_and_answers_the_rest(app_and_models, monkeypatch):
    """A burst bigger than the queue: the requests it holds are answered, the others refused at once
    with the busy message; none lost, none failed."""
    app, models = app_and_models
    monkeypatch.setattr(app, "MAX_QUEUE", 3)
    monkeypatch.setattr(app, "CONCURRENCY", 1)
    adder = models.predictors["adder"]  # slowed before the app's batcher takes it: requests pile up
    monkeypatch.setattr(adder, "predict", lambda a, b, predict=adder.predict: (time.sleep(0.3), predict(a, b))[1])
    demo = app.build_demo(models)
    _, url, _ = app.launch(demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        jobs = [("/add", (i, i), None, None) for i in range(12)]
        results = space_load.asyncio.run(space_load.burst_results(url, jobs, timeout=30))
    finally:
        demo.close()
    burst = space_load.summarize_burst(results, jobs, app.BUSY_MESSAGE)
    assert burst["refused_busy"] > 0 and burst["answered"] >= 3
    assert burst["answered"] + burst["refused_busy"] == len(jobs) and burst["lost"] == burst["failed"] == 0
    assert all(int(answer) >= 0 for _, _, answer in results if not isinstance(answer, str))


def test_clients_with_and_without_sessions_get_the_same_answers(app_and_models):
    """The load benchmark's HTTP clients, each call a session of its own or each client one session."""
    app, models = app_and_models
    demo = app.build_demo(models)
    _, url, _ = app.launch(demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        jobs = [("/add", (i, 2 * i), None, None) for i in range(4)]
        answers = {sessions: [answer for client in space_load.run_clients("http", url, [jobs, jobs], sessions)
                              for _, _, answer in client] for sessions in (False, True)}
        assert all(isinstance(session.config_values, serving.ConfigsOnDemand)  # as the launched app makes them
                   for session in demo.state_holder.session_data.values())
    finally:
        demo.close()
    assert answers[False] == answers[True] and all(isinstance(answer, int) for answer in answers[True])


def test_new_sessions_make_component_configs_on_demand_and_the_same_ones(app_and_models, monkeypatch):
    from gradio import state_holder

    app, models = app_and_models
    demo = app.build_demo(models)
    monkeypatch.setattr(state_holder, "SessionState", state_holder.SessionState)  # as it was before this test
    gradios_own = next(kind for kind in state_holder.SessionState.__mro__ if "configs_on_demand" not in vars(kind))
    made_at_once = gradios_own(demo)
    serving.make_session_configs_on_demand()
    session = state_holder.StateHolder()
    session.set_blocks(demo)
    on_demand = session["a session"]
    assert on_demand.configs_on_demand and not on_demand.config_values.made()  # none made yet
    some_id = next(iter(made_at_once.config_values))
    on_demand._update_value_in_config(some_id, "a value")
    assert on_demand.config_values.made() == [some_id]  # what a request's input or output asks for
    assert on_demand.config_values[some_id]["props"]["value"] == "a value"
    made_at_once._update_value_in_config(some_id, "a value")
    assert list(on_demand.components) == list(made_at_once.components)  # a deep link's view
