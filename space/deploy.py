"""Deploy the demo to a Hugging Face Space, and tell the app where each model comes from.

    python -m space.deploy ORG/SPACE [--bundle-models] [--reader-repo ORG/NAME] ...

`deploy_space` uploads the Gradio demo to a Space repo: the contents of `space/` (`app.py`, `about.py`,
this file, the Space card `README.md`, `requirements.txt`, the examples) at the repo's root, the
`mnistadd/` package beside them, and a `space_config.json` that tells the app where each model comes from:

    {"reader": "ORG/mnistadd-reader", "adder": null, "end2end": null}

A repo id means "load from that Hub model repo"; `null` means "load `models/<name>/` inside the Space",
which `--bundle-models` uploads (what loading, the decline rule, the About tab and the card need) for
each trained model given no repo. A model neither bundled nor given a repo is null too: the app shows it
as unavailable. The app reads the file with `read_space_config()`, where a Space variable
`MNISTADD_<NAME>_REPO` (e.g. `MNISTADD_READER_REPO`) overrides one entry without a new commit; with no
file (running locally), every model is local:

    sources = read_space_config()
    reader = load("reader", repo_id=sources["reader"])   # None: models/reader

Errors come back as `mnistadd.hub.HubError`, one line each, as for the model repos.
"""

import argparse
import fnmatch
import json
import os
import sys
from pathlib import Path

SPACE_DIR = Path(__file__).resolve().parent
SPACE_CONFIG_FILE = "space_config.json"
MODELS = ("reader", "adder", "end2end")
# What a Space needs of a bundled model folder: the model, what its predictor reads (config.json, and the
# reader's calibration.json: without it nothing is declined), the figures About shows (*.json, *.png), the card.
BUNDLED_MODEL_FILES = ("model.keras", "*.json", "README.md", "*.png")


def read_space_config(path=None):
    """Where the Space loads each model from: {"reader": repo id or None, ...}, None meaning
    `models/<name>/` beside the app. Read from `path` (default: space_config.json beside this file),
    then MNISTADD_<NAME>_REPO variables override; no file means every model is local."""
    from mnistadd.io import read_json

    config = read_json(Path(path) if path else SPACE_DIR / SPACE_CONFIG_FILE, default={})
    return {name: os.environ.get(f"MNISTADD_{name.upper()}_REPO") or config.get(name) for name in MODELS}


def space_files(space_dir, models_dir, bundled):
    """{path in the Space repo: local file} for the app, the package and the bundled model folders."""
    import mnistadd

    package_dir = Path(mnistadd.__file__).resolve().parent
    files = {path.relative_to(space_dir).as_posix(): path for path in sorted(space_dir.rglob("*"))
             if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith(".")}
    files.setdefault("deploy.py", Path(__file__).resolve())  # the app reads its space_config.json through it
    files.update({f"mnistadd/{path.relative_to(package_dir).as_posix()}": path
                  for path in sorted(package_dir.rglob("*")) if path.suffix in (".py", ".j2")})
    for name in bundled:
        for path in sorted((models_dir / name).iterdir()):
            if any(fnmatch.fnmatch(path.name, pattern) for pattern in BUNDLED_MODEL_FILES):
                files[f"models/{name}/{path.name}"] = path
    return files


def deploy_space(space_repo_id, model_repos=None, bundle_models=False, private=False, token=None,
                 space_dir=SPACE_DIR, models_dir=None):
    """Uploads the Gradio demo to Space repo `space_repo_id`, created if missing: `space_dir`'s files, the
    mnistadd package and space_config.json, which maps each model to its Hub repo in `model_repos`
    ({"reader": "ORG/NAME", ...}) or to null. With `bundle_models`, the models without a repo are uploaded
    from `models_dir` (default: the project's models/, those trained). Returns the commit's URL."""
    from huggingface_hub import CommitOperationAdd

    from mnistadd.hub import HubError, authenticated_api, explained
    from mnistadd.paths import MODELS_DIR

    space_dir, models_dir, model_repos = Path(space_dir), Path(models_dir or MODELS_DIR), dict(model_repos or {})
    if not space_dir.is_dir() or not any(space_dir.iterdir()):
        raise HubError(f"{space_dir} is missing or empty: no Space app to deploy")
    unknown = sorted(set(model_repos) - set(MODELS))
    if unknown:
        raise HubError(f"unknown models {unknown}; expected some of {', '.join(MODELS)}")
    space_config = {name: model_repos.get(name) for name in MODELS}
    bundled = [name for name, repo in space_config.items()
               if bundle_models and not repo and (models_dir / name / "model.keras").exists()]
    if bundle_models and not bundled and None in space_config.values():
        raise HubError(f"--bundle-models: no trained model folder in {models_dir}")
    operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(local))
                  for path, local in space_files(space_dir, models_dir, bundled).items() if path != SPACE_CONFIG_FILE]
    operations.append(CommitOperationAdd(path_in_repo=SPACE_CONFIG_FILE,
                                         path_or_fileobj=(json.dumps(space_config, indent=2) + "\n").encode()))
    api = authenticated_api(token)
    sources = ", ".join(f"{name}: {repo or (f'models/{name}' if name in bundled else 'none')}"
                        for name, repo in space_config.items())
    with explained(f"deploy the Space {space_repo_id}"):
        api.create_repo(space_repo_id, repo_type="space", space_sdk="gradio", exist_ok=True, private=private)
        commit = api.create_commit(space_repo_id, operations, repo_type="space",
                                   commit_message=f"Deploy the demo ({sources})")
    return commit.commit_url


def main(argv=None):
    from mnistadd.hub import HubError

    parser = argparse.ArgumentParser(prog="python -m space.deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("space_repo_id", metavar="ORG/SPACE")
    parser.add_argument("--bundle-models", action="store_true", help="upload models/<name>/ for models given no repo")
    for name in MODELS:
        parser.add_argument(f"--{name}-repo", metavar="ORG/NAME", help=f"Hub model repo the Space loads the {name} from")
    parser.add_argument("--private", action="store_true")
    args = parser.parse_args(argv)
    model_repos = {name: getattr(args, f"{name}_repo") for name in MODELS if getattr(args, f"{name}_repo")}
    try:
        print(deploy_space(args.space_repo_id, model_repos, args.bundle_models, args.private))
    except HubError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
