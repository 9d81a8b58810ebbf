import math

import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
    agency_slug,
    is_count_text,
    parse_count,
    to_int64,
    validate,
)

SCHEMA = pa.DataFrameSchema({"agency": pa.Column(str), "stops": pa.Column("Int64", pa.Check.ge(0))}, name="tiny")


def test_dropped_column_is_named_with_the_file():
    frame = pd.DataFrame({"agency": ["a"]})
    with pytest.raises(SchemaValidationError) as caught:
        validate(frame, SCHEMA, "stops.csv")
    assert "stops.csv" in str(caught.value) and "missing column(s): 'stops'" in str(caught.value)


def test_bad_values_name_column_and_rows():
    frame = pd.DataFrame({"agency": ["a", "b", "c"], "stops": pd.array([1, -4, -7], dtype="Int64")})
    with pytest.raises(SchemaValidationError) as caught:
        validate(frame, SCHEMA, "stops.csv")
    message = str(caught.value)
    assert "column 'stops'" in message and "row 1: -4" in message and "row 2: -7" in message


@pytest.mark.parametrize(
    "raw, expected",
    [("2e3", 2000), ("1,204", 1204), (" 17 ", 17), ("0", 0), (5, 5), (3.0, 3)],
)
def test_parse_count_reads_published_formats(raw, expected):
    assert parse_count(raw) == expected


@pytest.mark.parametrize("gap", [None, "", "  ", "NA", "nan", pd.NA, float("nan")])
def test_gaps_are_missing_never_zero(gap):
    assert math.isnan(parse_count(gap))


@pytest.mark.parametrize("bad", ["twelve", "1.5", "2e-1"])
def test_text_and_fractions_are_rejected(bad):
    with pytest.raises(ValueError):
        parse_count(bad)
    assert not is_count_text(bad)


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_count_round_trips_integers_in_every_notation(number):
    assert parse_count(str(number)) == number
    assert parse_count(f"{number:,}") == number
    assert parse_count(f"{number:e}") == float(f"{number:e}")


@given(st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=10**6)), max_size=30))
def test_to_int64_keeps_gaps_and_values(values):
    series = to_int64(pd.Series([None if v is None else str(v) for v in values], dtype=object))
    assert series.isna().tolist() == [v is None for v in values]
    assert [int(v) for v in series.dropna()] == [v for v in values if v is not None]


def test_missingness_log_is_sorted_and_complete():
    log = MissingnessLog()
    log.add("staffing", "ferguson|2019", "sworn_officers", "all-zero year between reported years", 0)
    log.add("crime", "ferguson|2001", "violent", "empty row")
    frame = log.to_frame()
    assert frame["table"].tolist() == ["crime", "staffing"]
    assert frame.loc[1, "raw_value"] == "0"


@pytest.mark.parametrize(
    "name, slug",
    [
        ("Ferguson Police Dept", "ferguson"),
        ("St. Louis County Police Dept", "st-louis-county"),
        ("St Louis County Police Dept", "st-louis-county"),
        ("Adair County Sheriff's Dept", "adair-county-sheriff"),
        ("Bel-ridge Police Dept", "bel-ridge"),
    ],
)
def test_agency_slug(name, slug):
    assert agency_slug(name) == slug
