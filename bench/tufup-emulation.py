"""Emulation of tufup 0.7's repository side, for the release benchmark.

tufup (PyPI) cannot be installed here, so this runs what its repository side
does, with the same libraries where Debian has them:

  archive DIR OUT.tar.gz   tarfile.open(OUT, 'w:gz', format=PAX_FORMAT) then
                           add(DIR, arcname='.') -- tufup's make_gztar_archive
                           (gzip level 9, tarfile's default).
  patch OLD.tar.gz NEW.tar.gz OUT.patch [CAP]
                           gzip.open().read() of both archives (both tars held
                           in memory, as tufup's Patcher does), then
                           bsdiff4.diff(old, new). python3-bsdiff4 is not in
                           Debian, so the same algorithm runs as Debian's
                           `bsdiff` (bsdiff 4.3, which bsdiff4 wraps) on the
                           two tars written to a scratch folder; writing them
                           is not counted. With CAP > 0, bsdiff is
                           stopped after CAP seconds (bsdiffCapped: its
                           time is then a lower bound).

Prints one JSON line: seconds per step, this process's peak RSS and the
bsdiff child's peak RSS (KiB). tufup runs bsdiff4 inside its own process, so
its peak is the sum of the two.
"""
import gzip
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time


def archive(src, out):
    t = time.monotonic()

    def normalise(info):
        info.uid = info.gid = 0
        info.uname = info.gname = ''
        return info

    with tarfile.open(out, 'w:gz', format=tarfile.PAX_FORMAT) as tar:
        tar.add(src, arcname='.', filter=normalise)
    return {'archiveSeconds': time.monotonic() - t}


def patch(old_gz, new_gz, out, cap):
    t = time.monotonic()
    with gzip.open(old_gz) as f:
        old = f.read()
    with gzip.open(new_gz) as f:
        new = f.read()
    gunzip = time.monotonic() - t
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(out))) as d:
        po, pn = os.path.join(d, 'old.tar'), os.path.join(d, 'new.tar')
        with open(po, 'wb') as f:
            f.write(old)
        with open(pn, 'wb') as f:
            f.write(new)
        t = time.monotonic()
        capped = False
        try:
            subprocess.run(['bsdiff', po, pn, out], check=True, timeout=cap if cap > 0 else None)
        except subprocess.TimeoutExpired:
            capped = True  # run() has killed and reaped bsdiff: its usage is in RUSAGE_CHILDREN
        diff = time.monotonic() - t
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        'gunzipSeconds': gunzip,
        'bsdiffSeconds': diff,
        'bsdiffCpuSeconds': child.ru_utime + child.ru_stime,
        'bsdiffMaxRssKiB': child.ru_maxrss,
        'bsdiffCapped': capped,
        'oldTar': len(old),
        'newTar': len(new),
    }


def main():
    mode = sys.argv[1]
    if mode == 'archive':
        r = archive(sys.argv[2], sys.argv[3])
    elif mode == 'patch':
        r = patch(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]) if len(sys.argv) > 5 else 0)
    else:
        raise SystemExit('usage: tufup-emulation.py archive DIR OUT | patch OLD NEW OUT')
    r['selfMaxRssKiB'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(r))


main()
