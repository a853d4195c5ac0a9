"""Fixtures for the owner-lookup tests: a small AWS Organization in moto.

Imported by sts_server.py (`--scenario owner`), which has already opened
moto's no-auth window; `seed(endpoint, bench_keys)` creates:

  * the management account 123456789012 (moto's default) with an
    Organization, the operator users `keysweep-auditor` and `-2` whose inline
    policy is
    the management policy printed in docs/owner-lookup.md (read from there,
    so the documented policy is the tested one), and a user `mgmt-backup`;
  * member accounts `prod` and `staging`, each with the role
    `KeysweepOwnerLookup` carrying the member policy from the same document,
    and `sandbox`, whose admins never created that role;
  * users with active, inactive and deleted keys, an admin by the AWS
    managed AdministratorAccess policy and one by a customer policy allowing
    `*` on `*`, keys used (with a service and region) and never used, group
    and inline policies;
  * an old-style `AKIAJ…` key ID in `staging`, which encodes no account:
    moto cannot mint one, so its ID is rewritten in moto's backend;
  * a key of an account outside the Organization, and an AssumeRole session
    key (`ASIA…`) of `prod`;
  * with `bench_keys` N > 0: N more keys spread over the three accounts
    (two per user), for the request-count benchmark.

Returns the fixture document written to the ready file.
"""
from __future__ import annotations

import json
import os
import random
import re

MANAGEMENT = "123456789012"
OUTSIDE = "210987654321"
ROLE = "KeysweepOwnerLookup"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def documented_policies() -> dict[str, str]:
    """The JSON policies after `<!-- policy:NAME -->` in docs/owner-lookup.md."""
    here = os.path.dirname(os.path.abspath(__file__))
    doc = open(os.path.join(here, "..", "..", "docs", "owner-lookup.md"), encoding="utf-8").read()
    found = {}
    for m in re.finditer(r"<!-- policy:(\w+) -->\s*```json\n(.*?)```", doc, re.S):
        json.loads(m.group(2))  # a broken document fails the seed, not a test later
        found[m.group(1)] = m.group(2)
    missing = {"management", "member"} - found.keys()
    if missing:
        raise SystemExit(f"docs/owner-lookup.md lacks the policies {sorted(missing)}")
    return found


def seed(endpoint: str, bench_keys: int) -> dict:
    import boto3
    from botocore.config import Config

    def client(service: str, account: str, region: str = "us-east-1", key=None):
        c = boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=key["AccessKeyId"] if key else "AKIASEEDSEEDSEEDSEED",
            aws_secret_access_key=key["SecretAccessKey"] if key else "seed" * 10,
            config=Config(retries={"max_attempts": 1}),
        )
        if key is None:
            # moto's way to act in another account while auth is off.
            def in_account(request, **_):
                request.headers["x-moto-account-id"] = account

            c.meta.events.register("before-sign.*.*", in_account)
        return c

    policies = documented_policies()
    org = client("organizations", MANAGEMENT)
    org.create_organization(FeatureSet="ALL")
    accounts = {"management": MANAGEMENT, "outside": OUTSIDE}
    names = {MANAGEMENT: "management"}
    for name in ("prod", "staging", "sandbox"):
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        accounts[name] = status["AccountId"]
        names[status["AccountId"]] = name

    iams = {acct: client("iam", acct) for acct in set(accounts.values())}
    keys: dict[str, dict] = {}

    def user(acct: str, name: str, path: str = "/") -> None:
        iams[acct].create_user(UserName=name, Path=path)

    def key(fixture: str, acct: str, name: str, status: str = "Active") -> dict:
        k = iams[acct].create_access_key(UserName=name)["AccessKey"]
        if status != "Active":
            iams[acct].update_access_key(UserName=name, AccessKeyId=k["AccessKeyId"], Status=status)
        keys[fixture] = {
            "access_key_id": k["AccessKeyId"],
            "secret_access_key": k["SecretAccessKey"],
            "account": acct,
            "user": name,
            "status": status,
        }
        return k

    def use(k: dict, service: str, region: str) -> None:
        """Signs one request with the key, so IAM records its last use."""
        if service == "s3":
            client("s3", "", region, key=k).list_buckets()
        elif service == "sqs":
            client("sqs", "", region, key=k).list_queues()
        else:
            raise ValueError(service)

    # The management account: the operator and one user of its own.
    mgmt = iams[MANAGEMENT]
    user(MANAGEMENT, "keysweep-auditor")
    mgmt.put_user_policy(
        UserName="keysweep-auditor", PolicyName="keysweep-owner-lookup", PolicyDocument=policies["management"]
    )
    operator = mgmt.create_access_key(UserName="keysweep-auditor")["AccessKey"]
    # A second operator, for tests that make the server throttle its requests.
    user(MANAGEMENT, "keysweep-auditor-2")
    mgmt.put_user_policy(
        UserName="keysweep-auditor-2", PolicyName="keysweep-owner-lookup", PolicyDocument=policies["management"]
    )
    operator_2 = mgmt.create_access_key(UserName="keysweep-auditor-2")["AccessKey"]
    user(MANAGEMENT, "mgmt-backup")
    mgmt.put_user_policy(
        UserName="mgmt-backup",
        PolicyName="backup-bucket",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::backups/*"}],
            }
        ),
    )
    key("mgmt_backup", MANAGEMENT, "mgmt-backup")

    # Members: the lookup role, as an Organization admin would create it.
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    for name in ("prod", "staging"):
        iam = iams[accounts[name]]
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)
        iam.put_role_policy(RoleName=ROLE, PolicyName="keysweep-owner-lookup", PolicyDocument=policies["member"])

    prod = accounts["prod"]
    iam = iams[prod]
    user(prod, "ci-deploy", "/deploy/")
    iam.attach_user_policy(UserName="ci-deploy", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    use(key("admin_used", prod, "ci-deploy"), "s3", "eu-west-1")

    user(prod, "reporting")
    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.put_group_policy(
        GroupName="readers",
        PolicyName="reports-bucket",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}],
            }
        ),
    )
    iam.add_user_to_group(GroupName="readers", UserName="reporting")
    iam.put_user_policy(
        UserName="reporting",
        PolicyName="extra",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
        ),
    )
    key("never_used", prod, "reporting")

    user(prod, "rotated")
    k = key("inactive", prod, "rotated")
    use(k, "sqs", "us-west-2")
    iam.update_access_key(UserName="rotated", AccessKeyId=k["AccessKeyId"], Status="Inactive")
    keys["inactive"]["status"] = "Inactive"

    user(prod, "old-bot")
    k = key("deleted", prod, "old-bot")
    iam.delete_access_key(UserName="old-bot", AccessKeyId=k["AccessKeyId"])
    keys["deleted"]["status"] = "Deleted"

    user(prod, "revoke-me")
    key("revoke_target", prod, "revoke-me")
    key("revoke_keep", prod, "revoke-me")
    user(prod, "revoke-again")
    key("revoke_already_inactive", prod, "revoke-again", status="Inactive")
    user(prod, "dry-run")
    key("dry_run", prod, "dry-run")
    # For the command-line tests (`keysweep revoke`), apart from the above.
    user(prod, "cli-revoke")
    key("cli_revoke_target", prod, "cli-revoke")
    key("cli_revoke_keep", prod, "cli-revoke")
    user(prod, "cli-tty")
    key("cli_revoke_tty", prod, "cli-tty")

    staging = accounts["staging"]
    iam = iams[staging]
    user(staging, "legacy-svc")
    k = key("legacy", staging, "legacy-svc")
    legacy_id = mint_legacy_key_id(staging, k["AccessKeyId"])
    keys["legacy"]["access_key_id"] = legacy_id
    use({**k, "AccessKeyId": legacy_id}, "sqs", "us-west-2")

    user(staging, "power")
    everything = iam.create_policy(
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="power", PolicyArn=everything)
    key("admin_by_document", staging, "power")
    user(staging, "revoke-b")
    key("revoke_other_account", staging, "revoke-b")

    user(accounts["sandbox"], "experiments")
    key("unreachable", accounts["sandbox"], "experiments")

    user(OUTSIDE, "stranger")
    key("outside", OUTSIDE, "stranger")

    # Temporary credentials of prod (moto needs no trust check in the window).
    t = client("sts", MANAGEMENT).assume_role(
        RoleArn=f"arn:aws:iam::{prod}:role/{ROLE}", RoleSessionName="ci-session"
    )["Credentials"]
    keys["temporary"] = {
        "access_key_id": t["AccessKeyId"],
        "secret_access_key": t["SecretAccessKey"],
        "session_token": t["SessionToken"],
        "account": prod,
        "user": None,
        "status": "Temporary",
    }

    bench: list[str] = []
    order = [MANAGEMENT, prod, staging]
    for i in range(bench_keys):
        acct = order[i % 3]
        name = f"bench-{i // 6:04}"  # two keys per user and account
        if i % 6 < 3:
            user(acct, name)
        bench.append(iams[acct].create_access_key(UserName=name)["AccessKey"]["AccessKeyId"])

    return {
        "accounts": accounts,
        "account_names": names,
        "role_name": ROLE,
        "operators": [
            {"access_key_id": o["AccessKeyId"], "secret_access_key": o["SecretAccessKey"]}
            for o in (operator, operator_2)
        ],
        "keys": keys,
        "bench_keys": bench,
    }


def mint_legacy_key_id(account: str, key_id: str) -> str:
    """Gives an existing user key an old-style ID (`AKIAJ` + 15 base32
    characters, which encodes no account), keeping its secret."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["aws"]
    new_id = "AKIAJ" + "".join(random.choice(BASE32) for _ in range(15))
    k = backend.access_keys.pop(key_id)
    k.access_key_id = new_id
    backend.access_keys[new_id] = k
    return new_id
