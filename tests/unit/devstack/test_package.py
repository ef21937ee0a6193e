"""Lambda zips: the same files give the same bytes, and Lambda's size limits are checked."""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from ems_devstack.package import (
    LAMBDA_UNZIPPED_LIMIT_BYTES,
    LAMBDA_ZIP_LIMIT_BYTES,
    ZIP_FILE_MODE,
    ZIP_TIMESTAMP,
    PackageError,
    check_lambda_limits,
    is_packaged,
    write_reproducible_zip,
)

SOURCES = {
    "handler.py": b"def lambda_handler(event, context):\n    return event\n",
    "pkg/__init__.py": b"",
    "pkg/mod.py": b"VALUE = 1\n",
    "pkg/data/table.json": b'{"a": 1}\n',
    "pkg-1.0.dist-info/METADATA": b"Name: pkg\nVersion: 1.0\n",
}
LEFT_OUT = {
    "pkg/__pycache__/mod.cpython-313.pyc": b"\x00bytecode",
    "pkg/old.pyc": b"\x00bytecode",
    "pkg-1.0.dist-info/RECORD": b"pkg/mod.py,sha256=x,10\n",
    "pkg-1.0.dist-info/direct_url.json": b'{"url": "file:///home/someone/ems"}',
    "pkg-1.0.dist-info/uv_cache.json": b'{"timestamp": 1}',
    "bin/tool": b"#!/home/someone/.venv/bin/python\n",
    ".lock": b"",
    "package_info.json": b'{"uuid": "random"}',
}


def _make_tree(root: Path, files: dict[str, bytes], *, mtime: int, mode: int) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
        os.utime(path, (mtime, mtime))
    return root


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_same_files_give_the_same_zip(tmp_path: Path) -> None:
    # Given the same files written in a different order, at other times, with other modes
    files = SOURCES | LEFT_OUT
    first = _make_tree(tmp_path / "a", files, mtime=1_700_000_000, mode=0o600)
    second = _make_tree(
        tmp_path / "b", dict(reversed(files.items())), mtime=1_800_000_000, mode=0o755
    )

    # When each is zipped
    size_a = write_reproducible_zip(first, tmp_path / "a.zip")
    size_b = write_reproducible_zip(second, tmp_path / "b.zip")

    # Then the zips are the same bytes, and the unzipped size counts the packaged files only
    assert _sha256(tmp_path / "a.zip") == _sha256(tmp_path / "b.zip")
    assert size_a == size_b == sum(len(content) for content in SOURCES.values())


def test_entries_are_sorted_with_one_timestamp_and_mode(tmp_path: Path) -> None:
    # Given a tree with packaged files and files a function never reads
    tree = _make_tree(tmp_path / "tree", SOURCES | LEFT_OUT, mtime=1_750_000_000, mode=0o700)

    # When it is zipped
    write_reproducible_zip(tree, tmp_path / "out.zip")

    # Then the zip holds the packaged files only, sorted, each dated and moded alike
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        entries = archive.infolist()
        assert [entry.filename for entry in entries] == sorted(SOURCES)
        assert {entry.date_time for entry in entries} == {ZIP_TIMESTAMP}
        assert {entry.external_attr >> 16 for entry in entries} == {stat.S_IFREG | ZIP_FILE_MODE}
        assert all(entry.compress_type == zipfile.ZIP_DEFLATED for entry in entries)
        assert archive.read("pkg/mod.py") == SOURCES["pkg/mod.py"]


@pytest.mark.parametrize("name", sorted(LEFT_OUT))
def test_bytecode_and_install_records_are_left_out(name: str) -> None:
    assert not is_packaged(PurePosixPath(name))


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_sources_and_wheel_metadata_are_packaged(name: str) -> None:
    assert is_packaged(PurePosixPath(name))


def test_a_zip_within_the_limits_passes() -> None:
    check_lambda_limits("sender", LAMBDA_ZIP_LIMIT_BYTES, LAMBDA_UNZIPPED_LIMIT_BYTES)


def test_a_zip_over_the_upload_limit_says_so() -> None:
    with pytest.raises(PackageError) as raised:
        check_lambda_limits("sender", LAMBDA_ZIP_LIMIT_BYTES + 1, 10)

    message = str(raised.value)
    assert message.startswith(
        "sender: the zip is 50.0 MiB (52,428,801 bytes), over Lambda's 50.0 MiB limit"
        " for a direct upload (upload it through S3)"
    )
    assert "unzips" not in message
    assert "uv tree --package ems-sender" in message


def test_a_function_over_the_unzipped_limit_says_so() -> None:
    with pytest.raises(PackageError) as raised:
        check_lambda_limits("scheduler", 10, LAMBDA_UNZIPPED_LIMIT_BYTES + 200 * 1024 * 1024)

    message = str(raised.value)
    assert (
        "it unzips to 450.0 MiB (471,859,200 bytes), over Lambda's 250.0 MiB limit for a function"
        in message
    )
    assert "the zip is" not in message
