#!/usr/bin/env bash
# Cold and warm timing of an organization scan.
#
#   bench/org.sh LIST [CACHE_DIR]
#
# LIST is a `keysweep org --repos` file (clone URLs, e.g. file:///…/repo.git,
# or local paths). Builds the release binary, then runs
#
#   cold  keysweep org --repos LIST --cache-dir CACHE_DIR   (empty cache:
#         every repository is mirror-cloned and every blob scanned)
#   warm  the same command again (clones refreshed with git fetch, every
#         blob recalled from the state, findings reported again)
#
# and prints wall time, peak RSS (of keysweep and its git children, as GNU
# time reports the largest), blobs scanned, blobs recalled and objects
# decoded of each. ORG_BENCH_RUNS=N (default 1) repeats the warm run N
# times and prints the median wall time and RSS.
# With ORG_BENCH_COMMIT=1 a third kind of run, "new", follows one new
# commit (one new small file) in every file:// repository of LIST, made
# with git plumbing (N times, each after its own commit): point LIST at
# copies you may change (git clone --bare --shared makes them in seconds).
# CACHE_DIR defaults to a temporary directory removed at the end; a given
# CACHE_DIR is emptied first. Needs GNU time at /usr/bin/time and jq.
# KEYSWEEP_BIN overrides the binary (then nothing is built); extra keysweep
# flags can be passed in KEYSWEEP_FLAGS (e.g. "--jobs 2 -j 2").
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 LIST [CACHE_DIR]" >&2
    exit 2
fi
list=$1
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${KEYSWEEP_BIN:-$here/target/release/keysweep}

for tool in /usr/bin/time jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool is missing (packages: time, jq)" >&2
        exit 2
    fi
done
if [ ! -r "$list" ]; then
    echo "error: cannot read $list" >&2
    exit 2
fi
if [ -z "${KEYSWEEP_BIN:-}" ]; then
    (cd "$here" && cargo build --release --quiet)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cache=${2:-$tmp/cache}
rm -rf "$cache"
repos=$(grep -cvE '^[[:space:]]*(#|$)' "$list" || true)

run() {
    local name=$1 status=0
    # shellcheck disable=SC2086 # KEYSWEEP_FLAGS is a list of flags
    /usr/bin/time -f '%e %M' -o "$tmp/time" \
        "$bin" org --repos "$list" --cache-dir "$cache" --format json \
        --no-progress ${KEYSWEEP_FLAGS:-} >"$tmp/$name.json" 2>"$tmp/$name.err" || status=$?
    # 0 clean, 1 findings; anything else is a failed run.
    if [ "$status" -gt 1 ]; then
        echo "error: $name run exited with $status:" >&2
        tail -n 20 "$tmp/$name.err" >&2
        exit 2
    fi
    # GNU time writes "Command exited with non-zero status 1" first when
    # there are findings: the figures are on the last line.
    read -r wall rss < <(tail -n 1 "$tmp/time")
    echo "${name%%[0-9]*} $wall $rss" >>"$tmp/figures"
    printf '%-5s  %8.2f s  %8.1f MiB  %10s  %10s  %10s  %8s  %6s\n' "$name" "$wall" \
        "$(echo "$rss / 1024" | bc -l)" \
        "$(jq .stats.blobs "$tmp/$name.json")" \
        "$(jq .stats.blobs_already_scanned "$tmp/$name.json")" \
        "$(jq '.stats.objects_decoded // 0' "$tmp/$name.json")" \
        "$(jq '.findings | length' "$tmp/$name.json")" \
        "$(jq .stats.repos_failed "$tmp/$name.json")"
}

# The median wall time and peak RSS of the runs called $1.
median() {
    local walls rsss n
    walls=$(awk -v k="$1" '$1 == k { print $2 }' "$tmp/figures" | sort -n)
    rsss=$(awk -v k="$1" '$1 == k { print $3 }' "$tmp/figures" | sort -n)
    n=$(echo "$walls" | wc -l)
    printf 'median %-5s (%d runs)  %8.2f s  %8.1f MiB\n' "$1" "$n" \
        "$(echo "$walls" | sed -n "$(((n + 1) / 2))p")" \
        "$(echo "$(echo "$rsss" | sed -n "$(((n + 1) / 2))p") / 1024" | bc -l)"
}
runs=${ORG_BENCH_RUNS:-1}

echo "repositories listed: $repos"
printf '%-5s  %10s  %12s  %10s  %10s  %10s  %8s  %6s\n' run wall "peak RSS" scanned recalled decoded findings failed
run cold
for i in $(seq "$runs"); do
    run "warm$i"
done

new_commit() {
    grep -E '^[[:space:]]*file://' "$list" | sed -E 's#^[[:space:]]*file://##' |
        while read -r gd; do
            export GIT_INDEX_FILE="$tmp/bench-index"
            rm -f "$GIT_INDEX_FILE"
            git --git-dir "$gd" read-tree HEAD
            blob=$(date +%s%N | git --git-dir "$gd" hash-object -w --stdin)
            git --git-dir "$gd" update-index --add --cacheinfo "100644,$blob,keysweep-bench.txt"
            tree=$(git --git-dir "$gd" write-tree)
            commit=$(echo "bench: one new commit" |
                GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
                    GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com \
                    git --git-dir "$gd" commit-tree "$tree" -p HEAD)
            git --git-dir "$gd" update-ref HEAD "$commit"
            unset GIT_INDEX_FILE
        done
}
if [ "${ORG_BENCH_COMMIT:-}" = 1 ]; then
    for i in $(seq "$runs"); do
        new_commit
        run "new$i"
    done
fi
median warm
if [ "${ORG_BENCH_COMMIT:-}" = 1 ]; then
    median new
fi
