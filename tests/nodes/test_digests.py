"""Input files' content hashes: kept while a file is unchanged, taken again after any change."""

import hashlib
import os
import time

from nodes import digests
from nodes.digests import file_sha256


def _old(path, age_s: float = 60.0) -> None:
    """Give ``path`` a modification time in the past (its change time stays now)."""
    then = time.time() - age_s
    os.utime(path, (then, then))


def test_the_hash_is_the_content_sha256(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"x,y\n1,2\n" * 1000)
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_unchanged_file_is_hashed_once(tmp_path, monkeypatch):
    path = tmp_path / "a.csv"
    path.write_bytes(b"x,y\n1,2\n")
    _old(path)
    monkeypatch.setattr(digests, "RACY_S", 0.0)  # the change time (the utime above) is only just past
    first = file_sha256(path)
    assert digests._stamp(path) in digests._hashes
    assert file_sha256(path) == first


def test_an_edit_that_keeps_size_and_modification_time_is_seen(tmp_path, monkeypatch):
    path = tmp_path / "a.csv"
    path.write_bytes(b"x,y\n1,2\n")
    _old(path)
    monkeypatch.setattr(digests, "RACY_S", 0.0)
    before = file_sha256(path)
    stat = path.stat()
    path.write_bytes(b"x,y\n3,4\n")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same modification time; the change time moves
    assert file_sha256(path) == hashlib.sha256(b"x,y\n3,4\n").hexdigest() != before


def test_a_file_changed_just_now_is_not_kept(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"x,y\n1,2\n")
    file_sha256(path)
    assert digests._stamp(path) not in digests._hashes  # it could change again within the clock's resolution
