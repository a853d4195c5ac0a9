#!/usr/bin/env python3
"""A loopback STS for keysweep's verification tests: moto, auth enforced.

    python3 tests/sts/sts_server.py --venv DIR --ready-file FILE [--parent-pid PID]

Run with any Python 3: on first use it creates a venv in DIR and installs the
pinned moto[server] into it (under a file lock, so parallel test processes
share one install), then re-executes itself inside the venv. It then:

  * binds 127.0.0.1 on port 0 (no free-port race);
  * seeds fixtures (IAM users and keys, AssumeRole sessions) through moto's own
    HTTP API with boto3, then enforces SigV4 authentication on every request;
  * writes FILE (JSON: port + fixtures) atomically: its existence means ready;
  * exits when its parent process dies (or after --max-lifetime seconds), so a
    test run never leaves it behind.

Where moto answers differently from real STS, a WSGI layer in front of it
makes it answer like STS (checked against moto 5.2.5):

  1. an Inactive access key gets 403 InvalidClientTokenId (moto accepts it);
  2. an assumed-role session past its expiry gets 403 ExpiredToken (moto never
     expires sessions);
  3. error bodies use STS's <ErrorResponse><Error> shape (moto writes
     <ErrorResponse><Errors><Error>, in which the Rust SDK finds no code).

and, for the owner lookup (which calls IAM and Organizations with the
operator's own credentials), where moto differs from AWS:

  4. GetAccessKeyLastUsed finds a key only in the caller's own account and
     answers 403 AccessDenied for any other key ID, deleted ones included (moto
     searches every account and answers NoSuchEntity), as AWS does;
  5. AssumeRole into a role that does not exist is 403 AccessDenied (moto
     hands out credentials for any role ARN);
  6. GetAccessKeyInfo decodes the account from the key ID where it encodes one
     and looks old-style IDs up in every account, answering an error for an
     unknown one (moto answers the caller's own account for any unknown key,
     which would make a stranger's key look like yours).

`--scenario owner` seeds an AWS Organization instead (tests/sts/owner_seed.py).

Test hooks, outside moto's namespace:

  * GET /keysweep/requests?key=AKID returns {"total": N, "key": M}: requests
    that reached the server, all and signed by AKID, so the tests can prove
    that a canary key was never sent and a duplicate was sent once;
  * GET /keysweep/key-status?key=AKID returns {"status": "Active" |
    "Inactive" | null}: a user key's status read from moto's state directly,
    so revocation tests check the effect without the code under test;
  * GET /keysweep/recorded?since=N returns {"next": M, "requests": [...]}:
    every request from the N-th on, whole (method, path, query, headers,
    body), so the tests can prove that no leaked secret was ever sent;
  * GET /keysweep/inject?key=AKID&count=N&status=S[&code=C][&message=M] makes
    the next N requests signed by AKID fail with HTTP S, error code C and
    message M (no code: a bare status, like a proxy's), to test throttling,
    server errors and clock skew.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from xml.sax.saxutils import escape

MOTO = "moto[server]==5.2.5"


def ensure_venv(venv: str) -> None:
    """Re-exec inside `venv`, creating it first when needed (stdlib only)."""
    if os.path.realpath(sys.prefix) == os.path.realpath(venv):
        return
    # The shared helper: a file lock so that parallel test binaries starting
    # servers at once share one install, and a marker to skip it next time.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
    from pyvenv import ensure

    py = ensure(venv, [MOTO])
    os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])


def log(msg: str) -> None:
    print(f"sts_server: {msg}", file=sys.stderr, flush=True)


def sts_error(start_response, code: str, message: str, status: int = 403):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    start_response(
        f"{status} Error", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))]
    )
    return [body]


def json_response(start_response, doc):
    # A length, not chunks: the tests read these with a bare HTTP/1.0 client.
    body = json.dumps(doc).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class StsFidelity:
    """WSGI layer in front of moto: counts requests, fixes the three gaps."""

    def __init__(self, app) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.total = 0
        self.by_key: dict[str, int] = {}
        self.injected: dict[str, list] = {}  # AKID -> [count, status, code]
        self.recorded: list[dict] = []

    def reset_counts(self) -> None:
        with self.lock:
            self.total = 0
            self.by_key.clear()
            self.recorded.clear()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/keysweep/requests":
            from urllib.parse import parse_qs

            key = parse_qs(environ.get("QUERY_STRING", "")).get("key", [""])[0]
            with self.lock:
                return json_response(start_response, {"total": self.total, "key": self.by_key.get(key, 0)})
        if path == "/keysweep/inject":
            from urllib.parse import parse_qs

            q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            with self.lock:
                self.injected[q["key"]] = [
                    int(q["count"]),
                    int(q["status"]),
                    q.get("code"),
                    q.get("message", "injected by the test"),
                ]
            return json_response(start_response, {})
        if path == "/keysweep/recorded":
            from urllib.parse import parse_qs

            since = int(parse_qs(environ.get("QUERY_STRING", "")).get("since", ["0"])[0])
            with self.lock:
                return json_response(
                    start_response, {"next": len(self.recorded), "requests": self.recorded[since:]}
                )
        if path == "/keysweep/key-status":
            from urllib.parse import parse_qs

            key = parse_qs(environ.get("QUERY_STRING", "")).get("key", [""])[0]
            return json_response(start_response, {"status": user_key_status(key)})
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)

        akid = signing_key_id(environ.get("HTTP_AUTHORIZATION", ""))
        record = whole_request(environ)
        with self.lock:
            self.recorded.append(record)
            self.total += 1
            self.by_key[akid] = self.by_key.get(akid, 0) + 1
            injected = self.injected.get(akid)
            if injected and injected[0] > 0:
                injected[0] -= 1
            else:
                injected = None
        if injected:
            _, status, code, message = injected
            if code:
                return sts_error(start_response, code, message, status)
            start_response(f"{status} Injected", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        if akid and is_inactive_user_key(akid):
            return sts_error(
                start_response,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            )
        if akid and is_expired_session(akid):
            return sts_error(
                start_response, "ExpiredToken", "The security token included in the request is expired"
            )
        return self.rewrite_errors(environ, start_response)

    def rewrite_errors(self, environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None  # moto never uses write()

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, headers = captured["status"], captured["headers"]
        if status.startswith("400") and b"<Code>AccessDenied</Code>" in body:
            status = "403 Forbidden"  # moto gives codes outside the service model 400
        if status.startswith("4") and b"<ErrorResponse><Errors><Error>" in body:
            body = body.replace(b"<ErrorResponse><Errors><Error>", b"<ErrorResponse><Error>").replace(
                b"</Error></Errors></ErrorResponse>",
                f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>".encode(),
            )
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-type")]
            headers += [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [body]


def signing_key_id(authorization: str) -> str:
    # "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ..."
    marker = "Credential="
    at = authorization.find(marker)
    if at < 0:
        return ""
    return authorization[at + len(marker) :].split("/", 1)[0]


def whole_request(environ) -> dict:
    """The request as sent (the body is read and put back for moto)."""
    import io

    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    for k in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(k):
            headers[k.replace("_", "-").lower()] = environ[k]
    return {
        "method": environ.get("REQUEST_METHOD", ""),
        "path": environ.get("PATH_INFO", ""),
        "query": environ.get("QUERY_STRING", ""),
        "headers": headers,
        "body": body.decode("latin-1"),
    }


def patch_moto() -> None:
    """Fixes 4 to 6 of the module docstring, inside moto's backends (so its
    signature and policy checks still run first)."""
    from moto.iam.exceptions import IAMException
    from moto.iam.models import IAMBackend, iam_backends
    from moto.sts.exceptions import STSClientError
    from moto.sts.models import STSBackend

    class AccessDenied(IAMException):
        code = "AccessDenied"

    def get_access_key_last_used(self, access_key_id: str):
        for user in self.users.values():
            for key in user.access_keys:
                if key.access_key_id == access_key_id:
                    return {"user_name": key.user_name, "last_used": key.last_used}
        raise AccessDenied(
            f"User: arn:aws:iam::{self.account_id}:caller is not authorized to perform "
            f"iam:GetAccessKeyLastUsed on resource: access key {access_key_id}"
        )

    def get_access_key_info(self, access_key_id: str):
        account = account_from_key_id(access_key_id)
        if account is None:
            for acct, partitions in list(iam_backends.items()):
                for backend in partitions.values():
                    if access_key_id in backend.access_keys:
                        account = acct
        if account is None:
            raise STSClientError("InvalidParameterValue", f"The access key {access_key_id} does not exist")
        return {"Account": account}

    original_assume_role = STSBackend.assume_role

    def assume_role(self, region_name, role_session_name, role_arn, *args, **kwargs):
        parts = role_arn.split(":")
        account = parts[4] if len(parts) > 5 else self.account_id
        try:
            iam_backends[account]["aws"].get_role_by_arn(role_arn)
        except Exception:
            raise STSClientError(
                "AccessDenied",
                f"User: arn:aws:iam::{self.account_id}:caller is not authorized to perform: "
                f"sts:AssumeRole on resource: {role_arn}",
            )
        return original_assume_role(self, region_name, role_session_name, role_arn, *args, **kwargs)

    IAMBackend.get_access_key_last_used = get_access_key_last_used
    STSBackend.get_access_key_info = get_access_key_info
    STSBackend.assume_role = assume_role


def account_from_key_id(key_id: str):
    """The account an access key ID encodes (None for AKIAI/AKIAJ IDs)."""
    import base64

    if len(key_id) != 20 or key_id[4] in "IJ":
        return None
    try:
        raw = base64.b32decode(key_id[4:])
    except ValueError:
        return None
    z = int.from_bytes(raw[:6], "big")
    return f"{(z & 0x7FFFFFFFFF80) >> 7:012d}"


def user_key_status(akid: str):
    from moto.iam.models import iam_backends

    for partitions in list(iam_backends.values()):
        for backend in partitions.values():
            for user in backend.users.values():
                for key in user.access_keys:
                    if key.access_key_id == akid:
                        return key.status
    return None


def is_inactive_user_key(akid: str) -> bool:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    for user in iam_backends[DEFAULT_ACCOUNT_ID]["aws"].users.values():
        for key in user.access_keys:
            if key.access_key_id == akid:
                return key.status != "Active"
    return False


def is_expired_session(akid: str) -> bool:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.utils import utcnow
    from moto.sts.models import sts_backends

    for role in sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assumed_roles:
        if role.access_key_id == akid:
            return role.expiration <= utcnow()
    return False


def seed(endpoint: str, bench_users: int) -> dict:
    """Creates the fixtures through the HTTP API; returns them by name."""
    import boto3
    from botocore.config import Config

    def client(service: str, validate: bool = True):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="AKIASEEDSEEDSEEDSEED",
            aws_secret_access_key="seed" * 10,
            config=Config(retries={"max_attempts": 1}, parameter_validation=validate),
        )

    iam, sts = client("iam"), client("sts")
    role_arn = iam.create_role(
        RoleName="ci-deploy-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    # First, so that its one second has passed by the time seeding is done.
    # AWS's minimum is 900 s, which botocore checks client-side; moto takes 1.
    expired = client("sts", validate=False).assume_role(
        RoleArn=role_arn, RoleSessionName="keysweep-expired", DurationSeconds=1
    )["Credentials"]
    expires_at = time.monotonic() + 1.2

    fixtures: dict[str, dict] = {}

    def put(name, akid, secret, token=None, arn=None):
        fixtures[name] = {
            "access_key_id": akid,
            "secret_access_key": secret,
            "session_token": token,
            "arn": arn,
        }

    def user_key(user: str, path: str = "/") -> dict:
        if user not in created:
            iam.create_user(UserName=user, Path=path)
            created.add(user)
        return iam.create_access_key(UserName=user)["AccessKey"]

    created: set[str] = set()
    for name, user, path in [
        ("live", "ci-deployer", "/deploy/"),
        ("live_second_user", "svc-reporting", "/"),
        ("wrong_secret_target", "sig-check", "/"),
        ("dedupe", "dedupe-user", "/"),
        ("cache", "cache-user", "/"),
        ("throttled_then_live", "throttle-once", "/"),
        ("throttled_forever", "throttle-always", "/"),
        ("server_error", "flaky-5xx", "/"),
        ("bare_403", "behind-proxy", "/"),
        ("pipeline", "pipeline-user", "/"),
        ("clock_skew", "skewed-clock", "/"),
        ("cli_live", "cli-user", "/"),
        ("cli_cache", "cli-cache-user", "/"),
        ("cli_skip", "cli-skip-user", "/"),
        ("cli_history", "cli-history-user", "/"),
        ("org_fork", "org-fork-user", "/"),
    ]:
        k = user_key(user, path)
        put(name, k["AccessKeyId"], k["SecretAccessKey"], arn=f"arn:aws:iam::123456789012:user{path}{user}")

    k = user_key("ci-deployer")  # a user's second key (AWS allows two)
    iam.update_access_key(UserName="ci-deployer", AccessKeyId=k["AccessKeyId"], Status="Inactive")
    put("deactivated", k["AccessKeyId"], k["SecretAccessKey"])

    k = user_key("old-bot")
    iam.delete_access_key(UserName="old-bot", AccessKeyId=k["AccessKeyId"])
    put("deleted", k["AccessKeyId"], k["SecretAccessKey"])

    t = sts.assume_role(RoleArn=role_arn, RoleSessionName="keysweep-test", DurationSeconds=3600)["Credentials"]
    put(
        "temporary",
        t["AccessKeyId"],
        t["SecretAccessKey"],
        t["SessionToken"],
        arn="arn:aws:sts::123456789012:assumed-role/ci-deploy-role/keysweep-test",
    )
    put("temporary_expired", expired["AccessKeyId"], expired["SecretAccessKey"], expired["SessionToken"])

    for i in range(bench_users):
        user = f"bench-{i:03}"
        k = user_key(user)
        put(user, k["AccessKeyId"], k["SecretAccessKey"], arn=f"arn:aws:iam::123456789012:user/{user}")

    time.sleep(max(0.0, expires_at - time.monotonic()))
    return fixtures


def moto_api(endpoint: str, path: str, body: str) -> None:
    import urllib.request

    # text/plain: with a form content type Flask leaves the body empty.
    req = urllib.request.Request(
        endpoint + path, data=body.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(req, timeout=10).read()


def watch_parent(parent_pid: int, max_lifetime: float) -> None:
    deadline = time.monotonic() + max_lifetime
    while time.monotonic() < deadline:
        # Orphaned: the parent died and we were re-parented.
        if parent_pid and os.getppid() != parent_pid:
            break
        time.sleep(0.5)
    os._exit(0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", required=True, help="venv to create or reuse for moto")
    ap.add_argument("--ready-file", required=True, help="JSON written once seeded and listening")
    ap.add_argument("--parent-pid", type=int, default=0, help="exit when this parent dies")
    ap.add_argument("--max-lifetime", type=float, default=3600.0, help="seconds before exiting anyway")
    ap.add_argument("--bench-users", type=int, default=0, help="extra live users bench-000..")
    ap.add_argument("--scenario", choices=["verify", "owner"], default="verify", help="which fixtures to seed")
    ap.add_argument("--bench-keys", type=int, default=0, help="owner scenario: extra keys for the benchmark")
    a = ap.parse_args()
    ensure_venv(a.venv)

    threading.Thread(target=watch_parent, args=(a.parent_pid, a.max_lifetime), daemon=True).start()

    # Read once by moto.settings at import: every request signature-checked,
    # except inside the seeding window opened below.
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    if a.scenario == "owner":
        # AdministratorAccess, ReadOnlyAccess, … exist in every account, as in AWS.
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    import logging

    import moto
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    patch_moto()
    app = StsFidelity(DomainDispatcherApplication(create_backend_app))
    srv = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    port = srv.server_address[1]
    endpoint = f"http://127.0.0.1:{port}"
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    moto_api(endpoint, "/moto-api/reset-auth", "inf")
    try:
        if a.scenario == "owner":
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from owner_seed import seed as seed_owner

            doc = {"owner": seed_owner(endpoint, a.bench_keys)}
        else:
            doc = {"fixtures": seed(endpoint, a.bench_users)}
    finally:
        moto_api(endpoint, "/moto-api/reset-auth", "0")
    app.reset_counts()

    tmp = a.ready_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"port": port, "pid": os.getpid(), **doc}, f)
    os.replace(tmp, a.ready_file)
    log(f"moto {moto.__version__} ready on {endpoint}, pid {os.getpid()}, scenario {a.scenario}")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
