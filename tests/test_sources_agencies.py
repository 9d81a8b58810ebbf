"""The agency crosswalk: slug collisions (agency_identity), census matching, the lookup of what a user typed
(agency_lookup.resolve_in_table), and the full table."""

from __future__ import annotations

import csv
import re
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heartbeats_analysis.errors import AgencyNotFoundError
from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.agency_lookup import resolve_in_table
from heartbeats_analysis.ingest.sources import acs, agencies, agency_identity, vsr
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
)
from heartbeats_analysis.paths import raw_dir

CENSUS_FILE = registry.get(agencies.CENSUS_CROSSWALK_KEY).path
POPULATION_FILE = registry.get(agencies.AGENCY_POPULATION_KEY).path
UCR = agency_identity.ucr_crosswalk()


def observed(*rows: tuple[str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["vsr_name", "file", "year"])


# --- slugs ------------------------------------------------------------------------------------------


def test_spellings_in_different_years_are_one_agency():
    table = agency_identity.assign_slugs(
        observed(("Cass County Sheriff's Office", "white", 2019), ("Cass County Sheriff's Dept", "json", 2020))
    )
    assert set(table.agency_slug) == {"cass-county-sheriff"}
    primary = table[table.is_primary].vsr_name.tolist()
    assert primary == ["Cass County Sheriff's Dept"]  # the latest name is the one shown


def test_names_reported_side_by_side_are_split_deterministically():
    rows = [
        ("Bourbon Police Dept", "json", 2022),
        ("Bourbon - Dept of Public Safety", "json", 2022),
        ("Bourbon-2 Police Dept", "json", 2022),
    ]  # already owns "bourbon-2"
    table = agency_identity.assign_slugs(observed(*rows)).set_index("vsr_name").agency_slug
    assert table["Bourbon - Dept of Public Safety"] == "bourbon"  # first in name order keeps the slug
    assert table["Bourbon Police Dept"] == "bourbon-3"  # "-2" is taken, so "-3"
    assert table["Bourbon-2 Police Dept"] == "bourbon-2"
    shuffled = agency_identity.assign_slugs(observed(*reversed(rows))).set_index("vsr_name").agency_slug
    assert shuffled.sort_index().equals(table.sort_index())


def test_override_keeps_its_slug_in_a_collision():
    rows = [("Alpha Police Dept", "json", 2020), ("Alpha Dept", "json", 2020)]
    table = agency_identity.assign_slugs(observed(*rows), {"Alpha Police Dept": "alpha"}).set_index("vsr_name")
    assert table.agency_slug["Alpha Police Dept"] == "alpha"
    assert table.agency_slug["Alpha Dept"] == "alpha-2"


NAME_POOL = [
    "Oak Police Dept",
    "Oak Police Department",
    "Oak Dept of Public Safety",
    "Elm Police Dept",
    "Elm  Police Dept",
    "Oak-2 Police Dept",
    "Elm County Sheriff's Office",
    "Elm County Sheriff's Dept",
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(NAME_POOL), st.sampled_from(["json", "white"]), st.integers(min_value=2018, max_value=2021)
        ),
        min_size=1,
        max_size=12,
    ),
    st.randoms(use_true_random=False),
)
def test_slug_assignment_properties(rows, rnd):
    table = agency_identity.assign_slugs(observed(*rows))
    seen = observed(*rows).merge(table, on="vsr_name")
    # two names that share a slug never appear in the same file for the same year
    clashes = seen.groupby(["agency_slug", "file", "year"]).vsr_name.nunique()
    assert (clashes <= 1).all()
    assert table.vsr_name.is_unique and table.groupby("agency_slug").is_primary.sum().eq(1).all()
    assert all(re.fullmatch(agencies.SLUG_PATTERN, s) for s in table.agency_slug)
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    again = agency_identity.assign_slugs(observed(*shuffled))
    assert (
        again.sort_values("vsr_name")
        .reset_index(drop=True)
        .equals(table.sort_values("vsr_name").reset_index(drop=True))
    )


@pytest.mark.parametrize(
    "name, stem",
    [
        ("City of Bellerive Acres city, Missouri", "bellerive acres"),
        ("Country Club Village city, Missouri", "country club"),
        ("Ste Genevieve County, Missouri", "ste genevieve"),
        ("Ste. Genevieve County, Missouri", "ste genevieve"),
        ("Terre du Lac CDP, Missouri", "terre du lac"),
    ],
)
def test_census_stem(name, stem):
    assert agencies.census_stem(name) == stem.replace(" ", "")


# --- clean on a small fixture -------------------------------------------------------------------------


def cleaned_inputs(vsr_raw: vsr.VsrRaw, acs_raw: acs.AcsRaw) -> dict[str, pd.DataFrame]:
    """The tables agencies.clean receives from the vsr and acs sources, cleaned as the pipeline does."""
    log = MissingnessLog()
    return {vsr.NAMES_TABLE_NAME: vsr.clean_names(vsr_raw, log), acs.TABLE_NAME: acs.clean(acs_raw, log)}


def fixture_raw() -> tuple[agencies.AgenciesRaw, dict[str, pd.DataFrame]]:
    metrics = pd.DataFrame(
        [
            [name, 2020, metric, 10.0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0]
            for name in [
                "Ferguson Police Dept",
                "St Ann Police Dept",
                "Bel-Nor Police Dept",
                "Norfolk Southern Railway Police Dept",
                "Cass County Sheriff's Dept",
            ]
            for metric in vsr.COUNT_METRICS
        ],
        columns=["agency", "year", "metric", *vsr.RACES],
    )
    per_race = pd.DataFrame(
        [
            ["Ferguson Police Dept", "STL Metro", "2014", "758", "100.0", "white"],
            ["Old Town Police Dept", "Other", "2014", "12", "100.0", "white"],
            ["Cass County Sheriff's Office", "KC Metro", "2019", "1200", "90.0", "white"],
        ],
        columns=["Agency", "Region", "Year", "Stops", "Indexed", "file_race"],
    )
    vsr_raw = vsr.VsrRaw(metrics, per_race, pd.DataFrame(), pd.DataFrame())
    census = pd.DataFrame(
        [
            ["Ferguson Police Dept", "municipal_police", "place", "Ferguson city, Missouri", "0", "0"],
            ["St Ann Police Dept", "municipal_police", "place", "St Ann city, Missouri", "0", "0"],
            ["Bel-Nor Police Dept", "municipal_police", "place", "Bel-Nor city, Missouri", "0", "0"],
            [
                "Norfolk Southern Railway Police Dept",
                "municipal_police",
                "place",
                "Norfolk Southern Railway city, Missouri",
                "0",
                "1",
            ],
            ["Cass County Sheriff's Dept", "county_sheriff", "county", "Cass County, Missouri", "0", "0"],
        ],
        columns=[
            "agency",
            "agency_type",
            "census_geo_type",
            "census_match_name",
            "needs_manual_review",
            "census_match_uncertain",
        ],
    )
    population = pd.DataFrame(
        [["Ferguson Police Dept", "municipal_police", "place", "Ferguson city, Missouri", "1", "1", "0", "0"]],
        columns=[
            "agency",
            "agency_type",
            "census_geo_type",
            "census_match_name",
            "pop_total",
            "pop_white",
            "pop_black",
            "pop_hispanic",
        ],
    )
    places = [
        ("Ferguson city, Missouri", "place", "", "23986"),
        ("St. Ann city, Missouri", "place", "", "63956"),
        ("Bel-Nor village, Missouri", "place", "", "04348"),
        ("Bel-Ridge village, Missouri", "place", "", "04366"),
        ("Cass County, Missouri", "county", "037", ""),
        ("St. Louis County, Missouri", "county", "189", ""),
    ]
    acs_frame = pd.DataFrame(
        [
            ["2024", "acs5", geo_type, name, "10", "5", "5", "0", "29", county, place]
            for name, geo_type, county, place in places
        ],
        columns=[
            "year",
            "source",
            "geo_type",
            "name",
            "Total",
            "White",
            "Black",
            "Hispanic",
            "state_fips",
            "county_fips",
            "place_fips",
        ],
    )
    acs_raw = acs.AcsRaw(acs_frame, pd.DataFrame(columns=["year", "source", "Total", "White", "Black", "Hispanic"]))
    return agencies.AgenciesRaw(census, population, UCR), cleaned_inputs(vsr_raw, acs_raw)


@pytest.fixture(scope="module")
def small():
    log = MissingnessLog()
    raw, tables = fixture_raw()
    return agencies.clean(raw, log, tables).set_index("agency_slug", drop=False), log.to_frame()


def test_every_vsr_and_ucr_agency_has_one_row(small):
    table, _ = small
    assert table.agency_slug.is_unique
    expected = {"ferguson", "st-ann", "bel-nor", "norfolk-southern-railway", "cass-county-sheriff", "old-town"}
    assert expected | set(UCR.agency_slug) == set(table.agency_slug)
    assert table.in_ucr.sum() == 16
    assert list(table.columns) == list(agencies.COLUMNS)


def test_ucr_crosswalk_wins(small):
    table, _ = small
    st_ann = table.loc["st-ann"]
    assert (st_ann.display_name, st_ann.ucr_name, st_ann.ori, st_ann.census_name, st_ann.geoid) == (
        "St. Ann",
        "St. Ann Police Dept",
        "MO09565",
        "St. Ann city, Missouri",
        "2963956",
    )
    assert st_ann.county == "St. Louis County, Missouri" and st_ann.in_vsr and st_ann.has_population


def test_census_name_corrected_when_the_stem_is_unique(small):
    table, _ = small
    bel_nor = table.loc["bel-nor"]
    assert (bel_nor.census_name, bel_nor.geoid) == ("Bel-Nor village, Missouri", "2904348")
    assert "corrected from 'Bel-Nor city, Missouri'" in bel_nor.note
    bel_ridge = table.loc["bel-ridge"]  # the UCR crosswalk writes "Bel-Ridge city"
    assert bel_ridge.geoid == "2904366" and not bel_ridge.in_vsr


def test_county_agency_gets_the_county_geoid_and_older_spellings(small):
    table, _ = small
    cass = table.loc["cass-county-sheriff"]
    assert (cass.geoid, cass.geo_type, cass.county) == ("29037", "county", "Cass County, Missouri")
    assert cass.vsr_name == "Cass County Sheriff's Dept" and cass.vsr_aliases == "Cass County Sheriff's Office"


def test_agencies_without_geography_are_missing_and_logged(small):
    table, log = small
    railway = table.loc["norfolk-southern-railway"]
    assert pd.isna(railway.geoid) and not railway.has_population
    assert "uncertain" in railway.note and "no census geography" in railway.note
    old_town = table.loc["old-town"]
    assert pd.isna(old_town.geoid) and pd.isna(old_town.agency_type) and old_town.in_vsr
    jennings = table.loc["jennings"]  # UCR agency whose place is not in this fixture's ACS table
    assert not jennings.has_population and not jennings.in_vsr
    assert set(log.key) >= {"norfolk-southern-railway", "old-town", "jennings"}


def test_dropped_column_names_file_and_column(tmp_path):
    (tmp_path / CENSUS_FILE).parent.mkdir(parents=True)
    (tmp_path / CENSUS_FILE).write_text(
        "agency,agency_type,census_geo_type,needs_manual_review,census_match_uncertain\n"
        "Ferguson Police Dept,municipal_police,place,0,0\n"
    )
    with pytest.raises(SchemaValidationError) as err:
        agencies.load_raw(tmp_path)
    assert CENSUS_FILE in str(err.value) and "census_match_name" in str(err.value)


def test_text_in_population_names_file_and_column(tmp_path):
    (tmp_path / CENSUS_FILE).parent.mkdir(parents=True)
    (tmp_path / CENSUS_FILE).write_text(
        "agency,agency_type,census_geo_type,census_match_name,needs_manual_review,census_match_uncertain\n"
        'Ferguson Police Dept,municipal_police,place,"Ferguson city, Missouri",0,0\n'
    )
    (tmp_path / POPULATION_FILE).write_text(
        "agency,agency_type,census_geo_type,census_match_name,pop_total,pop_white,pop_black,pop_hispanic\n"
        'Ferguson Police Dept,municipal_police,place,"Ferguson city, Missouri",18213,lots,12510,235\n'
    )
    with pytest.raises(SchemaValidationError) as err:
        agencies.load_raw(tmp_path)
    assert POPULATION_FILE in str(err.value) and "'pop_white'" in str(err.value)


# --- resolve_agency ----------------------------------------------------------------------------------


def test_resolve_on_the_fixture(small):
    table, _ = small
    assert resolve_in_table("Cass County Sheriff's Office", table) == "cass-county-sheriff"
    assert resolve_in_table("  ST ANN police dept ", table) == "st-ann"
    assert resolve_in_table("St. Ann Police Department", table) == "st-ann"  # via its slug form


def test_ambiguous_query_lists_the_candidates():
    table = pd.DataFrame(
        {
            "agency_slug": ["oak", "oak-2"],
            "display_name": ["Oak", "Oak"],
            "vsr_name": ["Oak Police Dept", "Oak Dept of Public Safety"],
            "vsr_aliases": [None, None],
            "ucr_name": [None, None],
            "ori": [None, None],
            "ori9": [None, None],
        }
    )
    with pytest.raises(AgencyNotFoundError) as err:
        resolve_in_table("oak", table.assign(agency_slug=["oak-1", "oak-2"]))
    assert err.value.suggestions == ["oak-1", "oak-2"] and "more than one agency" in str(err.value)


def test_empty_query_is_not_found(small):
    with pytest.raises(AgencyNotFoundError):
        resolve_in_table("   ", small[0])


# --- the real raw files ---------------------------------------------------------------------------

needs_raw = pytest.mark.skipif(
    not all(
        (raw_dir() / registry.get(key).path).exists()
        for key in [
            agencies.CENSUS_CROSSWALK_KEY,
            agencies.AGENCY_POPULATION_KEY,
            vsr.METRICS_KEY,
            acs.PLACES_COUNTIES_KEY,
            *vsr.PER_RACE_KEYS.values(),
        ]
    ),
    reason="data/raw is missing: run `heartbeats fetch` first",
)


@pytest.fixture(scope="module")
def real():
    """(the vsr and acs raw sources, the agencies table, its missingness log)."""
    sources = SimpleNamespace(vsr=vsr.load_raw(), acs=acs.load_raw())
    log = MissingnessLog()
    table = agencies.clean(agencies.load_raw(), log, cleaned_inputs(sources.vsr, sources.acs))
    return sources, table, log.to_frame()


@pytest.fixture(scope="module")
def population(real):
    return acs.clean(real[0].acs, MissingnessLog())


@needs_raw
def test_full_table(real):
    raw, table, _ = real
    assert len(table) == 654 and table.agency_slug.is_unique
    assert table.in_ucr.sum() == 16 and table.in_vsr.sum() == 653
    stops = vsr.clean(raw.vsr, MissingnessLog())
    assert set(stops.agency_slug) == set(table[table.in_vsr].agency_slug)
    located = table[table.geoid.notna()]
    assert (located.geoid.str.len() == located.geo_type.map(acs.GEOID_LENGTH)).all()
    assert table.has_population.sum() == 600 and located.has_population.all()


@needs_raw
@pytest.mark.parametrize("slug", sorted(UCR.agency_slug))
def test_each_ucr_agency_resolves_across_sources(real, population, slug):
    _, table, _ = real
    ucr = UCR.set_index("agency_slug").loc[slug]
    for query in [slug, ucr.ucr_name, ucr.ori, ucr.ori9, ucr.ori.lower(), ucr.display_name, ucr.vsr_name]:
        if query:
            assert resolve_in_table(query, table) == slug, query
    row = table.set_index("agency_slug").loc[slug]
    assert row.has_population and row.geoid in set(population.geoid)
    assert row.in_vsr == bool(ucr.vsr_name)


@needs_raw
def test_ferguson_across_sources(real, population):
    _, table, _ = real
    for query in ["ferguson", "Ferguson Police Dept", "FERGUSON POLICE DEPARTMENT", "MO09528", "mo0952800", "Ferguson"]:
        assert resolve_in_table(query, table) == "ferguson"
    row = table.set_index("agency_slug").loc["ferguson"]
    assert (row.geoid, row.census_name, row.geo_type) == ("2923986", "Ferguson city, Missouri", "place")
    with open(raw_dir() / acs.registry.get(acs.PLACES_COUNTIES_KEY).path, newline="") as fh:
        places = {r["place_fips"] for r in csv.DictReader(fh) if r["name"] == "Ferguson city, Missouri"}
    assert places == {"23986"}
    assert population[population.geoid == "2923986"].geography.unique().tolist() == ["Ferguson city, Missouri"]


@needs_raw
@pytest.mark.parametrize("typo", ["Furguson", "Fergusen Police", "ferguson pd"])
def test_misspelling_suggests_ferguson(real, typo):
    _, table, _ = real
    try:
        slug = resolve_in_table(typo, table)
    except AgencyNotFoundError as err:
        assert "ferguson" in err.suggestions[:3] and "Ferguson (ferguson)" in str(err)
    else:
        assert slug == "ferguson"


@needs_raw
def test_jennings_has_no_vsr_rows(real):
    _, table, _ = real
    jennings = table.set_index("agency_slug").loc["jennings"]
    assert not jennings.in_vsr and pd.isna(jennings.vsr_name) and jennings.geoid == "2937178"


@needs_raw
def test_county_agencies_use_the_county_geoid(real):
    _, table, _ = real
    sheriffs = table[table.agency_type.eq("county_sheriff")]
    assert len(sheriffs) == 114
    assert (sheriffs.geo_type == "county").all() and (sheriffs.geoid.str.len() == 5).all()
    assert (sheriffs.county == sheriffs.census_name).all()
    assert table.set_index("agency_slug").loc["st-louis-county", "geoid"] == "29189"


@needs_raw
def test_renames_point_at_real_names(real):
    raw, table, _ = real
    names = raw.vsr.observed_names()
    json_names = set(names[names.file == "json"].vsr_name)
    per_race_names = set(names[names.file != "json"].vsr_name)
    for old, new in agency_identity.VSR_RENAMES.items():
        assert old in per_race_names and new in json_names and old not in json_names
        slug = resolve_in_table(old, table)
        assert resolve_in_table(new, table) == slug


@needs_raw
def test_slug_collisions_in_the_real_names_are_renames(real):
    raw, _, _ = real
    slugs = agency_identity.vsr_slug_table(raw.vsr.observed_names())
    merged = slugs.groupby("agency_slug").vsr_name.nunique()
    assert not slugs.agency_slug.str.fullmatch(r".*-\d+").any()  # no agency had to be split
    assert merged.max() == 2 and (merged == 2).sum() == 7 + len(agency_identity.VSR_RENAMES)
    assert agency_identity.assign_slugs(raw.vsr.observed_names().sample(frac=1, random_state=1)).equals(
        agency_identity.assign_slugs(raw.vsr.observed_names())
    )
