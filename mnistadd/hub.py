"""Share the models on the Hugging Face Hub.

    python -m mnistadd.hub card models/reader                      # (re)write models/reader/README.md
    python -m mnistadd.hub push models/reader ORG/NAME [--private]   # card, then upload the folder

A model folder (`models/<name>/`, written whole by `mnistadd.training.save_model_folder`) is already
laid out as a Hub model repo: `model.keras` (and `model.h5`), `config.json`, `metrics.json`,
`history.csv` and the plots. What it lacks is a model card, the repo's `README.md`, which
`mnistadd.cards.write_model_card` builds from those files alone.

`push` uploads a folder to a model repo; `download` (what `mnistadd.load(name, repo_id=...)` calls)
brings a repo back as a local folder, cached by huggingface_hub, so it also works with
`HF_HUB_OFFLINE=1` once pulled. The token comes from `token=`, else `HF_TOKEN`, else the
`hf auth login` cache. Whatever goes wrong on the way (no token, a rejected token, no network, an
unknown repo) comes back as a `HubError` with a one-line message. `push` rewrites the folder's card
only after the Hub has accepted the token, so a push refused for those reasons leaves the folder as it was.
"""

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

import httpx2
from huggingface_hub import HfApi, constants, get_token, snapshot_download
from huggingface_hub.errors import (HfHubHTTPError, HFValidationError, LocalEntryNotFoundError, OfflineModeIsEnabled,
                                    RepositoryNotFoundError, RevisionNotFoundError)

from mnistadd.cards import is_accuracy, metric_name, model_kind, numeric_metrics, write_model_card
from mnistadd.io import read_json
from mnistadd.paths import REQUIRED_FILES

# Never uploaded from a model folder: the atomic writers' temporary files and anything hidden.
IGNORED_FILES = ["*.tmp", ".*"]


class HubError(RuntimeError):
    """A Hub operation failed; the message is one line that says what to do about it."""


# ---------------------------------------------------------------------------------------------------
# Talking to the Hub
# ---------------------------------------------------------------------------------------------------


@contextmanager
def explained(action):
    """Turns what huggingface_hub and the network raise into a HubError whose one line starts with `action`."""
    try:
        yield
    except HFValidationError as error:  # a malformed repo id, refused before any request
        raise HubError(f"{action}: {error}") from error
    except RevisionNotFoundError as error:
        raise HubError(f"{action}: no such revision") from error
    except RepositoryNotFoundError as error:
        raise HubError(f"{action}: repo not found (or private, and the token cannot see it)") from error
    except LocalEntryNotFoundError as error:
        raise HubError(f"{action}: not in the local cache, and the Hub cannot be reached "
                       "(no network, or HF_HUB_OFFLINE is set)") from error
    except HfHubHTTPError as error:
        status = error.response.status_code
        if status == 401:
            raise HubError(f"{action}: the Hub rejected the token (401); set a valid HF_TOKEN or run "
                           "`hf auth login`") from error
        if status == 403:
            raise HubError(f"{action}: the token lacks permission for this repo (403)") from error
        reason = (error.server_message or str(error)).strip().splitlines()
        raise HubError(f"{action}: the Hub answered {status}: {reason[0] if reason else 'no details'}") from error
    except (httpx2.TransportError, OfflineModeIsEnabled) as error:
        raise HubError(f"{action}: cannot reach the Hub at {constants.ENDPOINT} ({type(error).__name__})") from error


def authenticated_api(token):
    """An HfApi with a token (argument, else HF_TOKEN, else the `hf auth login` cache), or a HubError."""
    token = token or get_token()
    if not token:
        raise HubError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (the token needs write access)")
    return HfApi(token=token)


def _key_metrics(folder):
    """The run's top-level scores, for a commit message: "validation number accuracy 0.9853, ..."."""
    metrics = read_json(Path(folder) / "metrics.json", default={})
    return ", ".join(f"{metric_name(split, key)} {value:.4f}" for split, key, value in numeric_metrics(metrics)
                     if isinstance(value, float) and len(key) == 1 and is_accuracy(key))


def push(folder, repo_id, private=False, token=None):
    """Uploads model folder `folder` to the Hub model repo `repo_id`, created if missing, after
    regenerating its card. Returns the commit's URL."""
    folder = Path(folder)
    missing = [name for name in REQUIRED_FILES if not (folder / name).exists()]
    if missing:
        raise HubError(f"{folder} lacks {', '.join(missing)}: not a trained model folder")
    try:
        kind = model_kind(folder, read_json(folder / "config.json"))
    except ValueError as error:
        raise HubError(str(error)) from error
    api = authenticated_api(token)
    with explained(f"push {folder} to {repo_id}"):
        # Creating the repo is the first request: it proves the token and the network before the card is rewritten.
        api.create_repo(repo_id, repo_type="model", exist_ok=True, private=private)
        write_model_card(folder, repo_id)
        # The repo mirrors the folder, which is always written whole: files it no longer has are deleted.
        commit = api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="model",
                                   commit_message=f"Upload {kind}: {_key_metrics(folder) or 'no metrics'}",
                                   ignore_patterns=IGNORED_FILES, delete_patterns=["*"])
    return commit.commit_url


def download(repo_id, revision=None):
    """The local folder holding Hub model repo `repo_id` at `revision` (default: main), downloaded into
    huggingface_hub's cache on first use; with HF_HUB_OFFLINE=1 or no network, the cached copy."""
    with explained(f"download {repo_id}" + (f" at {revision}" if revision else "")):
        return Path(snapshot_download(repo_id, revision=revision))


# ---------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mnistadd.hub", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    card = commands.add_parser("card", help="(re)write a model folder's README.md")
    card.add_argument("folder")
    card.add_argument("--repo-id", help="the repo the card is for (its loading example)")
    push_command = commands.add_parser("push", help="upload a model folder to a Hub model repo")
    push_command.add_argument("folder")
    push_command.add_argument("repo_id", metavar="ORG/NAME")
    push_command.add_argument("--private", action="store_true")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.command == "card":
            print(f"wrote {write_model_card(args.folder, args.repo_id)}")
        else:
            print(push(args.folder, args.repo_id, private=args.private))
    except (HubError, ValueError) as error:  # ValueError: a folder the card cannot be built from
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
