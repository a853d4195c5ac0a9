#!/usr/bin/env bash
# `keysweep scan --staged` (the pre-commit hook's work) on a large
# repository with one staged file, against git's own floor and a scan of
# the whole work tree.
#
#   bench/staged.sh REPO [RUNS]
#
# REPO is a work tree (a git/git clone is the reference: 4,800 files); it
# is cloned to a temporary directory, so REPO is not touched. One tracked
# file is modified and staged (README.md, or the first file git lists).
# RUNS defaults to 20. Commands, each after 3 warm-up runs (hyperfine):
#
#   diff-index   git diff-index --cached HEAD (the listing floor)
#   empty dir    keysweep scan EMPTY_DIR (keysweep's fixed start-up cost:
#                process, detector, config)
#   staged       keysweep scan --staged -q --no-progress (clean: exit 0)
#   staged+key   the same with a key pair in the staged file (exit 1)
#   work tree    keysweep scan . -q --no-progress (every file, for scale)
#   gitleaks     gitleaks git --pre-commit --staged (if found)
#   betterleaks  betterleaks git --staged (if found)
#   kingfisher   kingfisher scan --staged --no-update-check (if found)
#
# Prints each command's median, the same-run ratio of `staged` to `work
# tree` and to the fastest peer. Environment: KEYSWEEP_BIN (else
# target/release/keysweep, built first), PEERS_BIN (a directory holding the
# peers; else they are looked up on PATH). Run it under the build lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=${1:?usage: bench/staged.sh REPO [RUNS]}
runs=${2:-20}
bin=${KEYSWEEP_BIN:-target/release/keysweep}
[ -n "${KEYSWEEP_BIN:-}" ] || cargo build --locked --release
bin=$(realpath "$bin")
command -v hyperfine >/dev/null || { echo "bench/staged.sh needs hyperfine" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty"
git clone -q "$repo" "$work/repo"
cd "$work/repo"
file=README.md
[ -f "$file" ] || file=$(git ls-files | head -n 1)
echo "benchmark line" >> "$file"
git add "$file"
peer() { # name: its path, from PEERS_BIN or PATH
  if [ -n "${PEERS_BIN:-}" ] && [ -x "$PEERS_BIN/$1" ]; then echo "$PEERS_BIN/$1"; else command -v "$1" || true; fi
}
peers=()
g=$(peer gitleaks); [ -z "$g" ] || peers+=(-n gitleaks "$g git --pre-commit --staged --no-banner .")
b=$(peer betterleaks); [ -z "$b" ] || peers+=(-n betterleaks "$b git --staged .")
k=$(peer kingfisher); [ -z "$k" ] || peers+=(-n kingfisher "$k scan --staged --no-update-check .")
hyperfine -N -i --warmup 3 --runs "$runs" --export-json "$work/clean.json" \
  -n diff-index "git diff-index --cached HEAD" \
  -n "empty dir" "$bin scan $work/empty -q --no-progress" \
  -n staged "$bin scan --staged -q --no-progress" \
  -n "work tree" "$bin scan . -q --no-progress" "${peers[@]}" >&2
printf 'AWS_ACCESS_KEY_ID=AKIA2IJB4LAJLJ6HDU6G\nAWS_SECRET_ACCESS_KEY=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\n' >> "$file"
git add "$file"
hyperfine -N -i --warmup 3 --runs "$runs" --export-json "$work/key.json" \
  -n staged+key "$bin scan --staged -q --no-progress" >&2
python3 - "$work/clean.json" "$work/key.json" "$(git ls-files | wc -l)" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["results"] + json.load(open(sys.argv[2]))["results"]
med = {r["command"]: r["median"] * 1000 for r in rows}
print(f"{sys.argv[3]} tracked files, one staged; medians of {len(rows[0]['times'])} runs")
print("| command | median ms |")
print("|---|---:|")
for name, ms in med.items():
    print(f"| {name} | {ms:.1f} |")
print(f"staged / work tree: {med['staged'] / med['work tree']:.3f}")
peers = [med[p] for p in ("gitleaks", "betterleaks", "kingfisher") if p in med]
if peers:
    print(f"staged / fastest peer: {med['staged'] / min(peers):.3f}")
PY
