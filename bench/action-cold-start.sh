#!/usr/bin/env bash
# The whole action's cold start (no cache) under act, as tests/act/run.sh runs
# it: with the release asset (target/dist/keysweep packaged as the release
# workflow does, served from loopback), RUNS times, against the source build
# the action falls back to (`cargo install` with the real release profile
# into an emptied target/act-build), once. Prints act's wall time and the
# install step's time for each run, and the medians of the release runs.
#
#   bench/action-cold-start.sh [RUNS] [--source]    (default 5 runs; the
#                                                   source build only with --source)
#
# Not GitHub: loopback instead of a download from github.com (the archive's
# size says what the network adds), the cargo registry already on disk (a
# fresh runner downloads the crates too). Run it under the build lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-5}
target=${CARGO_TARGET_DIR:-target}
[ -x "$target/dist/keysweep" ] || cargo build --locked --profile dist
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$runs"); do
  ACT_TEST_RELEASE_BINARY=$target/dist/keysweep bash tests/act/run.sh release | grep '^timing: release-cold' | tee -a "$out"
done
python3 - "$out" <<'PY'
import re, statistics, sys
act, step = [], []
for line in open(sys.argv[1]):
    m = re.search(r"act ([0-9.]+)s, install step \[([0-9.]+)(ms|s)\]", line)
    act.append(float(m[1]))
    step.append(float(m[2]) / (1000 if m[3] == "ms" else 1))
print(f"release asset, {len(act)} cold runs: median act {statistics.median(act):.1f} s, install step {statistics.median(step):.2f} s")
PY
if [ "${2:-}" = --source ]; then
  rm -rf "$target/act-build"
  ACT_TEST_REAL_BUILD=1 bash tests/act/run.sh fallback | grep '^timing: fallback-no-release'
fi
