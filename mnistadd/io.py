"""Files written whole or not at all, and the JSON records every part of the project shares."""

import contextlib
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """A temporary path beside `path` for a writer to fill; renamed over `path` when the block ends
    without error, removed otherwise. The result is readable by all (644), as a model repo's files are."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(staging)
        os.chmod(staging, 0o644)
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(staging)
        raise


def write_text_atomic(path, text):
    with atomic_path(path) as staging:
        staging.write_text(text, encoding="utf-8")


def write_json(path, data):
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def read_json(path, default=None):
    """A JSON file's content; `default` when given and the file is missing. A file that is not valid
    JSON raises a ValueError that names it."""
    path = Path(path)
    if default is not None and not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error


DECISION_FIELDS = ("question", "rule", "verdict")  # an experiment record's own words (experiments/*.json)


def write_record(path, data):
    """Writes an experiment record, keeping the question, rule and verdict that the record at `path`
    already states and `data` does not: a script that measures again must not erase why it was run."""
    kept = {key: value for key, value in read_json(path, default={}).items() if key in DECISION_FIELDS and key not in data}
    write_json(path, {**kept, **data})
