#!/usr/bin/env bash
# Binary size and start-up time of the `release` profile (what `cargo
# install` builds) against the `dist` profile (the release archives and the
# Dockerfile: stripped, fat LTO, one codegen unit), with the release binary
# stripped by hand in between, so the share of stripping and of LTO show.
# Start-up is `keysweep --version` under hyperfine (no shell), medians.
#
#   bench/release.sh [RUNS]       (default 300 runs per binary)
#   VARIANTS=1 bench/release.sh   also the dist profile with 16 codegen units,
#                                 fat and thin LTO (built from scratch into
#                                 target/dist-variants, each build timed)
#
# Builds what is missing: target/release/keysweep and target/dist/keysweep
# (minutes each, from a cold target dir: run it under the build lock).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-300}
command -v hyperfine >/dev/null || { echo "bench/release.sh needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
target=${CARGO_TARGET_DIR:-target}
[ -x "$target/release/keysweep" ] || cargo build --locked --release
[ -x "$target/dist/keysweep" ] || cargo build --locked --profile dist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$target/release/keysweep" "$tmp/release"
strip -o "$tmp/release-stripped" "$tmp/release"
cp "$target/dist/keysweep" "$tmp/dist"
binaries=(release release-stripped dist)
if [ -n "${VARIANTS:-}" ]; then
  for lto in fat thin; do
    rm -rf "$target/dist-variants"
    start=$(date +%s)
    CARGO_TARGET_DIR=$target/dist-variants cargo build --locked --quiet --profile dist \
      --config "profile.dist.lto=\"$lto\"" --config profile.dist.codegen-units=16
    echo "dist with lto=$lto, codegen-units=16: built in $(($(date +%s) - start)) s from scratch"
    cp "$target/dist-variants/dist/keysweep" "$tmp/dist-$lto-cgu16"
    binaries+=("dist-$lto-cgu16")
  done
  rm -rf "$target/dist-variants"
fi

median_ms() { # hyperfine JSON -> median in ms
  python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$1"
}
mib() { python3 -c 'import os,sys; print("%.1f" % (os.path.getsize(sys.argv[1]) / 2**20))' "$1"; }
gz_mib() { gzip -6 -c "$1" | wc -c | python3 -c 'import sys; print("%.1f" % (int(sys.stdin.read()) / 2**20))'; }

printf '| binary (%s) | size MiB | gzip -6 MiB | `--version` median ms, %s runs |\n| --- | --- | --- | --- |\n' "$(uname -m)" "$runs"
declare -A ms
for b in "${binaries[@]}"; do
  hyperfine --shell=none --warmup 20 --runs "$runs" --export-json "$tmp/$b.json" "$tmp/$b --version" >/dev/null 2>&1
  ms[$b]=$(median_ms "$tmp/$b.json")
  printf '| %s | %s | %s | %s |\n' "$b" "$(mib "$tmp/$b")" "$(gz_mib "$tmp/$b")" "${ms[$b]}"
done
python3 -c 'import sys; r, d = map(float, sys.argv[1:]); print(f"dist/release start-up: {d / r:.2f}")' "${ms[release]}" "${ms[dist]}"
