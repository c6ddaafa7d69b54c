"""The Space under load: many gradio_client clients at once, every answer checked, latency next to the
models' own compute time.

    python -m benchmarks.space_load [--clients 50] [--rounds 1] [--client http|gradio_client] [--burst 200]
                                    [--profile] [--models-dir models] [--url URL] [--out FILE]

Without --url it starts `python space/app.py` on a free local port (models from --models-dir, or as the
app finds them) and stops it at the end. Each client makes `rounds` rounds of the mix people send, five
requests with inputs whose answers are known:

- /read, twice: an uploaded drawing (a 600x200 PNG of a number drawn from MNIST test digits as a
  person would, `mnistadd.drawing.draw_like_a_person`), as a sketchpad value;
- /add, twice: two random numbers;
- /sum, once: two such drawings.

"Served right" means the Space's answer equals the same model's answer computed in this process on the
same input (what the app should return, whatever the model's accuracy; None where the reader declines):
a mismatch is a serving bug, such as answers crossed between concurrent requests. "Model right" compares
with the true number or sum. The models here are loaded the way the app loads them (`space/app.py`'s
`load_models`), so with --url they must be the same models as the remote Space's.

The figures are printed; they are written to a file only when asked (--out; the README's and report's
come from experiments/space_load.json).

Latency is per request, from the client's call to its answer, so it includes queueing. `model_ms` is one
direct `predict` call on a single input (and `to_strip` for one image). The app's CPU per request is set
against the direct-call floor: the same requests' to_strip and model calls made here, warm, one request
at a time (`direct_floor`). Then a burst: `--burst` users at once, one request each, every one answered
or refused with the app's busy message within `--burst-timeout`, none lost. `--profile` samples the app
with py-spy meanwhile: where its Python time goes (`benchmarks.app_profile`).

The clients run here, on the app's own cores, so what they cost is taken from the app. `--client
gradio_client` makes each client a `gradio_client.Client` in a thread of its own, as a Python user
would call the Space; the default, `http`, makes each one an asyncio task speaking Gradio's HTTP API
(upload the image files, POST /gradio_api/call/<endpoint>, read the answer's server-sent events), the
same requests for a fraction of the CPU, so that the figure is the app's rather than the load
generator's. Both are printed with the CPU seconds the app and the load generator used.
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.app_profile import start_profile, stop_profile
from mnistadd.geometry import MAX_NUMBER

ROOT = Path(__file__).resolve().parent.parent


def start_app(log, app_file=ROOT / "space" / "app.py"):
    """`python space/app.py` (or another version of it) on a free local port (models as this process's
    environment says), its output to the open file `log`; returns (process, url) once it answers."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    process = subprocess.Popen([sys.executable, str(app_file)], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 300
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with code {process.returncode}; see {log.name}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(1)
    process.terminate()
    raise RuntimeError(f"the app did not answer within 300 s; see {log.name}")


def drawing_files(renderer, numbers, folder, rng):
    """PNGs of `numbers` drawn as a person would, and the strips the app makes of them."""
    from mnistadd.drawing import draw_like_a_person
    from mnistadd.preprocess import to_strip

    strips = renderer.render(np.asarray(numbers, np.int32), rng.integers(0, 2**31, 2)).numpy()
    paths = []
    for strip in strips:
        with tempfile.NamedTemporaryFile(suffix=".png", dir=folder, delete=False) as file:
            Image.fromarray(draw_like_a_person(strip, rng)).save(file, format="PNG")
        paths.append(file.name)
    return paths, np.stack([to_strip(path) for path in paths])


def make_jobs(count, models, renderer, folder, seed):
    """`count` rounds of (endpoint, arguments, served answer expected, true answer)."""
    rng = np.random.default_rng(seed)
    reader, adder, end2end = (models.predictors[name] for name in ("reader", "adder", "end2end"))
    jobs = []
    for _ in range(count):
        a, b = rng.integers(0, MAX_NUMBER + 1, 2).tolist()
        for first, second in ((a, b), (b, a)):
            (path,), strips = drawing_files(renderer, [first], folder, rng)
            numbers, _, declined, _ = reader.read_or_decline(strips)
            jobs.append(("/read", (Path(path),), None if declined[0] else int(numbers[0]), first))
            jobs.append(("/add", (first, second), int(adder.predict([first], [second])[0]), a + b))
        paths, strips = drawing_files(renderer, [a, b], folder, rng)
        declined = reader.read_or_decline(strips)[2].any()
        expected = None if declined else int(end2end.predict(strips[:1], strips[1:])[0])
        jobs.append(("/sum", tuple(Path(p) for p in paths), expected, a + b))
    return jobs


def sketch(composite):
    """An image as a drawing pad's value: the composite image, no layers."""
    return {"background": None, "layers": [], "composite": composite}


def first_answer(answer):
    """An endpoint's first output (the number or sum, as text, or None) as an int or None."""
    return None if answer is None else int(answer)


async def client_results(call, jobs):
    """One client making its requests in turn through `call(endpoint, args)`: (endpoint, seconds, served answer
    or error) each."""
    results = []
    for endpoint, args, _, _ in jobs:
        started = time.perf_counter()
        try:
            answer = await call(endpoint, args)
        except Exception as error:  # recorded and counted: the benchmark reports failures, it does not stop
            answer = f"{type(error).__name__}: {error}"
        results.append((endpoint, time.perf_counter() - started, answer))
    return results


def run_client(url, jobs):
    """One gradio_client client, in a thread of its own, making its requests in turn (`client_results`)."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)

    async def call(endpoint, args):  # blocks this thread's loop, whose only task is this client
        args = [sketch(handle_file(str(a))) if isinstance(a, Path) else a for a in args]
        return first_answer(client.predict(*args, api_name=endpoint)[0])

    return asyncio.run(client_results(call, jobs))


async def http_call(http, endpoint, args, session=None):
    """One request through Gradio's HTTP API: images uploaded, the call queued (in `session`, or in none:
    gradio makes each call a session of its own), its answer's events read."""
    data = []
    for arg in args:
        if isinstance(arg, Path):
            uploaded = await http.post("/upload", files=[("files", (arg.name, arg.read_bytes(), "image/png"))])
            uploaded.raise_for_status()
            arg = sketch({"path": uploaded.json()[0], "meta": {"_type": "gradio.FileData"}})
        data.append(arg)
    queued = await http.post(f"/call{endpoint}", json={"data": data, **({"session_hash": session} if session else {})})
    queued.raise_for_status()
    event, answer = None, None
    async with http.stream("GET", f"/call{endpoint}/{queued.json()['event_id']}") as events:
        async for line in events.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                answer = json.loads(line.split(":", 1)[1])
                break
    if event != "complete":
        raise RuntimeError(f"{endpoint} answered {event}: {answer}")
    return first_answer(answer[0])


async def run_http_clients(url, jobs_per_client, sessions=False):
    """Every client at once, each an asyncio task with its own requests, over one connection pool."""
    import httpx

    async with httpx.AsyncClient(base_url=url.rstrip("/") + "/gradio_api", timeout=300,
                                 limits=httpx.Limits(max_connections=None, max_keepalive_connections=None)) as http:
        return await asyncio.gather(*(client_results(partial(http_call, http, session=f"user-{i}" if sessions else None), jobs)
                                      for i, jobs in enumerate(jobs_per_client)))


def run_clients(kind, url, jobs_per_client, sessions=False):
    """Every client's results, the clients running at once: threads of gradio_client, or HTTP tasks."""
    if kind == "http":
        return asyncio.run(run_http_clients(url, jobs_per_client, sessions))
    with ThreadPoolExecutor(len(jobs_per_client)) as pool:
        return list(pool.map(run_client, [url] * len(jobs_per_client), jobs_per_client))


def cpu_seconds(pid):
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def model_ms(models, renderer, repeats=20):
    """Median milliseconds of one direct call per model on a single input, and of to_strip."""
    from mnistadd.preprocess import to_strip

    strip = renderer.render(np.array([123], np.int32), np.array([0, 0])).numpy()
    picture = np.full((200, 600), 255, np.uint8)
    picture[50:150, 200:400] = 255 - np.asarray(Image.fromarray(strip[0]).resize((200, 100)), np.uint8)
    calls = {
        "reader": lambda: models.predictors["reader"].read_or_decline(strip),
        "adder": lambda: models.predictors["adder"].predict([123], [45]),
        "end2end": lambda: models.predictors["end2end"].predict(strip, strip),
        "to_strip": lambda: to_strip(picture),
    }
    timings = {}
    for name, call in calls.items():
        call()  # the first call traces the model's graph
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - started)
        timings[name] = round(1000 * float(np.median(seconds)), 2)
    return timings


def direct_floor(models, jobs):
    """Milliseconds per request, CPU and wall clock, of the work behind `jobs` done directly in this
    process, warm, one request at a time: each image's to_strip and the model calls the endpoint makes
    (/read: the reader; /add: the adder; /sum: the reader on both strips, the adder on the numbers read
    and the end-to-end model). What the app adds to it is the cost of serving."""
    from mnistadd.preprocess import to_strip

    reader, adder, end2end = (models.predictors[name] for name in ("reader", "adder", "end2end"))

    def serve(endpoint, args):
        if endpoint == "/add":
            return adder.predict([args[0]], [args[1]])
        strips = np.stack([to_strip(path) for path in args])
        numbers = reader.read_or_decline(strips)[0]
        if endpoint == "/sum":
            adder.predict(numbers[:1], numbers[1:])
            end2end.sum_probabilities(strips[:1], strips[1:])

    for endpoint in ("/read", "/add", "/sum"):  # the first call of each traces its graphs
        serve(*next(job[:2] for job in jobs if job[0] == endpoint))
    cpu, wall = time.process_time(), time.perf_counter()
    for endpoint, args, _, _ in jobs:
        serve(endpoint, args)
    return {"cpu_ms": round(1000 * (time.process_time() - cpu) / len(jobs), 1),
            "wall_ms": round(1000 * (time.perf_counter() - wall) / len(jobs), 1), "requests": len(jobs)}


async def burst_results(url, jobs, timeout):
    """Every job sent at once, each by a client of its own that gives up after `timeout` seconds: (endpoint,
    seconds, answer, or the error's text) each; "lost" when no answer nor refusal came in time."""
    import httpx

    async def one(http, endpoint, args):
        started = time.perf_counter()
        try:
            answer = await asyncio.wait_for(http_call(http, endpoint, args), timeout)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            answer = "lost"
        except httpx.HTTPStatusError as error:  # a refusal: its status and the app's message
            answer = f"HTTP {error.response.status_code}: {error.response.text}"
        except Exception as error:  # counted as a failure, as in client_results
            answer = f"{type(error).__name__}: {error}"
        return endpoint, time.perf_counter() - started, answer

    # A connection per request, as from that many people: none is reused just as the server closes it
    async with httpx.AsyncClient(base_url=url.rstrip("/") + "/gradio_api", timeout=timeout,
                                 limits=httpx.Limits(max_connections=None, max_keepalive_connections=0)) as http:
        return await asyncio.gather(*(one(http, endpoint, args) for endpoint, args, _, _ in jobs))


def summarize_burst(results, jobs, busy_message):
    """How a burst went: answered (and served right), refused with the busy message, lost, failed."""
    answers = [answer for _, _, answer in results]
    refused = [isinstance(a, str) and busy_message in a for a in answers]
    lost = [a == "lost" for a in answers]
    failed = [isinstance(a, str) and not r and not gone for a, r, gone in zip(answers, refused, lost)]
    return {"users": len(jobs), "answered": sum(not isinstance(a, str) for a in answers),
            "served_right": sum(a == job[2] for a, job in zip(answers, jobs)), "refused_busy": sum(refused),
            "lost": sum(lost), "failed": sum(failed),
            "first_failures": [a for a, f in zip(answers, failed) if f][:3],
            "slowest_s": round(max(seconds for _, seconds, _ in results), 1)}


def summarize(results, jobs):
    report = {}
    for endpoint in ("/add", "/read", "/sum"):
        pairs = [(r, j) for r, j in zip(results, jobs) if r[0] == endpoint]
        latency = np.array([r[1] for r, _ in pairs]) * 1000
        answers = [r[2] for r, _ in pairs]
        failures = [a for a in answers if isinstance(a, str)]
        report[endpoint] = {
            "requests": len(pairs),
            "failed": len(failures),
            "declined": sum(a is None for a in answers),
            "served_right": sum(a == j[2] for a, (_, j) in zip(answers, pairs)),
            "model_right": sum(a == j[3] for a, (_, j) in zip(answers, pairs)),
            "p50_ms": round(float(np.percentile(latency, 50)), 1),
            "p99_ms": round(float(np.percentile(latency, 99)), 1),
            "first_failures": failures[:3],
        }
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app (default: start space/app.py here)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1, help="rounds of the mix (2 /read, 2 /add, 1 /sum) per client")
    parser.add_argument("--models-dir", help="models folder for the app started here and the direct answers")
    parser.add_argument("--client", choices=["http", "gradio_client"], default="http",
                        help="what each client is: an asyncio task on Gradio's HTTP API, or a gradio_client.Client")
    parser.add_argument("--burst", type=int, default=200, help="users sending one request each, all at once, after "
                        "the timed rounds (0: none)")
    parser.add_argument("--burst-timeout", type=float, default=60, help="seconds a burst user waits for an answer")
    parser.add_argument("--floor-requests", type=int, default=250, help="requests of the mix replayed directly for the floor")
    parser.add_argument("--profile", action="store_true", help="sample the app with py-spy during the timed "
                        "requests: what share of its Python time each part takes")
    parser.add_argument("--app", default=str(ROOT / "space" / "app.py"), help="the app file to start (another version to compare)")
    parser.add_argument("--sessions", action="store_true", help="http clients each keep a session, as the browser and "
                        "gradio_client do (default: none, each call a session of its own, as from curl)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="JSON file to write the figures to (experiments/space_load.json for the README)")
    args = parser.parse_args()
    if args.models_dir:
        # Read by mnistadd.api when imported, here and in the app started here.
        os.environ["MNISTADD_MODELS_DIR"] = str(Path(args.models_dir).resolve())

    from mnistadd.data import StripRenderer
    from space import app

    models = app.load_models()
    if models.problems:
        sys.exit("cannot compute the expected answers: " + " ".join(models.problems.values()))
    renderer = StripRenderer.from_split("test", cut="clean")  # whole digits, as draw_like_a_person needs
    folder = tempfile.mkdtemp(prefix="space-load-")
    jobs = [make_jobs(args.rounds, models, renderer, folder, args.seed + i) for i in range(args.clients)]
    all_jobs = [j for client in jobs for j in client]
    direct_ms = model_ms(models, renderer)
    floor = direct_floor(models, all_jobs[:args.floor_requests])
    burst_jobs = [all_jobs[i % len(all_jobs)] for i in range(args.burst)]  # whole rounds: the same mix

    with open(Path(folder) / "app.log", "w") as log:
        process, url = (None, args.url) if args.url else start_app(log, args.app)
        try:
            run_clients(args.client, url, jobs[:1], args.sessions)  # warm-up: the app traces each model's graph on its first request
            processes = {"load_generator": os.getpid(), **({"app": process.pid} if process else {})}
            cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
            load_average = round(os.getloadavg()[0], 1)
            samples = Path(folder) / "profile.raw"
            sampler = start_profile(process.pid, samples) if args.profile and process else None
            started = time.perf_counter()
            results = run_clients(args.client, url, jobs, args.sessions)
            wall = time.perf_counter() - started
            cpu = {name: round(cpu_seconds(pid) - cpu_before[name], 1) for name, pid in processes.items()}
            load_average = [load_average, round(os.getloadavg()[0], 1)]
            profile = stop_profile(sampler, samples) if sampler else None
            burst = asyncio.run(burst_results(url, burst_jobs, args.burst_timeout)) if burst_jobs else None
        finally:
            if process:
                process.terminate()
                process.wait(30)

    all_results = [r for client in results for r in client]
    app_ms = round(1000 * cpu["app"] / len(all_results), 1) if "app" in cpu else None
    report = {
        "url": url,
        "client": args.client,
        "sessions": "one per client" if args.sessions else "none: each call a session of its own",
        "clients": args.clients,
        "rounds": args.rounds,
        "concurrency_limit": app.CONCURRENCY,
        "requests": len(all_results),
        "seconds": round(wall, 1),
        "requests_per_second": round(len(all_results) / wall, 1),
        "endpoints": summarize(all_results, all_jobs),
        "cpu_seconds": cpu,  # during the timed requests
        "app_cpu_ms_per_request": app_ms,
        "direct_floor_ms_per_request": floor,
        "app_vs_floor": round(app_ms / floor["cpu_ms"], 2) if app_ms else None,
        "model_ms": direct_ms,
        "burst": burst and summarize_burst(burst, burst_jobs, app.BUSY_MESSAGE),
        "profile": profile,
        "load_average": load_average,  # the machine's, over a minute, before and after the timed requests
        "cpu_cores": os.cpu_count(),
    }
    print(json.dumps(report, indent=1))
    if args.out:
        from mnistadd.io import read_json, write_json

        # the record's own words stay: its question, rule and verdict
        kept = {key: value for key, value in read_json(args.out, default={}).items() if key in ("question", "rule", "verdict")}
        write_json(args.out, {**kept, **report})


if __name__ == "__main__":
    main()
