#!/usr/bin/env python3
"""Archives made by real tools, for the integration tests.

    python3 tests/support/archives.py real DIR KEY_ID SECRET
    python3 tests/support/archives.py bombs DIR MIB

`real` writes, each holding an `.env` with the credential: xz, bzip2 (the
stdlib's lzma/bz2 modules) and zstd files alone and around a tar, a 7z, and
an xz stream under a name that does not say so. zstd comes from the
`zstandard` module or the `zstd` tool, 7z from `py7zr`, when present (a
venv made by tests/support/pyvenv.py); what could not be made is listed on
stdout as `missing NAME`.

`bombs` writes MIB mebibytes of zeros as .xz, .bz2, .zst and .7z (the last
two when their tools are present), each a few kilobytes.
"""
from __future__ import annotations

import bz2
import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile

CHUNK = 1 << 20


def env(key_id: str, secret: str) -> bytes:
    return f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n".encode()


def tar_of(name: str, body: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(body)
        t.addfile(info, io.BytesIO(body))
    return out.getvalue()


def zstd_compress(body: bytes) -> bytes | None:
    try:
        import zstandard  # type: ignore

        return zstandard.ZstdCompressor().compress(body)
    except ImportError:
        pass
    tool = shutil.which("zstd")
    if tool:
        return subprocess.run([tool, "-q", "-c"], input=body, stdout=subprocess.PIPE, check=True).stdout
    return None


def write_7z(path: str, members: dict[str, bytes]) -> bool:
    try:
        import py7zr  # type: ignore
    except ImportError:
        return False
    with py7zr.SevenZipFile(path, "w") as z:
        for name, body in members.items():
            z.writestr(body, name)
    return True


def real(out: str, key_id: str, secret: str) -> None:
    body = env(key_id, secret)
    tarred = tar_of("app/.env", body)
    files = {
        "creds.env.xz": lzma.compress(body),
        "creds.env.bz2": bz2.compress(body),
        "backup.tar.xz": lzma.compress(tarred),
        "backup.tar.bz2": bz2.compress(tarred),
        # Named like text: recognised by its content.
        "notes.txt": lzma.compress(body),
    }
    z = zstd_compress(body)
    if z is None:
        print("missing zstd")
    else:
        files["creds.env.zst"] = z
        files["backup.tar.zst"] = zstd_compress(tarred)
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    if not write_7z(os.path.join(out, "backup.7z"), {"app/.env": body, "README": b"nothing here\n"}):
        print("missing 7z")


def bombs(out: str, mib: int) -> None:
    zeros = bytes(CHUNK)
    with lzma.open(os.path.join(out, "bomb.xz"), "wb", preset=0) as f:
        for _ in range(mib):
            f.write(zeros)
    with bz2.open(os.path.join(out, "bomb.bz2"), "wb", compresslevel=1) as f:
        for _ in range(mib):
            f.write(zeros)
    try:
        import zstandard  # type: ignore

        with open(os.path.join(out, "bomb.zst"), "wb") as raw:
            with zstandard.ZstdCompressor().stream_writer(raw) as f:
                for _ in range(mib):
                    f.write(zeros)
    except ImportError:
        tool = shutil.which("zstd")
        if tool:
            with open(os.path.join(out, "bomb.zst"), "wb") as raw:
                p = subprocess.Popen([tool, "-q", "-c"], stdin=subprocess.PIPE, stdout=raw)
                for _ in range(mib):
                    p.stdin.write(zeros)
                p.stdin.close()
                p.wait()
        else:
            print("missing zstd")
    try:
        import py7zr  # type: ignore

        path = os.path.join(out, "zeros.bin")
        with open(path, "wb") as f:
            for _ in range(mib):
                f.write(zeros)
        with py7zr.SevenZipFile(os.path.join(out, "bomb.7z"), "w") as z:
            z.write(path, "zeros.bin")
        os.remove(path)
    except ImportError:
        print("missing 7z")


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "real":
        real(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "bombs":
        bombs(sys.argv[2], int(sys.argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
