#!/usr/bin/env python3
"""A loopback stand-in for GitHub's release downloads, for tests/act/run.sh.

    releases_server.py ROOT PORT_FILE LOG_FILE

Serves ROOT over http on 127.0.0.1 at a free port: GET /vVERSION/NAME is the
file ROOT/vVERSION/NAME, as github.com/OWNER/REPO/releases/download/vVERSION/NAME
would give it (missing files are a 404, as there). Writes the port to
PORT_FILE once listening, and appends one line per request, "METHOD PATH
STATUS", to LOG_FILE, so a test can tell what was downloaded, and that a
cached run downloaded nothing. Runs until killed.
"""
from __future__ import annotations

import functools
import http.server
import os
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    log_file = ""

    def log_request(self, code="-", size="-"):
        with open(self.log_file, "a") as log:
            log.write(f"{self.command} {self.path} {code}\n")

    def log_message(self, format, *args):
        pass

    def list_directory(self, path):
        self.send_error(404)
        return None


def main() -> int:
    root, port_file, log_file = sys.argv[1:4]
    Handler.log_file = os.path.abspath(log_file)
    open(Handler.log_file, "a").close()
    handler = functools.partial(Handler, directory=os.path.abspath(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, port_file)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
