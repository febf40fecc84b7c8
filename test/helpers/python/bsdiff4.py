"""Test-only stand-in for the `bsdiff4` C extension (not packaged in Debian 12), which tufup imports.

diff/patch run Debian's `bsdiff`/`bspatch`, which read and write the same BSDIFF40 format.
"""
import os
import subprocess
import tempfile


def _run(args, first, second):
    with tempfile.TemporaryDirectory() as d:
        a, b, out = (os.path.join(d, n) for n in ("a", "b", "out"))
        with open(a, "wb") as f:
            f.write(first)
        with open(b, "wb") as f:
            f.write(second)
        subprocess.run(args(a, b, out), check=True)
        with open(out, "rb") as f:
            return f.read()


def diff(src_bytes, dst_bytes):
    return _run(lambda a, b, out: ["bsdiff", a, b, out], src_bytes, dst_bytes)


def patch(src_bytes, patch_bytes):
    # bspatch OLD NEW PATCH
    return _run(lambda a, b, out: ["bspatch", a, out, b], src_bytes, patch_bytes)
