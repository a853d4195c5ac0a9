#!/usr/bin/env python3
"""Release archives and their checksums file, named as action/install.sh and
`cargo binstall` (Cargo.toml's [package.metadata.binstall]) expect them.

    package.py archive VERSION TARGET BINARY OUTDIR
        OUTDIR/keysweep-vVERSION-TARGET.tar.gz (.zip for Windows targets),
        holding keysweep-vVERSION-TARGET/keysweep[.exe] and README.md
    package.py sums VERSION DIR
        DIR/keysweep-vVERSION-SHA256SUMS: `sha256sum` lines for every archive
        of that version in DIR, sorted by name

The release workflow runs it on every build runner (Linux, macOS, Windows:
hence Python, not GNU tar), and tests/act/run.sh runs it to build the assets
its loopback releases host serves. The archives are reproducible: fixed
timestamps, owners and modes, so the same binary gives the same checksum.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import sys
import tarfile
import zipfile

NAME = "keysweep"
# 1980-01-01, the earliest time a zip entry can carry.
MTIME = 315532800
VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$")
TARGET = re.compile(r"^[a-z0-9_]+(-[a-z0-9_]+){2,3}$")


class UsageError(Exception):
    pass


def is_windows(target: str) -> bool:
    return "-windows-" in target


def archive_name(version: str, target: str) -> str:
    return f"{NAME}-v{version}-{target}" + (".zip" if is_windows(target) else ".tar.gz")


def sums_name(version: str) -> str:
    return f"{NAME}-v{version}-SHA256SUMS"


def check(version: str, target: str | None = None) -> None:
    if not VERSION.match(version):
        raise UsageError(f"not a version: {version!r}")
    if target is not None and not TARGET.match(target):
        raise UsageError(f"not a target triple: {target!r}")


def members(version: str, target: str, binary: str, readme: str) -> list[tuple[str, bytes, int]]:
    top = f"{NAME}-v{version}-{target}"
    exe = NAME + (".exe" if is_windows(target) else "")
    with open(binary, "rb") as f:
        program = f.read()
    with open(readme, "rb") as f:
        text = f.read()
    return [(f"{top}/{exe}", program, 0o755), (f"{top}/README.md", text, 0o644)]


def write_archive(path: str, files: list[tuple[str, bytes, int]], windows: bool) -> None:
    if windows:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, data, mode in files:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        return
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    with open(path, "wb") as out:
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=MTIME) as gz:
            gz.write(raw.getvalue())


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def archive(version: str, target: str, binary: str, outdir: str) -> str:
    check(version, target)
    readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, archive_name(version, target))
    write_archive(path, members(version, target, binary, readme), is_windows(target))
    return path


def sums(version: str, directory: str) -> str:
    check(version)
    prefix = f"{NAME}-v{version}-"
    names = sorted(
        n for n in os.listdir(directory) if n.startswith(prefix) and n.endswith((".tar.gz", ".zip"))
    )
    if not names:
        raise UsageError(f"no {prefix}* archives in {directory}")
    path = os.path.join(directory, sums_name(version))
    with open(path, "w", newline="\n") as f:
        for n in names:
            f.write(f"{sha256(os.path.join(directory, n))}  {n}\n")
    return path


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 6 and argv[1] == "archive":
            print(archive(*argv[2:]))
        elif len(argv) == 4 and argv[1] == "sums":
            print(sums(*argv[2:]))
        else:
            raise UsageError("usage: package.py archive VERSION TARGET BINARY OUTDIR | sums VERSION DIR")
    except (UsageError, OSError) as e:
        print(f"package.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
