#!/usr/bin/env bash
# `keysweep scan -` on a pipe of 64 MiB, 1 GiB and 4 GiB of log lines: wall
# time and peak RSS from /usr/bin/time, to show that memory stays at one
# window however much arrives.
#
#   bench/stdin.sh [SIZES_MIB...]    (default 64 1024 4096)
#
# Environment: KEYSWEEP_BIN (else target/release/keysweep, built first).
# Run it under the build lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${KEYSWEEP_BIN:-target/release/keysweep}
[ -n "${KEYSWEEP_BIN:-}" ] || cargo build --locked --release
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(64 1024 4096)
# `yes` ends on SIGPIPE when `head` has enough: not a failure.
set +o pipefail
echo "| piped | wall | peak RSS |"
echo "|---:|---:|---:|"
for n in "${sizes[@]}"; do
  yes "2026-12-01T07:00:00Z INFO request served in 12 ms path=/api/v1/items status=200" \
    | head -c "${n}M" \
    | /usr/bin/time -f "| $n MiB | %e s | %M KiB |" "$bin" scan - -q --no-progress 2>&1 >/dev/null
done
