#!/usr/bin/env bash
# Growth of time and peak memory with the size of hostile input.
#
#   bench/growth.sh [RUNS] [SECTION]
#
# SECTION is `archives`, `linear` (the dimensions of issue 20.3-20.9, built
# by bench/hostile.py) or `all` (the default).
#
# For each input dimension, builds one hostile input at a small and a large
# size (4x), scans each RUNS times (default 3) with the release binary, and
# prints the median wall time and peak RSS of both and their ratios. Linear
# cost shows as a time ratio near the size ratio (or near 1 where a bound
# caps the work); quadratic cost as its square. One section per dimension,
# so other dimensions can be added below the archive ones.
#
# (GNU time prints "Command exited with non-zero status 1" before its
# figures when keysweep finds something: only its last line is read.)
# Needs GNU time at /usr/bin/time and python3; the zstd and 7z inputs need
# the venv the integration tests build (target/keysweep-venvs/archive-tools,
# with zstandard and py7zr) and are skipped without it.
# KEYSWEEP_BIN overrides the binary (then nothing is built).
set -euo pipefail

runs=${1:-3}
section=${2:-all}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${KEYSWEEP_BIN:-$here/target/release/keysweep}
py=python3
if [ -x "$here/target/keysweep-venvs/archive-tools/bin/python" ]; then
    py=$here/target/keysweep-venvs/archive-tools/bin/python
fi

if [ ! -x /usr/bin/time ]; then
    echo "error: /usr/bin/time (GNU time) is missing; install the 'time' package" >&2
    exit 2
fi
if [ -z "${KEYSWEEP_BIN:-}" ]; then
    (cd "$here" && cargo build --release --quiet)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Scans directory $1 RUNS times; prints "median_wall_s median_rss_kib".
scan() {
    local dir=$1 i
    : >"$tmp/times"
    for ((i = 0; i < runs; i++)); do
        /usr/bin/time -f '%e %M' -o "$tmp/last" \
            "$bin" scan "$dir" --format json --no-progress --threads 1 >/dev/null 2>"$tmp/stderr" || true
        tail -n 1 "$tmp/last" >>"$tmp/times"
    done
    echo "$(cut -d' ' -f1 "$tmp/times" | median) $(cut -d' ' -f2 "$tmp/times" | median)"
}

printf '%-34s %10s %10s %10s %10s %7s %7s\n' dimension small_s large_s small_MiB large_MiB t_ratio m_ratio

# Builds input NAME at SIZE into a fresh directory (python, below), scans
# both sizes, prints one row.
row() {
    local name=$1 small=$2 large=$3
    mkdir -p "$tmp/$name-s" "$tmp/$name-l"
    if ! "$py" "$tmp/make.py" "$name" "$small" "$tmp/$name-s" ||
        ! "$py" "$tmp/make.py" "$name" "$large" "$tmp/$name-l"; then
        printf '%-34s skipped (its tool is missing)\n' "$name"
        return
    fi
    read -r ts ms < <(scan "$tmp/$name-s")
    read -r tl ml < <(scan "$tmp/$name-l")
    awk -v n="$name" -v ts="$ts" -v tl="$tl" -v ms="$ms" -v ml="$ml" 'BEGIN {
        printf "%-34s %10.2f %10.2f %10.1f %10.1f %7.2f %7.2f\n", n, ts, tl, ms/1024, ml/1024,
            (ts > 0 ? tl/ts : 0), ml/ms }'
    rm -rf "$tmp/$name-s" "$tmp/$name-l"
}

cat >"$tmp/make.py" <<'PY'
import bz2, io, lzma, os, struct, sys, tarfile
name, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
EOCD = b"PK\x05\x06" + bytes(4) + struct.pack("<HHIIH", 1, 1, 46, 0, 0)

def text(n):
    # Lines of config-like text with no credential: the scanner reads it all.
    line = b"build.step.%08d = compile the module and link it with the others\n"
    return b"".join(line % i for i in range(n // 70 + 1))[:n]

def tar_of(body):
    o = io.BytesIO()
    with tarfile.open(fileobj=o, mode="w") as t:
        i = tarfile.TarInfo("big.txt"); i.size = len(body); t.addfile(i, io.BytesIO(body))
    return o.getvalue()

def put(fname, data):
    with open(os.path.join(out, fname), "wb") as f:
        f.write(data)

if name == "zip of end records (records)":
    put("records.zip", b"PK\x03\x04" + EOCD * size)
elif name == "gz of end records (MiB inflated)":
    import gzip
    put("records.zip.gz", gzip.compress(b"PK\x03\x04" + EOCD * (size * (1 << 20) // 22), 6))
elif name.startswith("tar.xz of text"):
    put("t.tar.xz", lzma.compress(tar_of(text(size << 20)), preset=0))
elif name.startswith("tar.bz2 of text"):
    put("t.tar.bz2", bz2.compress(tar_of(text(size << 20)), 1))
elif name.startswith("tar.zst of text"):
    import zstandard
    put("t.tar.zst", zstandard.ZstdCompressor().compress(tar_of(text(size << 20))))
elif name.startswith("7z of text"):
    import py7zr
    with py7zr.SevenZipFile(os.path.join(out, "t.7z"), "w") as z:
        z.writestr(text(size << 20), "big.txt")
elif name.startswith("xz bomb"):
    with lzma.open(os.path.join(out, "b.xz"), "wb", preset=0) as f:
        for _ in range(size):
            f.write(bytes(1 << 20))
elif name.startswith("zst bomb"):
    import zstandard
    with open(os.path.join(out, "b.zst"), "wb") as raw, zstandard.ZstdCompressor().stream_writer(raw) as f:
        for _ in range(size):
            f.write(bytes(1 << 20))
elif name.startswith("7z members"):
    import py7zr
    with py7zr.SevenZipFile(os.path.join(out, "m.7z"), "w") as z:
        for i in range(size):
            z.writestr(b"key = value %d\n" % i, "dir/file%d.txt" % i)
else:
    sys.exit("unknown input " + name)
PY

# Builds `bench/hostile.py KIND SIZE` for both sizes, runs what it says
# (`scan DIR`, `git DIR` or `range DIR BASE..HEAD`), prints one row.
hostile() {
    local name=$1 kind=$2 small=$3 large=$4 size dir how i ts ms tl ml
    for size in "$small" "$large"; do
        dir=$tmp/$kind-$size
        read -r -a how < <(python3 "$here/bench/hostile.py" "$kind" "$size" "$dir")
        case ${how[0]} in
        scan) set -- scan "${how[1]}" ;;
        git) set -- git "${how[1]}" ;;
        range) set -- git "${how[1]}" --range "${how[2]}" ;;
        esac
        : >"$tmp/times"
        for ((i = 0; i < runs; i++)); do
            /usr/bin/time -f '%e %M' -o "$tmp/last" \
                "$bin" "$@" --format json --no-progress --threads 1 >/dev/null 2>"$tmp/stderr" || true
            tail -n 1 "$tmp/last" >>"$tmp/times"
        done
        if [ "$size" = "$small" ]; then
            read -r ts ms < <(echo "$(cut -d' ' -f1 "$tmp/times" | median) $(cut -d' ' -f2 "$tmp/times" | median)")
        else
            read -r tl ml < <(echo "$(cut -d' ' -f1 "$tmp/times" | median) $(cut -d' ' -f2 "$tmp/times" | median)")
        fi
        rm -rf "$dir"
    done
    awk -v n="$name" -v ts="$ts" -v tl="$tl" -v ms="$ms" -v ml="$ml" 'BEGIN {
        printf "%-34s %10.2f %10.2f %10.1f %10.1f %7.2f %7.2f\n", n, ts, tl, ms/1024, ml/1024,
            (ts > 0 ? tl/ts : 0), ml/ms }'
}

if [ "$section" = all ] || [ "$section" = linear ]; then
    # --- findings, names, refs, trees, packs, parents, nesting (issue 20.3-20.9)
    hostile "keys in one file (keys)" keys-per-blob 50000 200000
    hostile "files of 1,000 keys (files)" keys-in-files 25 100
    hostile ".gz of key-ID lines (MiB)" gz-keyids 16 64
    hostile ".tar.gz, 200 KB name (keys)" tar-long-name 2000 8000
    hostile "500 KB author (keys)" author-name 1000 4000
    hostile "long path in git (bytes)" long-path 50000 200000
    hostile "tags on a leaking blob (tags)" tags 10000 40000
    hostile "deep tree, 1-byte names (levels)" deep 1000 4000
    hostile "deep tree, 200-byte names (lvls)" deep-long 1000 4000
    hostile "deep tree, range scan (levels)" deep-range 1000 4000
    hostile "deep tree past the cap (levels)" deep 5000 20000
    hostile "blob at 20k paths (commits)" shared-paths 500 2000
    hostile "pack files (packs)" packs 1000 4000
    hostile "octopus merge (parents)" octopus 10000 40000
    hostile "octopus, own files (parents)" octopus-own-files 2500 10000
    hostile "nested .gitignore (directories)" ignores 500 2000
fi
[ "$section" = all ] || [ "$section" = archives ] || exit 0

# --- archives (issue 20.1 and the archive formats) -----------------------
row "zip of end records (records)" 25000 100000
row "gz of end records (MiB inflated)" 16 64
row "tar.xz of text (MiB)" 8 32
row "tar.bz2 of text (MiB)" 8 32
row "tar.zst of text (MiB)" 8 32
row "7z of text (MiB)" 8 32
row "xz bomb (MiB of zeros)" 256 1024
row "zst bomb (MiB of zeros)" 256 1024
row "7z members (count)" 1000 4000
