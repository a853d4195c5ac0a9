"""A loopback stand-in for a forge's REST API and its git server.

Used by tests/integration/forges.rs. One process serves, on one port:

- the listing endpoint(s) of one forge kind (github, gitlab, gitea,
  bitbucket, azure) with that forge's real pagination (Link headers,
  x-next-page, `next` URLs in the body, x-ms-continuationtoken), its auth
  header, and its error answers (401
  without the token, 403/429 rate limits with a reset, 404 for unknown
  paths, 5xx for the first requests when asked);
- git repositories under /git/ through `git http-backend` (the smart HTTP
  protocol), requiring HTTP Basic with the forge's git user and the token.

Usage: forge.py CONFIG.json; prints "PORT <n>" once listening. Every request
is logged as one JSON line (method, path, query, whether auth matched) to the
config's "log" file. "{base}" in the config's items is replaced by
http://127.0.0.1:<port>, and "{hostport}" by 127.0.0.1:<port>.
"""

import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

CONFIG = json.load(open(sys.argv[1]))
KIND = CONFIG["kind"]
TOKEN = CONFIG.get("token")
PAGE = int(CONFIG.get("page_size", 2))
LOCK = threading.Lock()
FAILS = {k: list(v) for k, v in CONFIG.get("fail_first", {}).items()}


def log(entry):
    with LOCK:
        with open(CONFIG["log"], "a") as f:
            f.write(json.dumps(entry) + "\n")


def api_auth_ok(headers):
    if TOKEN is None:
        return True
    if KIND == "gitlab":
        return headers.get("PRIVATE-TOKEN") == TOKEN
    if KIND == "gitea":
        return headers.get("Authorization") == "token " + TOKEN
    if KIND == "azure":
        # A personal access token: Basic with an empty user name.
        want = base64.b64encode((":" + TOKEN).encode()).decode()
        return headers.get("Authorization") == "Basic " + want
    return headers.get("Authorization") == "Bearer " + TOKEN


def git_auth_ok(headers):
    if TOKEN is None:
        return True
    want = base64.b64encode(("%s:%s" % (CONFIG["git_user"], TOKEN)).encode()).decode()
    return headers.get("Authorization") == "Basic " + want


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/git/"):
            return self.git(url)
        ok = api_auth_ok(self.headers)
        log({"method": self.command, "path": url.path, "query": url.query, "auth_ok": ok})
        failing = FAILS.get(url.path)
        if failing:
            status = failing.pop(0)
            return self.send(status, json.dumps({"message": "upstream trouble"}))
        if not ok:
            return self.send(401, json.dumps({"message": "401 Unauthorized"}),
                             [("Content-Type", "application/json")])
        if url.path in CONFIG.get("rate_limited", []):
            reset = str(int(time.time()) + 120)
            if KIND in ("gitlab", "azure"):
                return self.send(429, json.dumps({"message": "Retry later"}),
                                 [("RateLimit-Reset", reset), ("Retry-After", "120")])
            return self.send(403, json.dumps({"message": "API rate limit exceeded"}),
                             [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)])
        items = CONFIG["collections"].get(url.path)
        if items is None:
            return self.send(404, json.dumps({"message": "404 Not Found"}),
                             [("Content-Type", "application/json")])
        query = urllib.parse.parse_qs(url.query)
        if KIND == "azure":
            return self.azure(url, query, items)
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * PAGE: page * PAGE]
        last = page * PAGE >= len(items)
        query["page"] = [str(page + 1)]
        next_url = "%s%s?%s" % (BASE, url.path, urllib.parse.urlencode(query, doseq=True))
        headers = [("Content-Type", "application/json")]
        if KIND == "bitbucket":
            body = {"values": chunk, "pagelen": PAGE, "page": page}
            if not last:
                body["next"] = next_url
            return self.send(200, json.dumps(body), headers)
        if KIND == "gitlab":
            headers.append(("x-next-page", "" if last else str(page + 1)))
            headers.append(("x-page", str(page)))
        elif not last:
            headers.append(("Link", '<%s>; rel="next"' % next_url))
        return self.send(200, json.dumps(chunk), headers)

    def azure(self, url, query, items):
        """Azure DevOps: `{"count", "value"}` bodies; a long list continues
        with the opaque token of the `x-ms-continuationtoken` header, sent
        back as `continuationToken` (it holds `+`, `/` and `=`, so only a
        percent-encoded one arrives intact). Wikis come unpaged."""
        headers = [("Content-Type", "application/json")]
        if query.get("api-version") != ["7.1"]:
            return self.send(400, json.dumps({"message": "api-version 7.1 expected"}), headers)
        if "/_apis/wiki/" in url.path:
            return self.send(200, json.dumps({"count": len(items), "value": items}), headers)
        page = 1
        token = query.get("continuationToken")
        if token:
            if not (token[0].startswith("c+") and token[0].endswith("/==")):
                return self.send(400, json.dumps({"message": "bad continuation token"}), headers)
            page = int(token[0][2:-3])
        chunk = items[(page - 1) * PAGE: page * PAGE]
        if page * PAGE < len(items):
            headers.append(("x-ms-continuationtoken", "c+%d/==" % (page + 1)))
        return self.send(200, json.dumps({"count": len(chunk), "value": chunk}), headers)

    def git(self, url):
        ok = git_auth_ok(self.headers)
        log({"method": self.command, "path": url.path, "query": url.query, "auth_ok": ok})
        if not ok:
            return self.send(401, "authentication required",
                             [("WWW-Authenticate", 'Basic realm="git"')])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", ""),
            "GIT_PROJECT_ROOT": CONFIG["git_root"],
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": urllib.parse.unquote(url.path[len("/git"):]),
            "QUERY_STRING": url.query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_USER": "tester",
        }
        if self.headers.get("Git-Protocol"):
            env["HTTP_GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        out = subprocess.run(["git", "http-backend"], input=body, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
        head, _, rest = out.partition(b"\r\n\r\n")
        if not _:
            head, _, rest = out.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.strip().split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.send(status, rest, headers)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
BASE = "http://127.0.0.1:%d" % server.server_address[1]
CONFIG["collections"] = json.loads(json.dumps(CONFIG["collections"])
                                   .replace("{base}", BASE)
                                   .replace("{hostport}", BASE[len("http://"):]))
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
