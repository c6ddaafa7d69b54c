"""benchmarks.space_load's accounting, on made-up inputs: a burst's outcomes and the profile's parts."""

from benchmarks import app_profile, space_load

BUSY = "The app is busy: try again in a few seconds."


def test_a_burst_counts_answers_refusals_losses_and_failures_apart():
    jobs = [("/add", (1, 2), 3, 3), ("/read", (), None, 7), ("/add", (2, 2), 4, 4), ("/add", (0, 0), 0, 0),
            ("/read", (), 5, 5)]
    results = [("/add", 0.1, 3), ("/read", 0.2, None), ("/add", 0.3, f'HTTP 503: {{"detail": "{BUSY}"}}'),
               ("/add", 9.0, "lost"), ("/read", 0.5, "RuntimeError: /read answered error: None")]
    burst = space_load.summarize_burst(results, jobs, BUSY)
    assert burst == {"users": 5, "answered": 2, "served_right": 2, "refused_busy": 1, "lost": 1, "failed": 1,
                     "first_failures": ["RuntimeError: /read answered error: None"], "slowest_s": 9.0}


def test_each_sampled_stack_goes_to_one_part():
    loop = "_bootstrap (threading.py:1002);run (uvicorn/server.py:86);_run_once (asyncio/base_events.py:1922)"
    worker = "_bootstrap (threading.py:1002);run (anyio/_backends/_asyncio.py:967)"
    stacks = {
        f"{worker};Space.read (app.py:229);user_strip (app.py:157);to_strip (mnistadd/preprocess.py:90);open (PIL/Image.py:3400)":
            "to_strip (image decoding, preprocessing)",
        "_serve (mnistadd/batching.py:50);read_or_decline (mnistadd/api.py:96);decide (mnistadd/abstention.py:80)":
            "decline rule",
        "_serve (mnistadd/batching.py:50);_infer (mnistadd/api.py:64);predict_on_batch (keras/src/trainer.py:660)":
            "model calls",
        f"{loop};Queue.process_events (gradio/queueing.py:700);SessionState.__init__ (gradio/state_holder.py:70);signature (inspect.py:3300)":
            "session state, made per API call (gradio)",
        f"{loop};Queue.process_events (gradio/queueing.py:700);send (gradio/queueing.py:250)": "gradio's queue, threads and event stream",
        f"{loop};__call__ (starlette/routing.py:700);write (asyncio/selector_events.py:1070)": "HTTP server and event loop",
        f"{worker};Space.reading (app.py:216);markdown_table (mnistadd/tables.py:12)": "the app's own code (verdicts, tables)",
        "main (somewhere.py:1)": "other",
    }
    for stack, part in stacks.items():
        assert app_profile.profile_part(stack) == part, stack
    shares = app_profile.profile_shares("\n".join(f"{stack} {i + 1}" for i, stack in enumerate(stacks)))
    assert shares["samples"] == sum(range(1, len(stacks) + 1))
    assert abs(sum(shares["shares"].values()) - 1) < 0.01
    assert shares["shares"]["other"] == round(len(stacks) / shares["samples"], 3)
