import csv
import re

from heartbeats_analysis.ingest import registry


def test_registry_lists_every_manifest_file_with_the_same_checksum(mirror):
    with open(mirror / "MANIFEST.csv", encoding="utf-8") as handle:
        manifest = {row["file"]: row for row in csv.DictReader(handle)}
    entries = {entry.path: entry for entry in registry.load_registry()}
    assert set(entries) == set(manifest)
    for path, row in manifest.items():
        assert entries[path].sha256 == row["sha256"], path
        assert entries[path].bytes == int(row["bytes"]), path
        assert entries[path].publisher == row["publisher"]
        assert entries[path].license == row["license"]


def test_every_ucr_agency_file_is_registered():
    offenses = registry.entries_under("ucr/offenses/")
    police = registry.entries_under("ucr/police/")
    assert len(offenses) == 16 and len(police) == 16
    assert any("Ferguson" in e.path for e in offenses)


def test_registry_entries_are_complete_and_pinned():
    keys = [e.key for e in registry.load_registry()]
    assert len(keys) == len(set(keys))
    for entry in registry.load_registry():
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        assert entry.url.startswith("https://")
        pinned_commit = re.search(r"/[0-9a-f]{40}/", entry.url)
        assert pinned_commit or entry.in_archive, f"{entry.path}: URL not pinned to a commit"
        if entry.in_archive:
            assert re.fullmatch(r"[0-9a-f]{64}", entry.archive_sha256)
        assert entry.publisher and entry.license and entry.data_through


def test_data_as_of_is_the_latest_period_in_the_registry():
    assert registry.data_as_of() == "2025-05"


def test_unknown_key_names_the_known_ones():
    try:
        registry.get("no_such_file")
    except KeyError as error:
        assert "acs_missouri_statewide_population_2014_2024" in str(error)
    else:
        raise AssertionError("expected KeyError")
