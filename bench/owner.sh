#!/usr/bin/env bash
# Owner-lookup throughput against the loopback AWS (tests/sts/sts_server.py
# --scenario owner): 500 distinct key IDs, two per IAM user, spread over the
# management account and two member accounts reached by AssumeRole. Prints
# requests/s and keys/s at concurrency 1, 4 and 8, and the request count by
# action (asserted exactly by the test); then the same through the command
# line, `keysweep triage` of a 500-key report (one process per run, its
# GetCallerIdentity included). Runs the ignored test owner::bench_owner_lookup.
#
#   bench/owner.sh            # release build (default)
#   PROFILE=dev bench/owner.sh
#
# Needs python3 with venv and pip; the first run installs moto into
# target/keysweep-sts/venv. Touches no real AWS endpoint.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
profile="${PROFILE:-release}"
args=()
[ "$profile" = release ] && args+=(--release)
cargo test "${args[@]}" --test integration -- --ignored --nocapture --exact owner::bench_owner_lookup 2>&1 |
  grep -E '^bench:|^test result|panicked|FAILED'
