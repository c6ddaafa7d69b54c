"""Where a served app's Python time goes: py-spy samples the thread holding Python's lock, and each
sampled stack is put in one part of the work (a model call, to_strip, gradio's session state, the HTTP
server...); `benchmarks.space_load --profile` records each part's share of the samples.

Model calls and image decoding run mostly without the lock, in TensorFlow's and PIL's own code, so
their shares here are the Python around them; the app's CPU against the direct-call floor, measured in
the same run, says what the models themselves cost.
"""

import signal
import subprocess
from pathlib import Path

# What the app's Python threads do (py-spy's raw format: a stack's frames "function (file:line)", joined by
# ";", outermost first). A stack belongs to the first of these parts named anywhere in it...
PROFILE_PARTS = {
    "decline rule": ("mnistadd/abstention.py",),
    "model calls": ("predict_on_batch", "mnistadd/api.py"),
    "to_strip (image decoding, preprocessing)": ("mnistadd/preprocess.py",),
    "session state, made per API call (gradio)": ("SessionState",),
    "queue's event summary (gradio, pandas)": ("compute_analytics_summary",),
    "uploads (multipart parsing, temporary files)": ("upload_file", "MultiPart"),
    "outputs (images' PNG files, labels, JSON)": ("postprocess_data", "processing_utils", "orjson"),
    "the app's own code (verdicts, tables)": tuple(f"{method} (app.py" for method in (
        "read", "reading", "random_example", "add", "operand", "sums", "sum_images", "random_pair")),
}
# ...or else to the library of its innermost frame from one of these.
PROFILE_LIBRARIES = {
    "gradio's queue, threads and event stream": ("gradio/", "anyio/", "threading.py", "queue.py", "batching.py"),
    "HTTP server and event loop": ("uvicorn/", "starlette/", "fastapi/", "h11/", "httptools", "asyncio/", "selectors.py"),
}


def profile_part(stack):
    part = next((part for part, keys in PROFILE_PARTS.items() if any(key in stack for key in keys)), None)
    for frame in reversed(stack.split(";")):
        part = part or next((name for name, keys in PROFILE_LIBRARIES.items() if any(key in frame for key in keys)), None)
    return part or "other"


def start_profile(pid, path):
    """py-spy sampling process `pid`'s thread that holds Python's lock (what its Python code costs; model
    calls and image decoding run mostly without it), into `path`, until `stop_profile`."""
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--gil", "--nonblocking", "--rate", "50",
                             "--format", "raw", "--output", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def stop_profile(sampler, path):
    sampler.send_signal(signal.SIGINT)  # py-spy writes its samples and exits
    sampler.wait(60)
    return {"sampler": "py-spy --gil at 50 Hz, during the timed requests", **profile_shares(Path(path).read_text())}


def profile_shares(raw):
    """Each part's share of py-spy's samples (`raw`: its raw output)."""
    counts, total = dict.fromkeys([*PROFILE_PARTS, *PROFILE_LIBRARIES, "other"], 0), 0
    for line in raw.splitlines():
        stack, _, samples = line.rpartition(" ")
        total += int(samples)
        counts[profile_part(stack)] += int(samples)
    return {"samples": total, "shares": {part: round(count / max(total, 1), 3) for part, count in counts.items()}}
