"""Corrupt, missing or unreachable raw data: every command stops at verification; fetch names the file, the
mirror or URL, and the variable to set.

Every end-to-end test drives the real command line (``python -m heartbeats_analysis.cli``) as a
subprocess, on copies of the real raw data and processed tables in temporary folders (see the ``raw_tree``,
``processed_tree`` and ``published`` fixtures in conftest.py); no test touches the internet.
"""

from __future__ import annotations

import hashlib
import shutil
import socket

from helpers import (
    AGENCY,
    PARAMS_FILE,
    copy_raw_tree,
    environment,
    no_traceback,
    run_cli,
    snapshot,
)

from heartbeats_analysis.ingest import registry


def test_corrupt_or_missing_raw_file_stops_every_command_at_verification(tmp_path, raw_tree, processed_tree):
    """A raw file with one byte changed and another deleted: verify, clean and build each stop with
    the file, the expected and actual sha256 and the fix, before any step runs or writes anything."""
    raw = copy_raw_tree(raw_tree, tmp_path / "raw")
    processed = shutil.copytree(processed_tree, tmp_path / "processed")
    reports = tmp_path / "reports"
    corrupted = registry.get("ucr_police_missouri_ferguson_police_department")
    missing = registry.get("vsr_metric_year_subset_2020_2024")
    data = bytearray((raw / corrupted.path).read_bytes())
    data[len(data) // 2] ^= 0x01
    (raw / corrupted.path).write_bytes(bytes(data))
    (raw / missing.path).unlink()
    actual = hashlib.sha256(bytes(data)).hexdigest()
    before = snapshot(processed)
    env = environment(raw, processed, reports)

    for args in (["verify"], ["clean"], ["build", "--params", str(PARAMS_FILE), "--no-pdf"]):
        result = run_cli(*args, env=env)
        message = result.stderr
        assert result.returncode == 3, (args, message)
        assert "2 raw data file(s) failed verification" in message
        assert corrupted.path in message and f"expected sha256 {corrupted.sha256}" in message
        assert f"actual   sha256 {actual}" in message
        assert missing.path in message and "missing" in message
        assert "heartbeats fetch" in message and "HEARTBEATS_DATA_MIRROR" in message
        assert "Nothing was built" in message
        assert "running" not in message, message  # no step started
        no_traceback(result)

    assert snapshot(processed) == before
    assert not (reports / AGENCY).exists() and not (reports / ".work").exists()


def test_fetch_from_a_mirror_that_does_not_exist_names_file_mirror_and_variable(tmp_path):
    """`heartbeats fetch` into an empty raw folder with HEARTBEATS_DATA_MIRROR pointing nowhere."""
    raw, mirror = tmp_path / "raw", tmp_path / "no-such-mirror"
    raw.mkdir()
    env = environment(raw, tmp_path / "processed", tmp_path / "reports", HEARTBEATS_DATA_MIRROR=str(mirror))
    result = run_cli("fetch", env=env)
    first = registry.load_registry()[0]
    message = result.stderr
    assert result.returncode == 4, message
    assert f"Could not copy {first.path}" in message
    assert str(mirror) in message and str(mirror / first.path) in message
    assert "HEARTBEATS_DATA_MIRROR" in message
    assert [p for p in raw.rglob("*") if p.is_file()] == []  # no partial file left behind
    no_traceback(result)


def test_fetch_from_a_mirror_missing_one_file_keeps_what_it_copied(tmp_path, mirror):
    """A mirror that lacks one file (the offline equivalent of an unreachable upstream): the command
    names that file, where it looked and HEARTBEATS_DATA_MIRROR; every file copied before it is
    complete and verified, no partial file is left; a rerun with the complete mirror finishes the job."""
    entries = registry.load_registry()
    absent = entries[len(entries) // 2]
    partial_mirror = tmp_path / "mirror"
    shutil.copytree(mirror, partial_mirror)
    (partial_mirror / absent.path).unlink()
    raw = tmp_path / "raw"
    env = environment(raw, tmp_path / "processed", tmp_path / "reports", HEARTBEATS_DATA_MIRROR=str(partial_mirror))

    result = run_cli("fetch", env=env)
    message = result.stderr
    assert result.returncode == 4, message
    assert f"Could not copy {absent.path}" in message and str(partial_mirror / absent.path) in message
    assert "HEARTBEATS_DATA_MIRROR" in message
    no_traceback(result)
    landed = [p for p in raw.rglob("*") if p.is_file()]
    assert not [p for p in landed if p.name.endswith(".partial")]
    by_path = {e.path: e for e in entries}
    assert len(landed) == len(entries) // 2  # everything before the missing file
    for path in landed:
        assert registry.sha256_of(path) == by_path[str(path.relative_to(raw))].sha256
    assert not (raw / absent.path).exists()

    env["HEARTBEATS_DATA_MIRROR"] = str(mirror)
    rerun = run_cli("fetch", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(landed)} already present, {len(entries) - len(landed)} copied" in rerun.stdout
    assert run_cli("verify", env=env).returncode == 0


def test_fetch_without_a_mirror_and_no_network_names_file_url_and_variable(tmp_path):
    """No mirror and the network down: every proxy variable points at a local port that refuses
    connections (a socket bound but not listening), so the download fails at once and nothing leaves
    this machine. The message names the file, its URL and HEARTBEATS_DATA_MIRROR."""
    raw = tmp_path / "raw"
    raw.mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed_port.getsockname()[1]}"
        proxies = {
            name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
        }
        env = environment(raw, tmp_path / "processed", tmp_path / "reports", NO_PROXY="", no_proxy="", **proxies)
        result = run_cli("fetch", env=env, timeout=120)
    first = registry.load_registry()[0]
    message = result.stderr
    assert result.returncode == 4, message
    assert f"Could not download {first.path} from {first.url}" in message
    assert "HEARTBEATS_DATA_MIRROR" in message
    assert [p for p in raw.rglob("*") if p.is_file()] == []
    no_traceback(result)
