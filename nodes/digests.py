"""Content hashes of input files, for cache keys: each file is hashed once while it stays unchanged.

Hashing a 1M-row CSV costs about as much CPU as a fifth of reading it, on every run, even with the cache
off (the hash names the outputs). Like git's index and DVC's state database, a hash is kept for the
file's identity and change stamps (device, inode, size, modification and change times, in ns): an edit,
a replacement or a ``touch`` makes a new stamp, so the file is hashed again. A file changed within
``RACY_S`` of its hashing could change again within the clock's resolution and keep its stamp, so its
hash is not kept (git's "racily clean" rule).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

KEPT_HASHES = 4096
RACY_S = 2.0

_hashes: OrderedDict[tuple, str] = OrderedDict()
_lock = threading.Lock()


def _stamp(path: Path) -> tuple:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def file_sha256(path: Path) -> str:
    """The SHA-256 of ``path``'s content (hex), from the kept hashes when the file has not changed since."""
    stamp = _stamp(path)
    with _lock:
        if (known := _hashes.get(stamp)) is not None:
            _hashes.move_to_end(stamp)
            return known
    started = time.time_ns()
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    changed_ns = max(stamp[3], stamp[4])
    if _stamp(path) == stamp and started - changed_ns > RACY_S * 1e9:
        with _lock:
            _hashes[stamp] = digest
            while len(_hashes) > KEPT_HASHES:
                _hashes.popitem(last=False)
    return digest
