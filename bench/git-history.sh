#!/usr/bin/env bash
# End-to-end timing of a full-history scan against the physical floor.
#
#   bench/git-history.sh REPO [RUNS]
#
# REPO is a work tree or a bare repository; RUNS defaults to 5. Builds the
# release binary, then runs, round-robin so that a drift of a shared machine
# hits both alike (after one untimed warm-up each, for the page cache):
#
#   floor     git cat-file --batch-all-objects --batch --unordered >/dev/null
#             (inflate every object once, in pack order, one thread)
#   keysweep  target/release/keysweep git REPO --format json >/dev/null
#
# and prints the median wall time and peak RSS of each, and the ratio.
# Needs GNU time at /usr/bin/time (Debian/Ubuntu: apt-get install -y time).
# KEYSWEEP_BIN overrides the binary (then nothing is built).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 REPO [RUNS]" >&2
    exit 2
fi
repo=$1
runs=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${KEYSWEEP_BIN:-$here/target/release/keysweep}

if [ ! -x /usr/bin/time ]; then
    echo "error: /usr/bin/time (GNU time) is missing; install the 'time' package" >&2
    exit 2
fi
if ! git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    echo "error: $repo is not a git repository" >&2
    exit 2
fi

if [ -z "${KEYSWEEP_BIN:-}" ]; then
    (cd "$here" && cargo build --release --quiet)
fi
if ! "$bin" git --help >/dev/null 2>&1; then
    echo "error: $bin has no 'git' subcommand yet" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One timed run, appending "wall_s rss_kb user_s sys_s" to $tmp/$1.
measure() {
    local name=$1 status=0
    case $name in
    floor)
        # Never run the scanned repository's hooks, fsmonitor or filters.
        /usr/bin/time -f '%e %M %U %S' -o "$tmp/last" \
            git -c core.fsmonitor= -c core.hooksPath=/dev/null -C "$repo" \
            cat-file --batch-all-objects --batch --unordered >/dev/null || status=$?
        ;;
    keysweep)
        /usr/bin/time -f '%e %M %U %S' -o "$tmp/last" \
            "$bin" git "$repo" --format json >/dev/null || status=$?
        ;;
    esac
    # keysweep exits 1 when it finds something: that is a successful run.
    if [ "$status" -gt 1 ]; then
        echo "error: $name exited with status $status" >&2
        exit 1
    fi
    tail -n 1 "$tmp/last" >>"$tmp/$name"
}

median() { # column number, file
    sort -n -k "$1,$1" "$2" | awk -v c="$1" '{ v[NR] = $c } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

cpu() { # file: user+sys of each run, one a line
    awk '{ print $3 + $4 }' "$1" >"$1.cpu"
    median 1 "$1.cpu"
}

echo "warm-up..." >&2
measure floor
measure keysweep
: >"$tmp/floor"
: >"$tmp/keysweep"
for i in $(seq 1 "$runs"); do
    echo "run $i/$runs" >&2
    measure floor
    measure keysweep
done

fw=$(median 1 "$tmp/floor");    fm=$(median 2 "$tmp/floor");    fc=$(cpu "$tmp/floor")
kw=$(median 1 "$tmp/keysweep"); km=$(median 2 "$tmp/keysweep"); kc=$(cpu "$tmp/keysweep")
printf '| %s, %s runs | median wall | median CPU (user+sys) | median peak RSS | wall x floor |\n' "$(basename "$repo")" "$runs"
printf '|---|---|---|---|---|\n'
printf '| cat-file floor | %.2f s | %.2f s | %d MiB | 1.00 |\n' "$fw" "$fc" $((fm / 1024))
printf '| keysweep git | %.2f s | %.2f s | %d MiB | %.2f |\n' "$kw" "$kc" $((km / 1024)) \
    "$(awk -v a="$kw" -v b="$fw" 'BEGIN { print a / b }')"
