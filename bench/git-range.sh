#!/usr/bin/env bash
# Incremental scans against git's own floor and the peers: ranges of
# 1, 10, 100 and 1,000 commits ending at HEAD, and `pre-push` / `ci` for
# one pushed commit.
#
#   bench/git-range.sh REPO [RUNS]
#
# REPO is a work tree or a bare repository with at least 1,001 commits on
# HEAD's first-parent line; RUNS defaults to 5. For each size N the range
# is BASE..HEAD with BASE = HEAD's N-th first-parent ancestor (merges bring
# more commits: the table gives `git rev-list --count`). Round-robin over
# the commands of a size, after one untimed warm-up each:
#
#   rev-list      git rev-list BASE..HEAD (the planning floor)
#   log -p        git log -p BASE..HEAD (the diff floor: text only, no
#                 merges, no detection)
#   keysweep      keysweep git REPO --range BASE..HEAD -j 2 (text report)
#   keysweep json the same with --format json (names the refs holding each
#                 finding's blob: reads the commits of the ref tips and the
#                 trees of those descending from the range's findings)
#   betterleaks   betterleaks git REPO --log-opts=BASE..HEAD (if found)
#   gitleaks      gitleaks git REPO --log-opts=BASE..HEAD (if found)
#   pre-push      keysweep pre-push, stdin: one ref moved from BASE to HEAD
#   ci            keysweep ci, a GitHub push event from BASE to HEAD
#
# (pre-push and ci only for N = 1.) Prints one markdown table: median wall
# (milliseconds, from the shell's clock around /usr/bin/time), median peak
# RSS, and ratios to the `log -p` floor and to the fastest peer.
#
# Environment: KEYSWEEP_BIN (else target/release/keysweep, built first),
# PEERS_BIN (a directory holding betterleaks and/or gitleaks; else PATH).
# Needs GNU time at /usr/bin/time (apt-get install -y time).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 REPO [RUNS]" >&2
    exit 2
fi
repo=$(cd "$1" && pwd)
runs=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${KEYSWEEP_BIN:-$here/target/release/keysweep}

if [ ! -x /usr/bin/time ]; then
    echo "error: /usr/bin/time (GNU time) is missing; install the 'time' package" >&2
    exit 2
fi
# Never run the scanned repository's hooks or fsmonitor from the floors.
g() { git -c core.fsmonitor= -c core.hooksPath=/dev/null -C "$repo" "$@"; }
if ! g rev-parse --git-dir >/dev/null 2>&1; then
    echo "error: $repo is not a git repository" >&2
    exit 2
fi
if [ -z "${KEYSWEEP_BIN:-}" ]; then
    (cd "$here" && cargo build --release --quiet)
fi

peer() { # name: the peer's path, or nothing
    if [ -n "${PEERS_BIN:-}" ] && [ -x "$PEERS_BIN/$1" ]; then
        echo "$PEERS_BIN/$1"
    else
        command -v "$1" || true
    fi
}
betterleaks=$(peer betterleaks)
gitleaks=$(peer gitleaks)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head=$(g rev-parse HEAD)

# The command line of tool $1 for range $2..$head, run from $tmp.
command_for() {
    local tool=$1 base=$2
    case $tool in
    rev-list) echo "git -c core.hooksPath=/dev/null -C '$repo' rev-list $base..$head >/dev/null" ;;
    log-p) echo "git -c core.fsmonitor= -c core.hooksPath=/dev/null -C '$repo' log -p $base..$head >/dev/null" ;;
    keysweep) echo "'$bin' git '$repo' --range $base..$head -j 2 >/dev/null 2>&1" ;;
    keysweep-json) echo "'$bin' git '$repo' --range $base..$head -j 2 --format json >/dev/null 2>&1" ;;
    betterleaks) echo "'$betterleaks' git '$repo' --log-opts='$base..$head' -o '$tmp/bl.json' --no-banner -s -l error --exit-code 0 >/dev/null 2>&1" ;;
    gitleaks) echo "'$gitleaks' git '$repo' --log-opts='$base..$head' -f json -r '$tmp/gl.json' --no-banner -l error --exit-code 0 >/dev/null 2>&1" ;;
    pre-push)
        echo "refs/heads/bench $head refs/heads/bench $base" >"$tmp/stdin"
        echo "cd '$repo' && '$bin' pre-push -j 2 <'$tmp/stdin' >/dev/null 2>&1"
        ;;
    ci)
        printf '{"ref":"refs/heads/bench","before":"%s","after":"%s"}' "$base" "$head" >"$tmp/event.json"
        echo "GITHUB_ACTIONS=true GITHUB_EVENT_NAME=push GITHUB_EVENT_PATH='$tmp/event.json' GITHUB_OUTPUT='$tmp/out' GITHUB_STEP_SUMMARY='$tmp/summary' '$bin' ci --repo '$repo' --format github -j 2 >/dev/null 2>&1"
        ;;
    esac
}

# One timed run of tool $1 on base $2: appends "wall_ms rss_kb" to $tmp/$1.
measure() {
    local tool=$1 base=$2 start end status=0
    local cmd
    cmd=$(command_for "$tool" "$base")
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$tmp/last" sh -c "$cmd" || status=$?
    end=$(date +%s%N)
    # keysweep and the peers exit 1 when they find something.
    if [ "$status" -gt 1 ]; then
        echo "error: $tool exited with status $status: $cmd" >&2
        exit 1
    fi
    echo "$(((end - start) / 1000000)) $(tail -n 1 "$tmp/last")" >>"$tmp/$tool"
}

median() { # column, file
    sort -n -k "$1,$1" "$2" | awk -v c="$1" '{ v[NR] = $c } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

printf '| commits (N first-parent) | tool | median wall ms | median peak RSS MiB | x log -p | x fastest peer |\n'
printf '|---|---|---|---|---|---|\n'
for n in 1 10 100 1000; do
    base=$(g rev-parse "HEAD~$n" 2>/dev/null) || {
        echo "note: HEAD has fewer than $n first-parent ancestors; stopping" >&2
        break
    }
    count=$(g rev-list --count "$base..$head")
    tools="rev-list log-p keysweep keysweep-json"
    [ -n "$betterleaks" ] && tools="$tools betterleaks"
    [ -n "$gitleaks" ] && tools="$tools gitleaks"
    [ "$n" = 1 ] && tools="$tools pre-push ci"
    for t in $tools; do : >"$tmp/$t"; done
    echo "N=$n ($count commits): warm-up..." >&2
    for t in $tools; do measure "$t" "$base"; done
    for t in $tools; do : >"$tmp/$t"; done
    for i in $(seq 1 "$runs"); do
        echo "N=$n run $i/$runs" >&2
        for t in $tools; do measure "$t" "$base"; done
    done
    floor=$(median 1 "$tmp/log-p")
    best=""
    for p in betterleaks gitleaks; do
        case " $tools " in *" $p "*)
            w=$(median 1 "$tmp/$p")
            if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$w; fi
            ;;
        esac
    done
    for t in $tools; do
        w=$(median 1 "$tmp/$t")
        m=$(median 2 "$tmp/$t")
        xf=$(awk -v a="$w" -v b="$floor" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        xp=$(awk -v a="$w" -v b="$best" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        printf '| %s (%s) | %s | %s | %d | %s | %s |\n' "$count" "$n" "$t" "$w" $((m / 1024)) "$xf" "$xp"
    done
done
