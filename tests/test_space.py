"""The Space (space/app.py) served locally and called through its API with gradio_client, over tiny
untrained stand-in models: the answers are checked for form and consistency, not for being right."""

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image
from space_helpers import make_standin_models, serve_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The app over stand-in models. Random examples load MNIST on first use, during a test, so they
    get conftest's small offline copy (MNISTADD_MNIST_DIR)."""
    demo, url = serve_app(make_standin_models(tmp_path_factory.mktemp("models")))
    yield Client(url, verbose=False)
    demo.close()


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """A drawn "1" (dark pen on white) and a blank canvas, as PNG files, in the sketchpad's value format."""
    folder = tmp_path_factory.mktemp("images")
    one = np.full((200, 600), 255, np.uint8)
    one[40:160, 290:302] = 0
    Image.fromarray(one).save(folder / "one.png")
    Image.fromarray(np.full((200, 600), 255, np.uint8)).save(folder / "blank.png")
    return {name: {"background": None, "layers": [], "composite": handle_file(str(folder / f"{name}.png"))}
            for name in ("one", "blank")}


def test_endpoints_have_stable_names(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/read", "/random_example", "/add", "/sum", "/random_pair"} <= set(endpoints)


def test_add_answers_and_checks_the_answer(client):
    answer, verdict = client.predict(12, 30, api_name="/add")
    assert 0 <= answer <= 999
    assert ("✓ right" in verdict) == (answer == 42)
    assert f"12 + 30 = **{answer}**" in verdict


@pytest.mark.parametrize("a, message", [
    (None, "empty"), ("", "empty"), (-1, "from 0 to 255"), (256, "from 0 to 255"),
    (3.5, "whole number"), ("abc", "whole number"), ("1e9", "from 0 to 255"),
])
def test_add_rejects_bad_numbers_with_a_clear_message(client, a, message):
    with pytest.raises(AppError, match=f"The first number .*{message}"):
        client.predict(a, 1, api_name="/add")


def test_read_a_drawing(client, images):
    number, summary, hundreds, tens, units, seen = client.predict(images["one"], api_name="/read")
    assert 0 <= number <= 255 and f"Read **{number}**" in summary
    for position in (hundreds, tens, units):
        assert len(position["confidences"]) == 3  # the top three classes
    strip = np.asarray(Image.open(seen))
    assert strip.shape[:2] == (28 * 8, 84 * 8) and strip.max() == 255


def test_random_example_knows_its_number(client):
    truth, number, summary, *_ = client.predict(api_name="/random_example")
    assert 0 <= truth <= 255 and 0 <= number <= 255
    assert f"The strip shows **{int(truth)}**" in summary


def test_sum_two_drawings(client, images):
    end_to_end, a, b, pipeline, table, *_ = client.predict(images["one"], images["one"], api_name="/sum")
    assert 0 <= end_to_end <= 510 and 0 <= pipeline <= 999
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
        assert client.predict(1, 2, api_name="/add")[0] >= 0
        with pytest.raises(AppError, match=r"reader model is not available .*train it \(python -m train.reader\)"):
            client.predict(api_name="/random_example")
        with pytest.raises(AppError, match="end2end model is not available .*MNISTADD_END2END_REPO"):
            client.predict(api_name="/random_pair")
        page = httpx.get(url + "config").json()["components"]
        notices = [c["props"]["value"] for c in page if "not available" in str(c["props"].get("value"))]
        assert any("reader" in notice for notice in notices) and any("end2end" in notice for notice in notices)
    finally:
        demo.close()
