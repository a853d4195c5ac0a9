#!/usr/bin/env bash
# Verification throughput against the loopback STS (tests/sts/sts_server.py):
# credentials/second at concurrency 1 and 8, and the request count for a
# corpus where every credential appears 25 times (must equal the number of
# distinct credentials). Runs the ignored test bench_verify_throughput.
#
#   bench/verify.sh            # release build (default)
#   PROFILE=dev bench/verify.sh
#
# Needs python3 with venv and pip; the first run installs moto into
# target/keysweep-sts/venv. Touches no real AWS endpoint.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
profile="${PROFILE:-release}"
args=()
[ "$profile" = release ] && args+=(--release)
cargo test "${args[@]}" --test integration -- --ignored --nocapture --exact verify::bench_verify_throughput 2>&1 |
  grep -E '^bench:|^test result|panicked|FAILED'
