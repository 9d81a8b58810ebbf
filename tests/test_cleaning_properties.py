"""Property tests: cleaning never turns a missing value into a zero and never changes a count.

Hypothesis writes tiny raw files laid out like data/raw (as the fixtures in tests/test_sources_*.py
do), in every notation the published files use (plain, '1,234', '1.234000e+03', '1234.0', padded with
spaces) with gaps written as '', 'NA' or 'NaN'; the real ``load_raw`` and ``clean`` of each source read
them, and every processed value is compared with the raw text it came from.

The one deliberate exception is documented in ucr_common.mark_reporting_gaps: a year in which every
employee (or offence) count is 0 is the FBI's way of writing "no report", so it becomes missing. A
missing value may therefore come from a zero, but a zero never comes from a missing value.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources import ucr_offenses, ucr_police, vsr
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    parse_count,
    to_int64,
)

PROPERTY_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FERGUSON_STEM = "Missouri_Ferguson_Police_Department"
FERGUSON_UCR = ("Ferguson Police Department", "MO09528")
GAP_TOKENS = ["", "NA", "NaN"]


# ---------------------------------------------------------------- strategies


@st.composite
def count_text(draw, value: int) -> str:
    """A published count in one of the notations found in the raw files."""
    notations = [str(value), f"{value:,}", f"{value}.0"]
    if value < 10**6:  # six decimals of mantissa hold every such integer exactly
        notations.append(f"{value:e}")
    text = draw(st.sampled_from(notations))
    return draw(st.sampled_from(["{}", " {}", "{} "])).format(text)


@st.composite
def maybe_count(draw, max_value: int = 5000) -> tuple[int | None, str]:
    """(value, raw text): value None for a gap."""
    if draw(st.booleans()) and draw(st.booleans()):  # a gap one time in four
        return None, draw(st.sampled_from(GAP_TOKENS))
    value = draw(st.integers(min_value=0, max_value=max_value))
    return value, draw(count_text(value))


def zero_or_count(max_value: int = 5000):
    """Counts with zeros and gaps over-represented: where a gap could be mistaken for a zero."""
    zero = st.tuples(st.just(0), st.sampled_from(["0", " 0", "0.0", "0e0"]))
    return st.one_of(zero, maybe_count(max_value))


@st.composite
def year_texts(draw, first: int, count: int) -> list[tuple[int, str]]:
    years = list(range(first, first + count))
    order = draw(st.permutations(years))
    return [(year, draw(st.sampled_from([str(year), f"{year:e}"]))) for year in order]


def assert_count(processed: object, raw: int | None, where: str) -> None:
    """The processed value is exactly the raw count, and missing only where the raw cell was a gap."""
    if raw is None:
        assert pd.isna(processed), f"{where}: a gap became {processed!r}"
    else:
        assert not pd.isna(processed) and int(processed) == raw, f"{where}: {raw} became {processed!r}"


def assert_missing(processed: object, where: str) -> None:
    assert pd.isna(processed), f"{where}: expected missing, got {processed!r}"


# ---------------------------------------------------------------- parse helpers (base.py)


@given(
    st.sampled_from(["", "NA", "NaN", "nan", "NULL", "null", "None", "na"]),
    st.sampled_from(["", " ", "\t", "  "]),
    st.sampled_from(["", " ", "\n"]),
)
def test_every_gap_token_parses_as_missing_never_zero(token, before, after):
    assert math.isnan(parse_count(f"{before}{token}{after}"))


@given(st.text(alphabet=" ,.0123456789eE+-NAna", max_size=12))
def test_parse_count_returns_only_the_number_written(text):
    """Any text: a gap (NaN) only when it holds no digit, else the exact whole number it spells
    (commas ignored) or a ValueError; zero only for a text that spells zero."""
    try:
        value = parse_count(text)
    except ValueError:
        return
    if math.isnan(value):
        assert not any(ch.isdigit() for ch in text), f"{text!r}: a number was read as a gap"
        return
    spelled = float(text.strip().replace(",", ""))
    assert value == spelled and value.is_integer()
    if value == 0:
        assert spelled == 0


@given(st.lists(maybe_count(max_value=10**6), max_size=25), st.sampled_from([object, "str"]))
def test_to_int64_keeps_every_count_and_every_gap(cells, dtype):
    series = pd.Series([text for _, text in cells], index=range(100, 100 + len(cells)), dtype=dtype)
    parsed = to_int64(series)
    assert str(parsed.dtype) == "Int64" and list(parsed.index) == list(series.index)
    for (value, text), out in zip(cells, parsed, strict=True):
        assert_count(out, value, repr(text))


def _cell_by_cell(series: pd.Series) -> pd.Series | str:
    """to_int64's definition: parse_count on every cell in order (the error of the first bad cell)."""
    try:
        return pd.Series([parse_count(v) for v in series], index=series.index, dtype="float64").astype("Int64")
    except ValueError as error:
        return str(error)


@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["0", "7", "1,204", "2e3", "", " 12 ", "2.5", "x", "NA"])), max_size=40
    ),
    st.sampled_from([object, "str"]),
)
def test_to_int64_parsing_each_distinct_text_once_equals_parsing_every_cell(cells, dtype):
    series = pd.Series(cells, dtype=dtype)
    expected = _cell_by_cell(series)
    if isinstance(expected, str):
        with pytest.raises(ValueError) as raised:
            to_int64(series)
        assert str(raised.value) == expected  # the same first bad count
    else:
        pd.testing.assert_series_equal(to_int64(series), expected)


@given(st.lists(st.one_of(st.none(), st.integers(0, 50), st.floats(0, 50), st.just(math.nan)), max_size=30))
def test_to_int64_of_numbers_equals_parsing_every_cell(cells):
    series = pd.Series(cells, dtype=object)
    expected = _cell_by_cell(series)
    if isinstance(expected, str):
        with pytest.raises(ValueError, match="whole number"):
            to_int64(series)
    else:
        pd.testing.assert_series_equal(to_int64(series), expected)


# ---------------------------------------------------------------- UCR police employees -> staffing

POLICE_HEADER = [
    "agency",
    "year",
    "state",
    "population",
    "ORI",
    "female_employees_civilians",
    "female_employees_officers",
    "female_employees_total",
    "male_employees_civilians",
    "male_employees_officers",
    "male_employees_total",
    "total_employees_civilians",
    "total_employees_officers",
    "total_employees_total",
    "officers_killed_by_accident",
    "total_assaults_total",
]


@st.composite
def police_years(draw):
    years = draw(year_texts(2000 + draw(st.integers(0, 10)), draw(st.integers(1, 7))))
    rows = []
    for year, year_text in years:
        officers, civilians = draw(zero_or_count(300)), draw(zero_or_count(100))
        population = draw(st.one_of(st.just((None, "")), st.just((0, "0")), maybe_count(200_000)))
        rows.append(
            {
                "year": year,
                "year_text": year_text,
                "officers": officers,
                "civilians": civilians,
                "population": population,
            }
        )
    return rows


def _blank_if(missing: bool, text: str) -> str:
    return "" if missing else text


def write_police_file(root: Path, rows: list[dict]) -> None:
    """All officers counted as men and all civilians as women, so the sex breakdown agrees; a breakdown
    cell is blank where its count is."""
    agency, ori = FERGUSON_UCR
    lines = [",".join(POLICE_HEADER)]
    for row in rows:
        (off, off_text), (civ, civ_text) = row["officers"], row["civilians"]
        total = "" if off is None or civ is None else str(off + civ)
        cells = [
            agency,
            row["year_text"],
            "Missouri",
            row["population"][1],
            ori,
            civ_text,
            _blank_if(off is None, "0"),
            civ_text,
            _blank_if(civ is None, "0"),
            off_text,
            off_text,
            civ_text,
            off_text,
            total,
            "0",
            "NA",
        ]
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    folder = root / "ucr" / "police"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{FERGUSON_STEM}.csv").write_text("\n".join(lines) + "\n")


@PROPERTY_SETTINGS
@given(police_years())
def test_staffing_passes_counts_through_and_never_invents_a_zero(rows):
    with tempfile.TemporaryDirectory() as folder:
        write_police_file(Path(folder), rows)
        table = ucr_police.clean(ucr_police.load_raw(raw_root=Path(folder)), MissingnessLog())
    table = table.set_index("year")
    assert sorted(table.index) == sorted(r["year"] for r in rows)  # every year, once
    for row in rows:
        out, where = table.loc[row["year"]], f"ferguson {row['year']}"
        officers, civilians = row["officers"][0], row["civilians"][0]
        gap_year = (officers is None and civilians is None) or (officers == 0 and civilians == 0)
        assert bool(out["reported"]) is not gap_year, where
        if gap_year:
            for column in ("sworn_officers", "civilians", "total_employees", "officers_per_1000"):
                assert_missing(out[column], f"{where} {column}")
        else:
            assert_count(out["sworn_officers"], officers, f"{where} sworn_officers")
            assert_count(out["civilians"], civilians, f"{where} civilians")
            both = None if officers is None or civilians is None else officers + civilians
            assert_count(out["total_employees"], both, f"{where} total_employees")
        population = row["population"][0]
        assert_count(out["population"], population or None, f"{where} population")  # a published 0 is no population


# ---------------------------------------------------------------- UCR offenses -> crime

OFFENSE_COLUMNS = [
    "actual_murder",
    "actual_rape_total",
    "actual_robbery_total",
    "actual_assault_aggravated",
    "actual_burg_total",
    "actual_theft_total",
    "actual_motor_vehicle_theft_total",
]
OFFENSES_HEADER = [
    "agency",
    "year",
    "state",
    "population",
    "ORI",
    "officers_assaulted",
    "actual_manslaughter",
    "actual_assault_simple",
    *OFFENSE_COLUMNS,
    "actual_index_violent",
    "actual_index_property",
    "unfounded_murder",
]


@st.composite
def offense_years(draw):
    years = draw(year_texts(1990 + draw(st.integers(0, 20)), draw(st.integers(1, 6))))
    rows = []
    for year, year_text in years:
        kind = draw(st.sampled_from(["counts", "counts", "counts", "empty", "all zero"]))
        if kind == "empty":
            parts = [(None, draw(st.sampled_from(GAP_TOKENS))) for _ in OFFENSE_COLUMNS]
        elif kind == "all zero":
            parts = [(0, "0")] * len(OFFENSE_COLUMNS)
        else:
            parts = [draw(zero_or_count(900)) for _ in OFFENSE_COLUMNS]
        rows.append(
            {
                "year": year,
                "year_text": year_text,
                "parts": parts,
                "population": draw(st.one_of(st.just((None, "")), maybe_count(200_000))),
            }
        )
    return rows


def write_offenses_file(root: Path, rows: list[dict]) -> None:
    agency, ori = FERGUSON_UCR
    lines = [",".join(OFFENSES_HEADER)]
    for row in rows:
        values = [value for value, _ in row["parts"]]
        violent, prop = values[:4], values[4:]
        cells = [
            agency,
            row["year_text"],
            "Missouri",
            row["population"][1],
            ori,
            "0",
            "0",
            "0",
            *(text for _, text in row["parts"]),
            "" if None in violent else str(sum(violent)),
            "" if None in prop else str(sum(prop)),
            "0",
        ]
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    folder = root / "ucr" / "offenses"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{FERGUSON_STEM}.csv").write_text("\n".join(lines) + "\n")


def expected_partial_years(rows: list[dict]) -> set[int]:
    """The partial-year rule as documented (ucr_offenses.PARTIAL_YEAR_SHARE): a reported year with every count
    present whose index total is below a third of the median of at least two such years 1 to 3 years away."""
    totals = {}
    for row in rows:
        values = [value for value, _ in row["parts"]]
        gap_year = all(v is None for v in values) or all(v == 0 for v in values)
        if not gap_year and None not in values:
            totals[row["year"]] = sum(values)
    partial = set()
    for year, total in totals.items():
        near = [t for y, t in totals.items() if 1 <= abs(y - year) <= ucr_offenses.PARTIAL_YEAR_WINDOW]
        if len(near) >= 2 and total < ucr_offenses.PARTIAL_YEAR_SHARE * float(np.median(near)):
            partial.add(year)
    return partial


@PROPERTY_SETTINGS
@given(offense_years())
def test_crime_passes_counts_through_and_never_invents_a_zero(rows):
    with tempfile.TemporaryDirectory() as folder:
        write_offenses_file(Path(folder), rows)
        table = ucr_offenses.clean(ucr_offenses.load_raw(raw_root=Path(folder)), MissingnessLog())
    table = table.set_index("year")
    assert sorted(table.index) == sorted(r["year"] for r in rows)
    partial = expected_partial_years(rows)
    for row in rows:
        out, where = table.loc[row["year"]], f"ferguson {row['year']}"
        values = [value for value, _ in row["parts"]]
        gap_year = all(v is None for v in values) or all(v == 0 for v in values)
        assert bool(out["partial_year"]) is (row["year"] in partial), where
        assert bool(out["reported"]) is not (gap_year or row["year"] in partial), where
        if row["year"] in partial:  # a partial-year report: every count blanked, none invented
            assert all(pd.isna(out[c]) for c in ("violent", "property", *ucr_offenses.OFFENSES)), where
            continue
        for column, value in zip(ucr_offenses.OFFENSES, values, strict=True):
            if gap_year:
                assert_missing(out[column], f"{where} {column}")
            else:
                assert_count(out[column], value, f"{where} {column}")
        for total, parts in (("violent", values[:4]), ("property", values[4:])):
            expected = None if gap_year or None in parts else sum(parts)
            assert_count(out[total], expected, f"{where} {total}")


# ---------------------------------------------------------------- Vehicle Stops Report -> stops

VSR_AGENCIES = ["Ferguson Police Dept", "Florissant Police Dept"]
VSR_YEARS = [2020, 2021, 2022]
STATEWIDE_BY_RACE = (
    "race,year,total_stops,license_stops,license_rate_pct,equipment_rate_pct,investigative_rate_pct,"
    "arrest_rate_pct,search_rate_pct,arrest_count\nWhite,2014,1317360,302797,22.99,14.64,3.9,4.14,"
    "5.21,54539\n"
)
STATEWIDE_HIT_RATES = "year,race,searches,contraband,hit_rate\n2014,White,68620,18434,26.9\n"


@st.composite
def vsr_raw(draw):
    """The JSON (2020-2022, both agencies, some agency-years absent, some cells blank) and Ferguson's
    per-race stops files for 2014-2019 (counts in text notations, some blank)."""
    pairs = [(a, y) for a in range(len(VSR_AGENCIES)) for y in range(len(VSR_YEARS))]
    present = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=len(pairs), unique=True))
    cell = st.one_of(st.none(), st.just(0), st.integers(min_value=0, max_value=5000))
    json_cells = {}
    rows: dict[str, list] = {metric: [] for metric in vsr.COUNT_METRICS}
    for agency, year in sorted(present):
        for metric in vsr.COUNT_METRICS:
            values = [draw(cell) for _ in vsr.RACES]
            rows[metric].append([agency, year, *(None if v is None else float(v) for v in values)])
            for label, value in zip(vsr.RACES, values, strict=True):
                json_cells[(VSR_AGENCIES[agency], VSR_YEARS[year], vsr.RACES[label], vsr.COUNT_METRICS[metric])] = value
    document = {"agencies": VSR_AGENCIES, "years": VSR_YEARS, "columns": list(vsr.RACES), "rows": rows}
    per_race = {}
    for race in vsr.PER_RACE_KEYS:
        years = draw(st.lists(st.integers(2014, 2019), unique=True, max_size=6))
        per_race[race] = [(year, *draw(maybe_count(5000))) for year in years]
    return document, json_cells, per_race


def write_vsr_files(root: Path, document: dict, per_race: dict) -> None:
    def path(key: str) -> Path:
        target = root / registry.get(key).path
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    path(vsr.METRICS_KEY).write_text(json.dumps(document))
    for race, key in vsr.PER_RACE_KEYS.items():
        lines = ["Agency,Region,Year,Stops,Indexed"]
        lines += [f'Ferguson Police Dept,STL Metro,{year},"{text}",' for year, _, text in per_race[race]]
        path(key).write_text("\n".join(lines) + "\n")
    path(vsr.STATEWIDE_BY_RACE_KEY).write_text(STATEWIDE_BY_RACE)
    path(vsr.STATEWIDE_HIT_RATES_KEY).write_text(STATEWIDE_HIT_RATES)


@PROPERTY_SETTINGS
@given(vsr_raw())
def test_stops_pass_counts_through_and_never_invent_a_zero(raw):
    document, json_cells, per_race = raw
    with tempfile.TemporaryDirectory() as folder:
        write_vsr_files(Path(folder), document, per_race)
        table = vsr.clean(vsr.load_raw(raw_root=Path(folder)), MissingnessLog())
    rows = table.set_index(["vsr_name", "year", "race"])
    assert not rows.index.duplicated().any()

    json_rows = table[table["source"] == vsr.SOURCE_JSON]
    assert len(json_rows) == len({key[:3] for key in json_cells})  # one row per agency, year and race
    for (agency, year, race, count), value in json_cells.items():
        assert_count(rows.loc[(agency, year, race), count], value, f"{agency} {year} {race} {count}")

    per_race_rows = table[table["source"] == vsr.SOURCE_PER_RACE]
    assert len(per_race_rows) == sum(len(v) for v in per_race.values())
    for race, entries in per_race.items():
        for year, value, text in entries:
            out = rows.loc[("Ferguson Police Dept", year, race)]
            assert_count(out["stops"], value, f"per-race {race} {year} stops {text!r}")
            for count in vsr.COUNTS[1:]:  # not in the per-race files: missing, never zero
                assert_missing(out[count], f"per-race {race} {year} {count}")
