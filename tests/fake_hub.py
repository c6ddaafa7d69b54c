"""A stand-in for the Hugging Face Hub, for tests: a local HTTP server speaking the part of the Hub's API
that huggingface_hub 2.x uses to create a repo, commit files and download a snapshot.

    hub = FakeHub(token="hf_test").start()   # hub.endpoint is http://127.0.0.1:<port>
    ...                                      # point huggingface_hub.constants.ENDPOINT at it
    hub.files("org/name")                    # {path: bytes} of a repo's latest commit
    hub.stop()

Every file goes inline: preupload answers "regular" for each, so commits carry base64 contents in their
NDJSON body and nothing takes the LFS or Xet paths (the client must also run with Xet disabled, as
huggingface_hub uses Xet for `upload_folder` whenever hf_xet is installed). Downloads answer with the
headers huggingface_hub requires of a Hub: X-Repo-Commit, ETag (the file's git blob id) and
Content-Length. Writes need the token; reads are public, but a wrong token is refused, as on the Hub.
"""

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

REPO = r"(?P<repo>[^/]+/[^/]+)"
API_REPO = rf"/api/(?P<type>model|dataset|space)s/{REPO}"
# The URL prefix of repo pages and downloads, by repo type: models have none.
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}


def git_blob_id(content):
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Repo:
    files: dict = field(default_factory=dict)  # path -> bytes, at the latest commit
    commits: list = field(default_factory=list)  # commit ids, oldest first

    @property
    def sha(self):
        return self.commits[-1] if self.commits else "0" * 40


class FakeHub:
    def __init__(self, token):
        self.token = token
        self.repos = {}  # (repo type, repo id) -> Repo
        self.requests = 0
        self.lock = threading.Lock()

    def start(self):
        handler = type("Handler", (HubRequestHandler,), {"hub": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def add_repo(self, repo_id, files, repo_type="model"):
        """Creates a repo holding `files` ({path: bytes}) in one commit, without going through the API."""
        with self.lock:
            repo = self.repos.setdefault((repo_type, repo_id), Repo())
            self.commit_files(repo, files, "seed")

    def files(self, repo_id, repo_type="model"):
        return dict(self.repos[(repo_type, repo_id)].files)

    def commit_files(self, repo, added, summary, deleted=()):
        for path in deleted:
            repo.files = {p: c for p, c in repo.files.items() if p != path and not p.startswith(path.rstrip("/") + "/")}
        repo.files.update(added)
        digest = hashlib.sha1(repo.sha.encode() + summary.encode())
        for path in sorted(repo.files):
            digest.update(path.encode() + git_blob_id(repo.files[path]).encode())
        repo.commits.append(digest.hexdigest())


class HubRequestHandler(BaseHTTPRequestHandler):
    hub = None  # set per server by FakeHub.start

    def log_message(self, format, *args):  # keep the test output clean
        pass

    # Routing ----------------------------------------------------------------------------------------

    def do_POST(self):
        self._route([
            (r"/api/repos/create", self.create_repo),
            (r"/api/validate-yaml", lambda: self.send_json({})),
            (rf"{API_REPO}/preupload/(?P<rev>[^/]+)", self.preupload),
            (rf"{API_REPO}/commit/(?P<rev>[^/]+)", self.commit),
        ])

    def do_GET(self):
        self._route([
            (rf"{API_REPO}(?:/revision/(?P<rev>[^/]+))?", self.repo_info),
            (rf"{API_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?", self.tree),
            (rf"/(?P<prefix>datasets/|spaces/)?{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)", self.resolve),
        ])

    def do_HEAD(self):
        self.do_GET()

    def _route(self, routes):
        with self.hub.lock:
            self.hub.requests += 1
        path = unquote(urlsplit(self.path).path)
        for pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match:
                if self._authorized(write=self.command == "POST"):
                    handler(**match.groupdict())
                return
        self.send_error_code(404, "NotFound", f"no route for {self.command} {path}")

    def _authorized(self, write):
        header = self.headers.get("authorization")
        if header is None and not write:
            return True
        if header != f"Bearer {self.hub.token}":
            message = "Invalid credentials in Authorization header" if header else "Invalid username or password."
            self.send_error_code(401, None, message)
            return False
        return True

    # Responses --------------------------------------------------------------------------------------

    def send_json(self, data, status=200, headers=()):
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error_code(self, status, error_code, message, headers=()):
        """An error the way the Hub sends one: X-Error-Code names it for huggingface_hub's exceptions."""
        headers = [("X-Error-Message", message), *headers] + ([("X-Error-Code", error_code)] if error_code else [])
        self.send_json({"error": message}, status, headers)

    def read_body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def find_repo(self, type, repo, rev="main"):
        """The repo, or None after answering 404 when it or its revision does not exist."""
        found = self.hub.repos.get((type, repo))
        if found is None:
            self.send_error_code(404, "RepoNotFound", "Repository not found")
        elif rev not in ("main", found.sha):
            self.send_error_code(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        else:
            return found
        return None

    # Endpoints --------------------------------------------------------------------------------------

    def create_repo(self):
        request = json.loads(self.read_body())
        repo_type = request.get("type") or "model"
        repo_id = f"{request['organization']}/{request['name']}"
        url = f"{self.hub.endpoint}/{URL_PREFIXES[repo_type]}{repo_id}"
        with self.hub.lock:
            exists = (repo_type, repo_id) in self.hub.repos
            self.hub.repos.setdefault((repo_type, repo_id), Repo())
        if exists:  # the Hub's 409 carries the URL too: create_repo(exist_ok=True) returns it
            self.send_json({"error": "You already created this repo", "url": url}, 409)
        else:
            self.send_json({"url": url})

    def preupload(self, type, repo, rev):
        if self.find_repo(type, repo, rev):
            files = json.loads(self.read_body())["files"]
            self.send_json({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                      for f in files]})

    def commit(self, type, repo, rev):
        found = self.find_repo(type, repo, rev)
        if not found:
            return
        lines = [json.loads(line) for line in self.read_body().splitlines() if line.strip()]
        summary = next(line["value"]["summary"] for line in lines if line["key"] == "header")
        added, deleted = {}, []
        for line in lines:
            value = line["value"]
            if line["key"] == "file":
                added[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] in ("deletedFile", "deletedFolder"):
                deleted.append(value["path"])
            elif line["key"] != "header":  # lfsFile: preupload never asks for LFS
                return self.send_error_code(400, None, f"this fake Hub takes inline files only, got {line['key']}")
        with self.hub.lock:
            self.hub.commit_files(found, added, summary, deleted)
            sha = found.sha
        url = f"{self.hub.endpoint}/{URL_PREFIXES[type]}{repo}/commit/{sha}"
        self.send_json({"commitUrl": url, "commitOid": sha, "pullRequestUrl": None})

    def repo_info(self, type, repo, rev=None):
        found = self.find_repo(type, repo, rev or "main")
        if found:
            self.send_json({"id": repo, "sha": found.sha, "private": False,
                            "siblings": [{"rfilename": path} for path in sorted(found.files)]})

    def tree(self, type, repo, rev, path=None):
        found = self.find_repo(type, repo, rev)
        if found:
            prefix = f"{path.rstrip('/')}/" if path else ""
            self.send_json([{"type": "file", "path": p, "size": len(content), "oid": git_blob_id(content)}
                            for p, content in sorted(found.files.items()) if p.startswith(prefix)])

    def resolve(self, repo, rev, path, prefix=None):
        repo_type = {"datasets/": "dataset", "spaces/": "space"}.get(prefix, "model")
        found = self.find_repo(repo_type, repo, rev)
        if not found:
            return
        if path not in found.files:
            return self.send_error_code(404, "EntryNotFound", f"{path} does not exist",
                                        [("X-Repo-Commit", found.sha)])
        content = found.files[path]
        self.send_response(200)
        self.send_header("X-Repo-Commit", found.sha)
        self.send_header("ETag", f'"{git_blob_id(content)}"')
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(content)
