"""The Space in a real browser (Playwright driving Debian's Chromium): each tab used as a person would,
the answers read off the page, and a screenshot per tab saved in pytest's temporary directory.

On tiny stand-in models by default. The README's screenshots are this test on the trained models:

    MNISTADD_BROWSER_MODELS=models MNISTADD_SCREENSHOTS=docs/screenshots python -m pytest tests/test_browser.py
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from space_helpers import make_standin_models, serve_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT_MS = 60_000  # the first request of each kind traces a TensorFlow graph, slow on a busy 2-core machine

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):

    models = os.environ.get("MNISTADD_BROWSER_MODELS") or make_standin_models(tmp_path_factory.mktemp("models"))
    demo, url = serve_app(models)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1200})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        yield page
        browser.close()
    demo.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    folder = Path(os.environ.get("MNISTADD_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


def button(page, name):
    return page.get_by_role("button", name=name, exact=True)


def expect_error(page, text):
    """Waits for gradio's error toast saying `text`, then closes it."""
    toast = page.get_by_test_id("toast-body").filter(has_text=text)
    toast.wait_for()
    toast.get_by_test_id("toast-close").click()
    toast.wait_for(state="detached")


def test_read_a_number(page, screenshots):
    page.get_by_role("tab", name="Read a number").click()
    button(page, "Read").click()
    expect_error(page, "draw or upload a number")

    button(page, "Brush").first.click()
    canvas = page.locator("canvas").first.bounding_box()
    x, y = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    page.mouse.move(x, y - 100)
    page.mouse.down()
    page.mouse.move(x, y + 100, steps=10)  # a "1"
    page.mouse.up()
    button(page, "Read").click()
    page.get_by_text(re.compile(r"Read \d+ with [\d.]+% confidence")).wait_for()
    number = page.get_by_label("Number read").input_value()
    assert page.get_by_text(f"Read {number} with").is_visible()

    button(page, "Random example").click()
    summary = page.get_by_text(re.compile(r"The strip shows \d+\. Read \d+"))
    summary.wait_for()
    page.screenshot(path=screenshots / "1-read.png", full_page=True)


def fill(page, label, text, tries=5):
    """Types into a number box. A tab mounts its components lazily and gradio then sets their initial
    values, which can overwrite what was typed first: type again until the value holds."""
    box = page.get_by_label(label)
    for _ in range(tries - 1):
        box.fill(text)
        try:
            expect(box).to_have_value(text, timeout=2000)
            page.wait_for_timeout(300)
            expect(box).to_have_value(text, timeout=100)
            return
        except AssertionError:
            continue
    box.fill(text)
    expect(box).to_have_value(text)


def test_add_two_numbers(page, screenshots):
    page.get_by_role("tab", name="Add two numbers").click()
    fill(page, "First number (0-255)", "300")
    button(page, "Add").click()
    expect_error(page, "must be from 0 to 255")

    fill(page, "First number (0-255)", "12")
    fill(page, "Second number (0-255)", "30")
    button(page, "Add").click()
    verdict = page.get_by_text(re.compile(r"The adder says 12 \+ 30 = \d+"))
    verdict.wait_for()
    answer = page.get_by_label("The adder's answer").input_value()
    assert f"= {answer}" in verdict.inner_text()
    assert ("✓ right" in verdict.inner_text()) == (answer == "42")
    page.screenshot(path=screenshots / "2-add.png", full_page=True)


def test_sum_two_images(page, screenshots):
    page.get_by_role("tab", name="Sum two images").click()
    button(page, "Sum").click()
    expect_error(page, "The first image: The image is blank")

    button(page, "Random pair").click()
    page.get_by_text(re.compile(r"Against the true \d+ \+ \d+ = \d+")).wait_for()
    end_to_end = page.get_by_label("End-to-end model's sum").input_value()
    assert page.get_by_role("cell", name=re.compile(rf"^{end_to_end} \(")).is_visible()
    page.screenshot(path=screenshots / "3-sum.png", full_page=True)


def test_about(page, screenshots):
    page.get_by_role("tab", name="About").click()
    for name in ("reader", "adder", "end2end"):
        page.get_by_role("heading", name=name, exact=True).wait_for()
    assert page.get_by_role("cell", name=re.compile(r"^(test|validation)\.")).first.is_visible()
    page.screenshot(path=screenshots / "4-about.png", full_page=True)
