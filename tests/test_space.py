"""The Space (space/app.py) served locally and called through its API with gradio_client, over tiny
untrained stand-in models: the answers are checked for form and consistency, not for being right."""

import json
import time

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image
from space_helpers import make_standin_models, serve_app

from benchmarks import drawn_accuracy, space_load
from mnistadd.abstention import CALIBRATION_FILE
from mnistadd.io import write_json


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The app over stand-in models. Random examples load MNIST on first use, during a test, so they
    get conftest's small offline copy (MNISTADD_MNIST_DIR)."""
    demo, url = serve_app(make_standin_models(tmp_path_factory.mktemp("models")))
    yield Client(url, verbose=False)
    demo.close()


@pytest.fixture(scope="module")
def declining_client(tmp_path_factory):
    """The app over stand-in models whose reader's calibration declines every image."""
    models = make_standin_models(tmp_path_factory.mktemp("models"))
    write_json(models / "reader" / CALIBRATION_FILE,
               {"temperature": 1.0, "rule": {"weights": {"number": 0.0}, "bias": 0.0, "threshold": 1.0}})
    demo, url = serve_app(models)
    yield Client(url, verbose=False)
    demo.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A drawn "1" (dark pen on white), a blank canvas, a file that is no image, and a 4000x3000 JPEG
    photo of a "1" (ink on gray paper)."""
    folder = tmp_path_factory.mktemp("images")
    one = np.full((200, 600), 255, np.uint8)
    one[40:160, 290:302] = 0
    Image.fromarray(one).save(folder / "one.png")
    Image.fromarray(np.full((200, 600), 255, np.uint8)).save(folder / "blank.png")
    (folder / "notes.png").write_text("not an image")
    photo = np.full((3000, 4000, 3), 200, np.uint8)
    photo[800:2200, 1900:2050] = 30
    Image.fromarray(photo).save(folder / "photo.jpg", quality=95)
    return {path.stem: path for path in folder.iterdir()}


@pytest.fixture(scope="module")
def images(files):
    """The files in the sketchpad's value format."""
    return {name: {"background": None, "layers": [], "composite": handle_file(str(path))} for name, path in files.items()}


def test_endpoints_have_stable_names(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/read", "/read_photo", "/random_example", "/add", "/sum", "/random_pair"} <= set(endpoints)


def test_every_output_has_a_meaningful_name(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for name, endpoint in endpoints.items():
        for output in endpoint["returns"]:
            assert output["label"] and not output["label"].startswith("value_"), (name, output)


def test_add_answers_and_checks_the_answer(client):
    answer, verdict = client.predict(12, 30, api_name="/add")
    assert 0 <= int(answer) <= 999  # numbers come as text: None where there is no answer
    assert ("✓ right" in verdict) == (answer == "42")
    assert f"12 + 30 = **{answer}**" in verdict


@pytest.mark.parametrize("a, message", [
    (None, "empty"), ("", "empty"), (-1, "from 0 to 255"), (256, "from 0 to 255"),
    (3.5, "whole number"), ("abc", "whole number"), ("1e9", "from 0 to 255"),
])
def test_add_rejects_bad_numbers_with_a_clear_message(client, a, message):
    with pytest.raises(AppError, match=f"The first number .*{message}"):
        client.predict(a, 1, api_name="/add")


@pytest.mark.parametrize("text", ["x" * 100_000, "9" * 5_000])
def test_a_long_input_is_not_echoed_back(client, text):
    with pytest.raises(AppError) as error:
        client.predict(text, 1, api_name="/add")
    assert "whole number from 0 to 255" in str(error.value) and len(str(error.value)) < 200


def test_read_a_drawing(client, images):
    number, summary, hundreds, tens, units, seen = client.predict(images["one"], api_name="/read")
    assert 0 <= int(number) <= 255 and f"Read **{number}**" in summary
    for position in (hundreds, tens, units):
        assert len(position["confidences"]) == 3  # the top three classes
    strip = np.asarray(Image.open(seen))
    assert strip.shape[:2] == (28, 84) and strip.max() == 255  # the page enlarges it


def test_a_phone_photo_is_read_within_seconds(client, files, images):
    """4000x3000, as an upload (/read_photo) and as a sketchpad value (/read): downscaled first."""
    for endpoint, argument in (("/read_photo", handle_file(str(files["photo"]))), ("/read", images["photo"])):
        started = time.perf_counter()
        number, summary, *_ = client.predict(argument, api_name=endpoint)
        assert time.perf_counter() - started < 10 and f"Read **{number}**" in summary


def test_a_file_that_is_no_image_is_told_so(client, files, images):
    with pytest.raises(AppError, match="not an image"):
        client.predict(handle_file(str(files["notes"])), api_name="/read_photo")
    with pytest.raises(AppError, match="not an image"):
        client.predict(images["notes"], api_name="/read")


def test_a_declined_image_has_no_number_and_a_guess(declining_client, images):
    number, summary, *_ = declining_client.predict(images["one"], api_name="/read")
    assert number is None
    assert "Not sure: this does not look like a number from 0 to 255" in summary and "Best guess:" in summary
    end_to_end, a, b, pipeline, table, *_ = declining_client.predict(images["one"], images["one"], api_name="/sum")
    assert end_to_end is None and a is None and b is None and pipeline is None
    assert "not sure: the first image and the second image" in table
    truth, number, summary, *_ = declining_client.predict(api_name="/random_example")
    assert 0 <= truth <= 255 and number is None and "Not sure" in summary


def test_the_load_benchmark_clients_get_the_apps_answers(client, files):
    """Both kinds of load-generating client (gradio_client threads, HTTP tasks) on the same requests: the
    same answers, and an error reported as one, not raised."""
    jobs = [("/read", (files["one"],), None, None), ("/add", (3, 4), None, None),
            ("/sum", (files["one"], files["one"]), None, None), ("/read", (files["notes"],), None, None)]
    answers = {kind: [answer for _, _, answer in space_load.run_clients(kind, client.src, [jobs, jobs])[1]]
               for kind in ("http", "gradio_client")}
    assert answers["http"][:3] == answers["gradio_client"][:3]  # untrained stand-ins: the same, not right
    assert all(isinstance(answer, int) for answer in answers["http"][:3])
    assert all(isinstance(answers[kind][3], str) and "not an image" in answers[kind][3] for kind in answers)


def test_drawn_benchmark_compares_ink_heights_on_validation_digits(tmp_path):
    """`benchmarks.drawn_accuracy --split val --target-heights`: one figure per height, written only to the
    file named (validation figures never replace the reader's test figure)."""
    models = make_standin_models(tmp_path / "models", names=("reader",))
    argv = ["--split", "val", "--numbers", "6", "--models-dir", str(models), "--target-heights", "20", "22"]
    with pytest.raises(SystemExit):  # no --out: refused before anything is measured
        drawn_accuracy.main(argv)
    drawn_accuracy.main(argv + ["--out", str(tmp_path / "heights.json")])
    report = json.loads((tmp_path / "heights.json").read_text())
    assert report["split"] == "val" and set(report["drawn_to_strip_by_target_height"]) == {"20", "22"}
    assert 17 <= report["course_strips_ink_height_median"] <= 28
    assert not (models / "reader" / "drawn_accuracy.json").exists()


def test_random_example_knows_its_number(client):
    truth, number, summary, *_ = client.predict(api_name="/random_example")
    assert 0 <= truth <= 255 and 0 <= int(number) <= 255
    assert f"The strip shows **{int(truth)}**" in summary


def test_sum_two_drawings(client, images):
    end_to_end, a, b, pipeline, table, *_ = client.predict(images["one"], images["one"], api_name="/sum")
    assert 0 <= int(end_to_end) <= 510 and 0 <= int(pipeline) <= 999
    assert a == b  # the same drawing twice
    assert f"adder({int(a)}, {int(b)})" in table


def test_random_pair_reports_the_true_sum(client):
    true_a, true_b, *_, table, _, _ = client.predict(api_name="/random_pair")
    assert f"{int(true_a)} + {int(true_b)} = {int(true_a + true_b)}" in table


def test_blank_images_ask_for_a_number(client, images):
    with pytest.raises(AppError, match="draw or upload a number"):
        client.predict(images["blank"], api_name="/read")
    with pytest.raises(AppError, match="The second image: .*draw or upload a number"):
        client.predict(images["one"], images["blank"], api_name="/sum")
    with pytest.raises(AppError, match="draw or upload a number"):
        client.predict(None, api_name="/read")


def test_app_starts_without_a_model_and_says_how_to_get_it(tmp_path):
    demo, url = serve_app(make_standin_models(tmp_path, names=["adder"]))
    try:
        assert httpx.get(url).status_code == 200
        client = Client(url, verbose=False)
        assert int(client.predict(1, 2, api_name="/add")[0]) >= 0
        with pytest.raises(AppError, match=r"reader model is not available .*repo_id=.*models_dir=.*MNISTADD_MODELS_DIR"):
            client.predict(api_name="/random_example")
        with pytest.raises(AppError, match="end2end model is not available .*MNISTADD_END2END_REPO"):
            client.predict(api_name="/random_pair")
        page = httpx.get(url + "config").json()["components"]
        notices = [c["props"]["value"] for c in page if "not available" in str(c["props"].get("value"))]
        assert any("reader" in notice for notice in notices) and any("end2end" in notice for notice in notices)
    finally:
        demo.close()
