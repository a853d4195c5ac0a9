#!/usr/bin/env python3
"""Builds the hostile inputs of issue 20 (3-9) at a given size.

    bench/hostile.py KIND SIZE OUT_DIR

Each KIND stresses one input dimension of keysweep; SIZE is that dimension
(keys, tags, levels, packs, parents, ...). Git repositories are written as
raw objects (no git program, no hooks), so that shapes git itself refuses to
build or builds slowly (20,000-level trees, 80,000-parent merges, 4,000
packs) take seconds. Used by bench/growth.sh; prints what to scan:
`scan PATH`, `git PATH` or `range PATH BASE..HEAD`.
"""
import gzip
import hashlib
import io
import os
import struct
import sys
import tarfile
import zlib

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def key_id(i):
    """A distinct, well-formed, random-looking key ID for each i."""
    digest = hashlib.sha1(b"%d" % i).digest()
    return "AKIASP2TPHJS" + "".join(B32[b % 32] for b in digest[:8])


# A key ID that is no placeholder, for inputs that need one.
ONE_KEY = b"aws_access_key_id = AKIASP2TPHJSQH3FJRUX\n"


def key_lines(n, start=0):
    return "".join("aws_access_key_id = %s\n" % key_id(i) for i in range(start, start + n)).encode()


class Repo:
    """A bare repository written object by object."""

    def __init__(self, path):
        self.path = path
        for d in ("objects/pack", "refs/heads", "refs/tags"):
            os.makedirs(os.path.join(path, d), exist_ok=True)
        with open(os.path.join(path, "HEAD"), "w") as f:
            f.write("ref: refs/heads/main\n")
        with open(os.path.join(path, "config"), "w") as f:
            f.write("[core]\n\trepositoryformatversion = 0\n\tbare = true\n")

    def put(self, kind, data):
        raw = b"%s %d\0" % (kind, len(data)) + data
        oid = hashlib.sha1(raw).hexdigest()
        d = os.path.join(self.path, "objects", oid[:2])
        p = os.path.join(d, oid[2:])
        if not os.path.exists(p):
            os.makedirs(d, exist_ok=True)
            with open(p, "wb") as f:
                f.write(zlib.compress(raw, 1))
        return oid

    def blob(self, data):
        return self.put(b"blob", data)

    def tree(self, entries):
        """entries: (mode, name bytes, hex id); sorted the way git sorts."""
        key = lambda e: e[1] + (b"/" if e[0] == b"40000" else b"")
        body = b"".join(
            m + b" " + n + b"\0" + bytes.fromhex(i) for m, n, i in sorted(entries, key=key)
        )
        return self.put(b"tree", body)

    def commit(self, tree, parents=(), author=b"T", when=1700000000, msg=b"c"):
        lines = [b"tree " + tree.encode()]
        lines += [b"parent " + p.encode() for p in parents]
        sig = b"%s <t@example.com> %d +0000" % (author, when)
        lines += [b"author " + sig, b"committer T <t@example.com> %d +0000" % when]
        return self.put(b"commit", b"\n".join(lines) + b"\n\n" + msg + b"\n")

    def ref(self, name, oid):
        p = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(oid + "\n")


def pack(repo, blobs):
    """Writes one pack (and its v2 index) holding `blobs`, undeltified."""
    objs = []
    body = io.BytesIO()
    body.write(b"PACK" + struct.pack(">II", 2, len(blobs)))
    for data in blobs:
        oid = hashlib.sha1(b"blob %d\0" % len(data) + data).digest()
        offset = body.tell()
        n = len(data)
        head = bytearray([(3 << 4) | (n & 15)])
        n >>= 4
        while n:
            head[-1] |= 0x80
            head.append(n & 0x7F)
            n >>= 7
        entry = bytes(head) + zlib.compress(data, 1)
        body.write(entry)
        objs.append((oid, zlib.crc32(entry), offset))
    data = body.getvalue()
    pack_sha = hashlib.sha1(data).digest()
    data += pack_sha
    objs.sort()
    idx = io.BytesIO()
    idx.write(b"\xfftOc" + struct.pack(">I", 2))
    fan = [0] * 256
    for oid, _, _ in objs:
        fan[oid[0]] += 1
    total = 0
    for i in range(256):
        total += fan[i]
        idx.write(struct.pack(">I", total))
    for oid, _, _ in objs:
        idx.write(oid)
    for _, crc, _ in objs:
        idx.write(struct.pack(">I", crc))
    for _, _, off in objs:
        idx.write(struct.pack(">I", off))
    idx.write(pack_sha)
    idx_bytes = idx.getvalue()
    idx_bytes += hashlib.sha1(idx_bytes).digest()
    name = os.path.join(repo.path, "objects", "pack", "pack-" + pack_sha.hex())
    with open(name + ".pack", "wb") as f:
        f.write(data)
    with open(name + ".idx", "wb") as f:
        f.write(idx_bytes)


def main():
    kind, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    if kind == "tar-long-name":
        # issue 20.3: a 200 KB member name over SIZE key IDs, in a .tar.gz.
        body = ("%s\n" % key_id(0)).encode() * size
        t = io.BytesIO()
        with tarfile.open(fileobj=t, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo("d/" * 100_000 + "k.txt")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        with open(os.path.join(out, "long.tar.gz"), "wb") as f:
            f.write(gzip.compress(t.getvalue(), 9))
        print("scan", out)
    elif kind == "gz-keyids":
        # issue 20.3: SIZE MiB of key-ID lines, gzipped (~80 KB for 64 MiB).
        line = ("%s\n" % key_id(7)).encode()
        data = line * ((size << 20) // len(line))
        with open(os.path.join(out, "keys.gz"), "wb") as f:
            f.write(gzip.compress(data, 9))
        print("scan", out)
    elif kind == "keys-per-blob":
        # SIZE distinct key IDs in one plain file.
        with open(os.path.join(out, "keys.txt"), "wb") as f:
            f.write(key_lines(size))
        print("scan", out)
    elif kind == "keys-in-files":
        # Memory per reported finding: SIZE files of 1,000 distinct key IDs.
        for f in range(size):
            with open(os.path.join(out, "keys%05d.txt" % f), "wb") as fh:
                fh.write(key_lines(1000, 1000 * f))
        print("scan", out)
    elif kind == "long-path":
        # A file SIZE bytes deep in names (a git path), one key: the path is
        # reported, capped.
        r = Repo(out)
        t = r.tree([(b"100644", b"k.txt", r.blob(ONE_KEY))])
        name = b"n" * 200
        for _ in range(size // 201):
            t = r.tree([(b"40000", name, t)])
        r.ref("refs/heads/main", r.commit(t))
        print("git", out)
    elif kind == "author-name":
        # issue 20.3: a 500 KB author name over SIZE keys in one blob.
        r = Repo(out)
        t = r.tree([(b"100644", b"keys.txt", r.blob(key_lines(size)))])
        r.ref("refs/heads/main", r.commit(t, author=b"A" * 500_000))
        print("git", out)
    elif kind == "tags":
        # issue 20.4: one leaking blob, SIZE tags on the commit holding it.
        r = Repo(out)
        t = r.tree([(b"100644", b"keys.txt", r.blob(key_lines(10)))])
        c = r.commit(t)
        r.ref("refs/heads/main", c)
        with open(os.path.join(out, "packed-refs"), "w") as f:
            f.write("# pack-refs with: peeled fully-peeled sorted \n")
            for i in sorted("refs/tags/v%07d" % i for i in range(size)):
                f.write("%s %s\n" % (c, i))
        print("git", out)
    elif kind.startswith("deep"):
        # issue 20.5: a key SIZE directories deep; names of 1 or 200 bytes;
        # deep-range scans the commit that added it as a range.
        r = Repo(out)
        width = 200 if kind == "deep-long" else 1
        t = r.tree([(b"100644", b"k.txt", r.blob(ONE_KEY))])
        for i in range(size):
            t = r.tree([(b"40000", b"d" * width, t), (b"100644", b"f", r.blob(b"%d" % (i % 2)))])
        base = r.commit(r.tree([(b"100644", b"README", r.blob(b"hi\n"))]))
        head = r.commit(t, [base], when=1700000100)
        r.ref("refs/heads/main", head)
        r.ref("refs/tags/base", base)
        print("range" if kind == "deep-range" else "git", out, "base..main")
    elif kind == "shared-paths":
        # issue 20.6: one leaking blob at 20,000 paths of a subtree that SIZE
        # commits keep (each commit changes one other file), and a second,
        # dangling one that no commit holds, so attribution visits them all.
        r = Repo(out)
        leak = r.blob(ONE_KEY)
        r.blob(b"aws_access_key_id = AKIASP2TPHJSWK7DFQZM\n")
        sub = r.tree([(b"100644", b"k%05d" % i, leak) for i in range(20_000)])
        parent = []
        for i in range(size):
            t = r.tree([(b"40000", b"s", sub), (b"100644", b"n", r.blob(b"%d" % i))])
            parent = [r.commit(t, parent, when=1700000000 + i)]
        r.ref("refs/heads/main", parent[0])
        print("git", out)
    elif kind == "packs":
        # issue 20.7: SIZE packs of 16 blobs each, every pack repeating one
        # blob of the previous pack, and a leaking blob in the last.
        r = Repo(out)
        for i in range(size):
            blobs = [b"pack %d blob %d\n" % (i, j) for j in range(15)]
            blobs.append(b"pack %d blob 0\n" % max(i - 1, 0))
            if i == size - 1:
                blobs.append(ONE_KEY)
            pack(r, blobs)
        t = r.tree([(b"100644", b"keys.txt", r.blob(ONE_KEY))])
        r.ref("refs/heads/main", r.commit(t))
        print("git", out)
    elif kind == "octopus":
        # issue 20.8: a merge of SIZE branches that each changed one file,
        # and the merge adds a key; the range is base..merge.
        r = Repo(out)
        readme = (b"100644", b"README", r.blob(b"hi\n"))
        base = r.commit(r.tree([readme]))
        parents = []
        for i in range(size):
            t = r.tree([readme, (b"100644", b"f", r.blob(b"%d\n" % i))])
            parents.append(r.commit(t, [base], when=1700000001))
        leak = (b"100644", b"keys.txt", r.blob(ONE_KEY))
        merge_tree = r.tree([readme, (b"100644", b"f", r.blob(b"merged\n")), leak])
        merge = r.commit(merge_tree, parents, when=1700000002)
        r.ref("refs/heads/main", merge)
        r.ref("refs/tags/base", base)
        print("range", out, "base..main")
    elif kind == "octopus-own-files":
        # issue 20.8, the costly shape: each of SIZE branches adds its own
        # file, so the merge differs from every parent in all the others'.
        r = Repo(out)
        readme = (b"100644", b"README", r.blob(b"hi\n"))
        base = r.commit(r.tree([readme]))
        parents, files = [], [readme]
        for i in range(size):
            f = (b"100644", b"f%06d" % i, r.blob(b"%d\n" % i))
            parents.append(r.commit(r.tree([readme, f]), [base], when=1700000001))
            files.append(f)
        files.append((b"100644", b"keys.txt", r.blob(ONE_KEY)))
        merge = r.commit(r.tree(files), parents, when=1700000002)
        r.ref("refs/heads/main", merge)
        r.ref("refs/tags/base", base)
        print("range", out, "base..main")
    elif kind == "ignores":
        # issue 20.9: SIZE nested directories each with a .gitignore, 4
        # files in each.
        d = out
        for i in range(size):
            d = os.path.join(d, "d")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, ".gitignore"), "w") as f:
                f.write("*.log\nbuild-%d/\n" % i)
            for j in range(4):
                with open(os.path.join(d, "f%d.txt" % j), "w") as f:
                    f.write("x\n")
        print("scan", out)
    else:
        sys.exit("unknown input " + kind)


if __name__ == "__main__":
    main()
