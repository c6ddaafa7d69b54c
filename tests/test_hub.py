"""mnistadd.hub and space/deploy.py against a local fake Hub (tests/fake_hub.py): push a tiny trained reader,
pull it back into a fresh cache, and check the card (mnistadd.cards), the Space upload and every error path."""

import hashlib
import json
import re
import shutil
import socket

import numpy as np
import pytest
from huggingface_hub import ModelCard, constants

from fake_hub import FakeHub
from mnistadd import cards, hub
from space import deploy

TOKEN = "hf_fake_write_token"


@pytest.fixture(scope="module")
def fake_hub():
    server = FakeHub(token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def hub_settings(monkeypatch, tmp_path, fake_hub):
    """huggingface_hub reads its settings once, at import: point them at the fake Hub, a fresh cache and
    token file for each test, and turn Xet off so that uploads go through the commit API the fake speaks."""
    home = tmp_path / "hf_home"
    settings = {
        "ENDPOINT": fake_hub.endpoint,
        "HUGGINGFACE_CO_URL_TEMPLATE": fake_hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_OFFLINE": False,
    }
    for name, value in settings.items():
        monkeypatch.setattr(constants, name, value)
    for name in ("HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_TOKEN", TOKEN)


def reader_config():
    return {
        "model": "reader",
        "architecture": {"arch": "cnn", "filters": 4, "blocks": 2, "dense": 8, "batch_norm": True},
        "input": {"shape": [28, 84], "dtype": "float32", "pixels": "raw 0-255, ink high, background 0"},
        "output": "position probabilities (3, 11): hundreds, tens, units; class 10 = blank",
        "training": {"epochs": 3, "steps_per_epoch": 2, "batch_size": 8, "mnist_dir": None},
        "environment": {"python": "3.11", "tensorflow": "2.21.0", "keras": "3.15.1", "accelerators": []},
    }


METRICS = {
    "validation": {"val_number_accuracy": 0.5, "val_images": 8},
    "test": {"number_accuracy": 0.25, "images": 8, "by_length": {"1": 0.75, "3": 0.125}},
}


@pytest.fixture(scope="module")
def trained_reader(tmp_path_factory):
    """A tiny reader fitted for one step on random strips, saved as a model folder: its path."""
    import keras

    from mnistadd.reader import NUMBER_CLASSES, build_reader
    from mnistadd.training import inference_copy, save_model_folder

    keras.utils.set_random_seed(0)
    model = build_reader(filters=4, blocks=2, dense=8)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    model.fit(rng.uniform(0, 255, (8, 28, 84)).astype("float32"), NUMBER_CLASSES[rng.integers(0, 256, 8)],
              batch_size=8, epochs=1, verbose=0)
    work = tmp_path_factory.mktemp("reader_run")
    history = work / "history.csv"
    history.write_text("epoch,loss,number_accuracy\n0,2.4,0.0\n1,2.3,0.125\n")
    folder = save_model_folder(work / "models" / "reader", inference_copy(model), reader_config(), METRICS, history,
                               [("history.png", lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\n"))])
    return folder


def file_hashes(folder):
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir()}


def free_port():
    """A local port nothing listens on: connecting to it is refused, as with no network."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def table_row(*cells):
    """A Markdown table row of these cells, however tabulate pads them."""
    return re.compile(r"\|\s*" + r"\s*\|\s*".join(map(re.escape, cells)) + r"\s*\|")


def assert_one_line(error, *words):
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message


# The model card ------------------------------------------------------------------------------------


def test_card_comes_from_the_folders_files(tmp_path):
    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(reader_config()))
    (folder / "metrics.json").write_text(json.dumps(METRICS))
    (folder / "history.csv").write_text("epoch,loss\n0,2.4\n1,2.3\n")
    (folder / "filters.png").write_bytes(b"png")

    path = cards.write_model_card(folder, repo_id="org/mnistadd-reader")
    card = ModelCard.load(path)

    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "filters.png", "history.csv",
                                                        "metrics.json"]  # no temporary file left behind
    data = card.data.to_dict()
    assert (data["library_name"], data["license"], data["datasets"]) == ("keras", "mit", ["mnist"])
    assert {"mnist", "keras", "reader"} <= set(data["tags"])
    scores = {r.metric_name: (r.dataset_split, r.metric_value) for r in card.data.eval_results}
    assert scores == {"validation number accuracy": ("validation", 0.5), "test number accuracy": ("test", 0.25)}
    assert card.data.model_name == "mnistadd-reader"
    text = card.text
    for expected in ["shape: [28, 84]", "2 epochs of 2 steps of 8: 32 examples drawn",
                     "![First convolution's filters](filters.png)", "## Limitations",
                     'load("reader", repo_id="org/mnistadd-reader")', "Saved with TensorFlow 2.21.0 and Keras 3.15.1."]:
        assert expected in text
    for cells in (("blocks", "2"), ("batch_size", "8"), ("validation", "val_images", "8"),
                  ("test", "by_length/3", "0.125"), ("python", "3.11"), ("tensorflow", "2.21.0")):
        assert table_row(*cells).search(text), cells
    assert "How to reproduce" not in text  # no recipe in this config.json
    assert path.read_text() == str(cards.build_model_card(folder, "org/mnistadd-reader"))  # same files, same card


def test_model_index_lists_only_accuracies(tmp_path):
    """Seconds, counts, fractions that are not accuracies (lucky_fraction), spreads over seeds and the
    pipeline compared with are in the card's table, but not published as the model's results."""
    folder = tmp_path / "end2end"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model": "end2end"}))
    (folder / "metrics.json").write_text(json.dumps({
        "validation": {"val_sum_accuracy": 0.9, "val_sum_accuracy_at_start": 0.5, "train_seconds_this_run": 12},
        "test": {"sum_accuracy": 0.8, "lucky_fraction": 0.01, "predict_seconds": 3.25, "sum_accuracy_std": 0.02,
                 "pipeline_sum_accuracy": 0.85, "pairs": 64}}))
    card = cards.build_model_card(folder)
    assert {(r.dataset_split, r.metric_type) for r in card.data.eval_results} == {
        ("validation", "val_sum_accuracy"), ("test", "sum_accuracy")}
    assert table_row("test", "predict_seconds", "3.25").search(card.text)
    assert table_row("test", "lucky_fraction", "0.01").search(card.text)


def test_card_names_the_recipe_and_its_time(tmp_path):
    folder = tmp_path / "reader"
    folder.mkdir()
    recipe = {"name": "reader", "command": "python -m train.reader", "train_seconds": 3 * 3600 + 1260}
    (folder / "config.json").write_text(json.dumps({**reader_config(), "recipe": recipe}))
    text = cards.build_model_card(folder).text
    assert "`python -m train.reader` (the recipe `reader`) trains this model in 3.4 h on 2 CPU cores." in text


def test_card_tolerates_missing_keys_and_files(tmp_path):
    folder = tmp_path / "adder"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architecture": {"cell": "lstm"}}))

    card = ModelCard.load(cards.write_model_card(folder))

    assert "model-index" not in card.data.to_dict() and card.data.datasets is None
    assert "adds two numbers" in card.text and "No measurements recorded" in card.text
    assert 'load("adder", repo_id="ORG/NAME")' in card.text


def test_card_names_an_unknown_model(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model": "classifier"}))
    with pytest.raises(ValueError) as error:
        cards.write_model_card(tmp_path)
    assert_one_line(error, "classifier", "reader")


# Push and pull -------------------------------------------------------------------------------------


def test_push_then_load_gives_the_same_predictions(trained_reader, fake_hub, monkeypatch):
    import keras

    from mnistadd import load
    from mnistadd.reader import read_numbers

    folder = trained_reader
    fake_hub.add_repo("org/tiny-reader", {"activations.png": b"from an older run"})
    url = hub.push(folder, "org/tiny-reader")

    pushed = fake_hub.files("org/tiny-reader")
    assert url == f"{fake_hub.endpoint}/org/tiny-reader/commit/{fake_hub.repos[('model', 'org/tiny-reader')].sha}"
    assert set(pushed) == {p.name for p in folder.iterdir()} and "README.md" in pushed  # the stale plot is gone
    assert b"org/tiny-reader" in pushed["README.md"]

    reader = load("reader", repo_id="org/tiny-reader")
    pixels = np.random.default_rng(1).uniform(0, 255, (16, 28, 84)).astype("float32")
    expected = keras.saving.load_model(folder / "model.keras", compile=False).predict(pixels, verbose=0)  # as saved
    numbers, _, probs = reader.read(pixels)
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(numbers, read_numbers(expected)[0])

    card = ModelCard.load(hub.download("org/tiny-reader") / "README.md")
    assert card.data.model_name == "tiny-reader"
    assert {(r.metric_name, r.metric_value) for r in card.data.eval_results} >= {
        ("validation number accuracy", 0.5), ("test number accuracy", 0.25)}

    # Once pulled, the cache serves it offline, without a single request.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    requests = fake_hub.requests
    np.testing.assert_array_equal(load("reader", repo_id="org/tiny-reader").predict(pixels), numbers)
    assert fake_hub.requests == requests


def test_push_without_a_token_leaves_the_folder_alone(trained_reader, monkeypatch):
    folder = trained_reader
    monkeypatch.delenv("HF_TOKEN")
    before = file_hashes(folder)
    with pytest.raises(hub.HubError) as error:
        hub.push(folder, "org/no-token")
    assert_one_line(error, "no Hugging Face token", "HF_TOKEN", "hf auth login")
    assert file_hashes(folder) == before


def test_push_with_a_rejected_token_leaves_the_folder_alone(trained_reader, fake_hub, monkeypatch):
    folder = trained_reader
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    before = file_hashes(folder)
    with pytest.raises(hub.HubError) as error:
        hub.push(folder, "org/bad-token")
    assert_one_line(error, "rejected the token", "401")
    assert file_hashes(folder) == before and ("model", "org/bad-token") not in fake_hub.repos


def test_push_without_network_leaves_the_folder_alone(trained_reader, monkeypatch):
    folder = trained_reader
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{free_port()}")
    before = file_hashes(folder)
    with pytest.raises(hub.HubError) as error:
        hub.push(folder, "org/offline")
    assert_one_line(error, "cannot reach the Hub")
    assert file_hashes(folder) == before


def test_push_refuses_a_folder_without_a_model(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model": "reader"}))
    with pytest.raises(hub.HubError) as error:
        hub.push(tmp_path, "org/empty")
    assert_one_line(error, "lacks model.keras")


def test_pulling_a_repo_without_the_model_file_names_it(fake_hub):
    from mnistadd import load

    fake_hub.add_repo("org/config-only", {"config.json": b'{"model": "reader"}'})
    with pytest.raises(FileNotFoundError, match="model.keras"):
        load("reader", repo_id="org/config-only")


def test_pulling_a_missing_repo_says_so():
    with pytest.raises(hub.HubError) as error:
        hub.download("org/does-not-exist")
    assert_one_line(error, "org/does-not-exist", "repo not found")
    with pytest.raises(hub.HubError) as error:
        hub.download("org/not a repo id")
    assert_one_line(error, "Repo id must")


def test_pulling_offline_what_was_never_cached_says_so(fake_hub, monkeypatch):
    fake_hub.add_repo("org/never-pulled", {"config.json": b"{}"})
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(hub.HubError) as error:
        hub.download("org/never-pulled")
    assert_one_line(error, "not in the local cache")


# The Space -----------------------------------------------------------------------------------------


def test_deploy_space_uploads_app_package_config_and_bundled_models(trained_reader, fake_hub, tmp_path):
    folder = tmp_path / "models" / "reader"
    shutil.copytree(trained_reader, folder)
    space = tmp_path / "space"
    space.mkdir()
    (space / "app.py").write_text("import gradio\n")
    (space / "README.md").write_text("---\nsdk: gradio\napp_file: app.py\n---\n# Demo\n")
    (space / "requirements.txt").write_text("gradio\n")
    (folder / "calibration.json").write_text('{"temperature": 1.0}')  # the decline rule travels with the model

    url = deploy.deploy_space("org/demo", {"adder": "org/mnistadd-adder"}, bundle_models=True,
                              space_dir=space, models_dir=folder.parent)

    files = fake_hub.files("org/demo", repo_type="space")
    assert url.startswith(f"{fake_hub.endpoint}/spaces/org/demo/commit/")
    assert {"app.py", "deploy.py", "README.md", "requirements.txt", "mnistadd/hub.py", "mnistadd/api.py",
            "mnistadd/templates/model_card.md.j2",
            "models/reader/model.keras", "models/reader/config.json", "models/reader/calibration.json",
            "models/reader/history.png"} <= set(files)
    assert "models/reader/history.csv" not in files
    config = json.loads(files["space_config.json"])
    assert config == {"reader": None, "adder": "org/mnistadd-adder", "end2end": None}

    config_file = tmp_path / "space_config.json"
    config_file.write_bytes(files["space_config.json"])
    assert deploy.read_space_config(config_file) == config


def test_space_config_variables_override_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTADD_READER_REPO", "org/other-reader")
    assert deploy.read_space_config(tmp_path / "missing.json") == {"reader": "org/other-reader", "adder": None,
                                                                "end2end": None}


def test_deploy_space_needs_an_app(tmp_path):
    with pytest.raises(hub.HubError) as error:
        deploy.deploy_space("org/demo", space_dir=tmp_path / "space")
    assert_one_line(error, "no Space app")


# Command line --------------------------------------------------------------------------------------


def test_cli_writes_the_card(trained_reader, capsys):
    folder = trained_reader
    hub.main(["card", str(folder), "--repo-id", "org/cli-reader"])
    assert "wrote" in capsys.readouterr().out
    card = (folder / "README.md").read_text()
    assert 'repo_id="org/cli-reader"' in card and "Dense kernels are stored in int8" in card


def test_cli_reports_errors_in_one_line(trained_reader, monkeypatch, capsys):
    folder = trained_reader
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(SystemExit) as exit_info:
        hub.main(["push", str(folder), "org/cli-no-token"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no Hugging Face token") and err.count("\n") == 1 and "Traceback" not in err
