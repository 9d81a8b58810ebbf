"""Vera calls for service: category spelling, duplicates, hostile text, the Heartbeats mapping, shares within
one (city, source column), officer-initiated calls, and the real workbook."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartbeats_analysis.analysis import calls as call_shares
from heartbeats_analysis.ingest.sources import calls
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
    validate,
)

CALL_TYPES_FILE = "cfs/CallTypes_TS.xlsx"
INITIATION_FILE = "cfs/CityOfficerInitiatedSummary.xlsx"
HOSTILE = "<script>alert(1)</script>"

CALL_TYPES_HEADER = ["City", "Column_name", "Field 1", "Count", "Category", "Category - Alternate"]
CALL_TYPE_ROWS = [
    ("Testville", "Initial", "MENTAL PATIENT", 100, "Behavioral Health "),
    ("Testville", "Initial", HOSTILE, 5, "assist the public"),
    ("Testville", "Initial", "WELFARE CHECK", 50, "Assisting the Public"),
    ("Testville", "Initial", "TRAFFIC STOP", 800, "Traffic"),
    ("Testville", "Initial", "OVERDOSE", 20, "Behavioral Health"),
    ("Testville", "Initial", "DOMESTIC DISTURBANCE", 30, "complaints/environmental  conditions"),
    ("Testville", "Initial", "THEFT", 40, "Property Crime "),
    ("Testville", "Initial", "THEFT", 60, "Property Crime"),
    ("Testville", "Final ", "MENTAL PATIENT", 90, "Behavioral Health"),
    ("Testville", "Final", "HOMELESS", "1e2", None),
    ("Testville", "Final", "NOISE", "2,000", "Complaints/Environmental Conditions"),
    ("Testville", "Final", "ALARM", None, "Alarms"),
]
SELF_INITIATED_ROWS = [
    ("Seattle", "Call Type", "ONVIEW", 30, "Yes"),
    ("Seattle", "Call Type", 911, 25, "No"),
    ("Seattle", "Call Type", "TELEPHONE OTHER, NOT 911", 10, "No"),
    ("New Orleans", "SelfInitiated", "Y", 70, "Yes"),
    ("New Orleans", "SelfInitiated", "N", 20, "No"),
    ("Detroit", " Officer Initiated", "Yes", 8, "Yes"),
    ("Detroit", " Officer Initiated", "No", 9, "No"),
]
INITIATION_ROWS = {
    "New Orleans": [(2013, None, None, 500, 500, None, None), (2014, 70, 20, None, 90, 77.8, 22.2)],
    "Detroit": [(2016, 9, 8, 17, 52.9, 47.1)],
    "Seattle": [(2014, 10, 30, 25, 65, 15.4, 46.2)],
}


def write_call_types(root: Path, rows=CALL_TYPE_ROWS, header=CALL_TYPES_HEADER) -> None:
    (root / "cfs").mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    vera_types = workbook.active
    vera_types.title = "Vera_Types"
    vera_types.append(["Category: Alarms", "Category"])
    sheet = workbook.create_sheet(calls.CALL_TYPES_SHEET)
    sheet.append(header)
    for values in rows:
        # A fixture row may stop early: its missing trailing cells are written as empty.
        record = dict(zip(CALL_TYPES_HEADER, values, strict=False))
        sheet.append([record.get(column) for column in header])
    self_initiated = workbook.create_sheet(calls.SELF_INITIATED_SHEET)
    self_initiated.append(["City", "Column_name", "Field1", "Count", "Self initiated"])
    for values in SELF_INITIATED_ROWS:
        self_initiated.append(list(values))
    workbook.save(root / CALL_TYPES_FILE)


def write_initiation(root: Path, rows=INITIATION_ROWS) -> None:
    (root / "cfs").mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for city, header in calls.INITIATION_HEADERS.items():
        sheet = workbook.create_sheet(city)
        sheet.append(list(header))
        for values in rows[city]:
            sheet.append(list(values))
    workbook.save(root / INITIATION_FILE)


@pytest.fixture
def fixture_root(tmp_path) -> Path:
    write_call_types(tmp_path)
    write_initiation(tmp_path)
    return tmp_path


@pytest.fixture
def cleaned(fixture_root):
    raw = calls.load_raw(raw_root=fixture_root)
    log = MissingnessLog()
    return calls.clean(raw, log), log, raw


def record(table: pd.DataFrame, column: str, call_type: str) -> dict:
    match = table[table["source_column"].eq(column) & table["call_type"].eq(call_type)]
    assert len(match) == 1
    return match.iloc[0].to_dict()


# ---------------------------------------------------------------------------------------------
# Cleaning
# ---------------------------------------------------------------------------------------------


def test_one_row_per_call_type_with_harmonised_categories(cleaned):
    table, _, _ = cleaned
    assert list(table.columns) == list(calls.COLUMNS)
    assert len(table) == 11 and not table.duplicated(["city", "source_column", "call_type"]).any()
    assert record(table, "Initial", "MENTAL PATIENT")["category"] == "Behavioral Health"
    assert record(table, "Initial", "MENTAL PATIENT")["category_raw"] == "Behavioral Health "
    assert record(table, "Initial", HOSTILE)["category"] == "Assisting the Public"
    assert record(table, "Initial", "TRAFFIC STOP")["category"] == "Accidents/Traffic Safety"
    assert record(table, "Initial", "DOMESTIC DISTURBANCE")["category"] == "Complaints/Environmental Conditions"
    homeless = record(table, "Final", "HOMELESS")
    assert homeless["category"] == calls.UNCATEGORISED and pd.isna(homeless["category_raw"])


def test_counts_pass_through_and_gaps_stay_missing(cleaned):
    table, log, _ = cleaned
    assert record(table, "Final", "HOMELESS")["count"] == 100  # '1e2'
    assert record(table, "Final", "NOISE")["count"] == 2000  # '2,000'
    assert pd.isna(record(table, "Final", "ALARM")["count"])
    assert record(table, "Initial", "THEFT")["count"] == 100  # two raw rows, summed
    assert record(table, "Initial", HOSTILE)["small_cell"] and not record(table, "Initial", "THEFT")["small_cell"]
    frame = log.to_frame()
    assert set(zip(frame["key"], frame["column"], strict=True)) == {
        ("Testville|Final|ALARM", "count"),
        ("Testville|Initial|THEFT", "count"),
        ("Testville|Final|HOMELESS", "category_raw"),
    }
    assert frame.loc[frame["key"].eq("Testville|Initial|THEFT"), "raw_value"].item() == "40;60"


def test_hostile_call_type_is_plain_text(cleaned, tmp_path):
    table, _, _ = cleaned
    assert HOSTILE in set(table["call_type"])
    out = tmp_path / "calls.csv"
    table.to_csv(out, index=False)
    assert HOSTILE in out.read_text()
    assert HOSTILE in set(pd.read_csv(out, dtype=str)["call_type"])


def test_central_groups(cleaned):
    table, _, _ = cleaned
    groups = dict(zip(table["source_column"] + "|" + table["call_type"], table["heartbeats_group"], strict=True))
    assert groups == {
        "Final|ALARM": "none",
        "Final|HOMELESS": "homelessness_quality_of_life",
        "Final|MENTAL PATIENT": "behavioural_health",
        "Final|NOISE": "none",
        "Initial|DOMESTIC DISTURBANCE": "domestic",
        f"Initial|{HOSTILE}": "none",
        "Initial|MENTAL PATIENT": "behavioural_health",
        "Initial|OVERDOSE": "substance",
        "Initial|THEFT": "none",
        "Initial|TRAFFIC STOP": "none",
        "Initial|WELFARE CHECK": "welfare_assist",
    }
    assert (table["heartbeats_relevant"] == table["heartbeats_group"].ne("none")).all()


def test_repeated_call_type_with_a_missing_count_stays_missing(tmp_path):
    # A sum over a gap would understate the call type: one missing row makes the merged count missing.
    rows = [
        *CALL_TYPE_ROWS,
        ("Testville", "Final", "ALARM", 7, "Alarms"),
        ("Testville", "Final", "NOISE", 5, "Complaints/Environmental Conditions"),
    ]
    write_call_types(tmp_path, rows=rows)
    write_initiation(tmp_path)
    table = calls.clean(calls.load_raw(raw_root=tmp_path), MissingnessLog())
    assert len(table) == 11
    assert pd.isna(record(table, "Final", "ALARM")["count"])  # None + 7
    assert record(table, "Final", "NOISE")["count"] == 2005  # 2,000 + 5
    assert record(table, "Initial", "THEFT")["count"] == 100


def test_repeated_call_type_in_two_categories_is_an_error(tmp_path):
    rows = [*CALL_TYPE_ROWS, ("Testville", "Initial", "OVERDOSE", 3, "Drugs")]
    write_call_types(tmp_path, rows=rows)
    write_initiation(tmp_path)
    with pytest.raises(SchemaValidationError, match="OVERDOSE"):
        calls.clean(calls.load_raw(raw_root=tmp_path), MissingnessLog())


# ---------------------------------------------------------------------------------------------
# Shares
# ---------------------------------------------------------------------------------------------


def test_relevant_share_within_city_and_column(cleaned):
    table, _, _ = cleaned
    shares = call_shares.relevant_share(table).set_index(["source_column", "heartbeats_group"])
    initial_total = 100 + 5 + 50 + 800 + 20 + 30 + 100
    assert shares.loc[("Initial", "relevant"), "count"] == 200
    assert shares.loc[("Initial", "relevant"), "total"] == initial_total
    assert shares.loc[("Initial", "relevant"), "share"] == pytest.approx(200 / initial_total)
    assert shares.loc[("Initial", "homelessness_quality_of_life"), "count"] == 0
    # The Final column has a call type with a missing count: its total is missing, not smaller.
    assert pd.isna(shares.loc[("Final", "relevant"), "total"]) and pd.isna(shares.loc[("Final", "relevant"), "share"])
    assert shares.loc[("Final", "behavioural_health"), "count"] == 90

    only = call_shares.relevant_share(table, groups=["substance"]).set_index(["source_column", "heartbeats_group"])
    assert list(only.loc["Initial"].index) == ["substance", "relevant"]
    assert only.loc[("Initial", "relevant"), "count"] == 20


def test_shares_refuse_to_pool_source_columns(cleaned):
    table, _, _ = cleaned
    with pytest.raises(ValueError, match="source_column"):
        call_shares.relevant_share(table, by=("city",))
    with pytest.raises(ValueError, match="unknown groups"):
        call_shares.relevant_share(table, groups=["social_work"])


def test_mapping_sensitivity(cleaned):
    table, _, _ = cleaned
    initial = call_shares.mapping_sensitivity(table).query("source_column == 'Initial'").set_index("mapping")
    assert list(initial.index) == ["narrow", "central", "broad"]
    assert initial["relevant"].to_dict() == {"narrow": 120, "central": 200, "broad": 205}
    assert (initial["total"] == 1105).all()


def test_group_of_rules():
    assert calls.group_of("OVERDOSE - DRUG RELATED CASUALTY", "Behavioral Health") == "substance"
    assert calls.group_of("OVERDOSE - DRUG RELATED CASUALTY", "Behavioral Health", "narrow") == "substance"
    assert calls.group_of("DOMESTIC DISTURBANCE", "Complaints/Environmental Conditions", "narrow") == "none"
    assert calls.group_of("ORDER - VIOLATION OF COURT ORDER (NON DV)", "Statuses") == "none"
    assert calls.group_of("ALARM - DURESS/PANIC,BUS/TAXI/CAR/PRSN - NOT DV", "Alarms") == "none"
    assert calls.group_of("ASSIST PUBLIC - NO WELFARE CHK OR DV ORDER SERVICE", "Assisting the Public") == "none"
    assert (
        calls.group_of("ASSIST PUBLIC - NO WELFARE CHK OR DV ORDER SERVICE", "Assisting the Public", "broad")
        == "welfare_assist"
    )
    assert calls.group_of("SUDDEN DEATH", "Behavioral Health", "broad") == "none"
    assert calls.group_of("46 - CIT", calls.UNCATEGORISED) == "behavioural_health"
    assert calls.group_of("COMPLAINT OTHER", "Complaints/Environmental Conditions", "broad") == "none"
    with pytest.raises(ValueError):
        calls.group_of("X", "Drugs", "widest")


def test_assign_groups_answers_each_mapping_and_rule_set_by_its_own_rules():
    """Groups worked out once are reused only under the same mapping and the same rules."""
    frame = pd.DataFrame(
        {
            "call_type": ["DOMESTIC DISTURBANCE", "OVERDOSE - DRUG RELATED CASUALTY", "DOMESTIC DISTURBANCE"],
            "category": [
                "Complaints/Environmental Conditions",
                "Behavioral Health",
                "Complaints/Environmental Conditions",
            ],
        }
    )
    expected = {
        mapping: [calls.group_of(t, c, mapping) for t, c in zip(frame["call_type"], frame["category"], strict=True)]
        for mapping in calls.MAPPINGS
    }
    for _ in range(2):  # the second round is answered from what the first worked out
        for mapping in calls.MAPPINGS:
            assert list(calls.assign_groups(frame, mapping)) == expected[mapping]
    assert expected["narrow"][0] == "none" and expected["central"][1] == "substance"
    everything_is_domestic = [calls.Rule("central", "*", None, "domestic", "a test rule set")]
    assert list(calls.assign_groups(frame, "central", everything_is_domestic)) == ["domestic"] * 3
    assert list(calls.assign_groups(frame, "central")) == expected["central"]


def test_mapping_file_is_valid_and_explained():
    rules = calls.load_mapping()
    assert all(rule.rationale.strip() for rule in rules)
    assert {rule.group for rule in rules} <= {*calls.GROUPS, calls.NONE}
    candidates = calls.broad_candidates()
    assert "Complaints/Environmental Conditions" in candidates and "Suspicion" in candidates


def test_invalid_mapping_is_rejected(tmp_path):
    bad = tmp_path / "mapping.csv"
    bad.write_text(
        "scope,category,call_type_pattern,heartbeats_group,rationale\n"
        "central,Drugs,,social_work,x\n"
        "wide,Drugs,,substance,\n"
        "central,*,([,substance,unbalanced\n"
    )
    with pytest.raises(SchemaValidationError) as error:
        calls.load_mapping(bad)
    message = str(error.value)
    assert "unknown group 'social_work'" in message and "scope 'wide'" in message and "no rationale" in message
    assert "bad pattern" in message and "second category rule" in message


# ---------------------------------------------------------------------------------------------
# Who initiated the call
# ---------------------------------------------------------------------------------------------


def test_calls_initiation(fixture_root):
    raw = calls.load_raw(raw_root=fixture_root)
    log = MissingnessLog()
    table = calls.calls_initiation(raw, log)
    counts = {(c, y, i): n for c, y, i, n in table[["city", "year", "initiated_by", "count"]].itertuples(index=False)}
    assert counts[("New Orleans", 2014, "officer")] == 70  # the header's 'other' column: relabelled
    assert counts[("New Orleans", 2014, "community")] == 20
    assert counts[("New Orleans", 2013, "unknown")] == 500
    assert pd.isna(counts[("New Orleans", 2013, "officer")]) and pd.isna(counts[("New Orleans", 2013, "community")])
    assert ("New Orleans", 2014, "unknown") not in counts
    assert counts[("Seattle", 2014, "community")] == 10 + 25  # other lines plus the 911 column
    assert counts[("Seattle", 2014, "officer")] == 30
    assert counts[("Detroit", 2016, "officer")] == 8
    assert {k for k in log.to_frame()["key"]} == {"New Orleans|2013|officer", "New Orleans|2013|community"}
    assert calls.initiation_reconciliation(raw)["equal"].all()


def test_initiation_header_change_is_caught(tmp_path):
    write_call_types(tmp_path)
    write_initiation(tmp_path)
    workbook = openpyxl.load_workbook(tmp_path / INITIATION_FILE)
    workbook["Detroit"]["B1"] = "no"
    workbook.save(tmp_path / INITIATION_FILE)
    with pytest.raises(SchemaValidationError, match="Detroit"):
        calls.load_raw(raw_root=tmp_path)


@pytest.mark.parametrize(
    ("file", "sheet"),
    [(CALL_TYPES_FILE, "SelfInitiated"), (CALL_TYPES_FILE, "CallTypes"), (INITIATION_FILE, "Seattle")],
)
def test_a_missing_sheet_is_named_with_its_workbook(tmp_path, file, sheet):
    write_call_types(tmp_path)
    write_initiation(tmp_path)
    workbook = openpyxl.load_workbook(tmp_path / file)
    workbook.remove(workbook[sheet])
    workbook.save(tmp_path / file)
    with pytest.raises(SchemaValidationError, match=f"^{file} does not match the schema: no sheet '{sheet}'$"):
        calls.load_raw(raw_root=tmp_path)


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------


def test_raw_schema_names_file_and_dropped_column(tmp_path):
    write_call_types(tmp_path, header=[c for c in CALL_TYPES_HEADER if c != "Count"])
    write_initiation(tmp_path)
    with pytest.raises(SchemaValidationError) as error:
        calls.load_raw(raw_root=tmp_path)
    assert CALL_TYPES_FILE in str(error.value) and "'Count'" in str(error.value)


def test_raw_schema_rejects_text_counts(tmp_path):
    write_call_types(tmp_path, rows=[*CALL_TYPE_ROWS, ("Testville", "Final", "FIGHT", "lots", "Other Crimes")])
    write_initiation(tmp_path)
    with pytest.raises(SchemaValidationError) as error:
        calls.load_raw(raw_root=tmp_path)
    assert CALL_TYPES_FILE in str(error.value) and "'Count'" in str(error.value) and "lots" in str(error.value)


def test_processed_schema_rejects_unknown_category_and_dropped_column(cleaned):
    table, _, _ = cleaned
    with pytest.raises(SchemaValidationError) as error:
        validate(table.assign(category="Social Work"), calls.PROCESSED_SCHEMA, "calls_for_service.csv")
    assert "calls_for_service.csv" in str(error.value) and "'category'" in str(error.value)
    with pytest.raises(SchemaValidationError, match="count"):
        validate(table.drop(columns="count"), calls.PROCESSED_SCHEMA, "calls_for_service.csv")


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Assist the Public", "Assisting the Public"),
        ("Assisting the Public ", "Assisting the Public"),
        ("BEHAVIORAL HEALTH", "Behavioral Health"),
        ("Call Related Isuues", "Call Related Issues"),
        ("Warrant", "Warrants"),
        ("Medical", "Medical Emergencies"),
        ("Traffic", "Accidents/Traffic Safety"),
        (None, calls.UNCATEGORISED),
        ("   ", calls.UNCATEGORISED),
        ("Social Work", "Social Work"),
    ],
)
def test_harmonise_category(raw, expected):
    assert calls.harmonise_category(raw) == expected


@given(st.sampled_from(calls.CATEGORIES), st.text(alphabet=" \t", max_size=3), st.booleans())
def test_harmonise_category_ignores_case_and_spacing(category, padding, upper):
    text = padding + (category.upper() if upper else category.lower()) + padding
    assert calls.harmonise_category(text) == category
    assert calls.harmonise_category(calls.harmonise_category(text)) == category


@given(st.text(max_size=40), st.sampled_from(calls.CATEGORIES), st.sampled_from(calls.MAPPINGS))
def test_group_of_always_returns_a_group(call_type, category, mapping):
    group = calls.group_of(call_type, category, mapping)
    assert group in (*calls.GROUPS, calls.NONE)
    if mapping == "narrow":
        assert group in (*calls.NARROW_GROUPS, calls.NONE)


# ---------------------------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(request):
    raw_root = request.getfixturevalue("raw_data")
    if not (raw_root / CALL_TYPES_FILE).is_file():
        pytest.skip("data/raw/cfs is missing: run `make data` first")
    raw = calls.load_raw()
    log = MissingnessLog()
    return calls.clean(raw, log), calls.calls_initiation(raw, log), raw, raw_root


def test_real_totals_pass_through(real):
    table, _, _, raw_root = real
    workbook = openpyxl.load_workbook(raw_root / CALL_TYPES_FILE, read_only=True)
    expected: dict[tuple[str, str], int] = {}
    for city, column, _, count, *_ in list(workbook[calls.CALL_TYPES_SHEET].iter_rows(values_only=True))[1:]:
        if city is not None:
            key = (city, column.strip())
            expected[key] = expected.get(key, 0) + count
    workbook.close()
    mine = table.groupby(["city", "source_column"])["count"].sum().to_dict()
    assert mine == expected
    assert expected[("Seattle", "Initial Call Type")] == expected[("Seattle", "Final Call Type")] == 3923067
    assert expected[("New Orleans", "InitialTypeText")] == 2354808
    assert set(calls.PRIMARY_SOURCE_COLUMNS.items()) <= set(expected)


def test_real_values(real):
    table, _, _, _ = real
    mental = record(table[table["city"].eq("New Orleans")], "TypeText", "MENTAL PATIENT")
    assert (mental["count"], mental["heartbeats_group"]) == (39226, "behavioural_health")
    assert set(table["category"]) <= set(calls.CATEGORIES)
    assert (
        table.loc[table["category_raw"].str.strip().eq("Assist the Public").fillna(False), "category"]
        .eq("Assisting the Public")
        .all()
    )
    assert len(table) == 3183


def test_real_mapping_sensitivity_is_ordered(real):
    table, _, _, _ = real
    wide = call_shares.mapping_sensitivity(table).pivot(
        index=["city", "source_column"], columns="mapping", values="share"
    )
    assert len(wide) == 9
    assert ((wide["narrow"] <= wide["central"]) & (wide["central"] <= wide["broad"])).all()
    assert wide.loc[("Seattle", "Initial Call Type"), "central"] == pytest.approx(0.0744, abs=5e-4)
    assert wide.loc[("New Orleans", "InitialTypeText"), "narrow"] == pytest.approx(0.0110, abs=5e-4)


def test_real_initiation_reconciles_with_call_types_sheet(real):
    _, initiation, raw, _ = real
    check = calls.initiation_reconciliation(raw).set_index(["city", "initiated_by"])
    assert check.loc["New Orleans", "equal"].all() and check.loc["Seattle", "equal"].all()
    assert check.loc[("New Orleans", "officer"), "summary_total"] == 1679216
    assert not check.loc["Detroit", "equal"].any()  # the two Vera extracts of Detroit differ
    seattle_2018 = initiation.query("city == 'Seattle' and year == 2018").set_index("initiated_by")["count"]
    assert seattle_2018.to_dict() == {"officer": 167453, "community": 121750 + 145046}


def test_officer_initiated_list_is_valid_and_explained():
    rules = calls.load_officer_initiated()
    assert {r.city for r in rules} == set(calls.PRIMARY_SOURCE_COLUMNS)
    assert all(r.reason for r in rules)
    assert calls.officer_initiated_reason("Detroit", "Call Description", "TRAFFIC STOP") is not None
    assert calls.officer_initiated_reason("Detroit", "Call Description", "TRAFFIC STOP REPORT") is None
    assert calls.officer_initiated_reason("Seattle", "Initial Call Type", "TRAFFIC STOP - OFFICER INITIATED ONVIEW")
    # only the listed city and column: the same words elsewhere are not flagged
    assert calls.officer_initiated_reason("Dallas", "Call (911) Problem", "TRAFFIC STOP") is None


def test_officer_initiated_list_rejects_a_non_primary_column(tmp_path):
    path = tmp_path / "officer.csv"
    path.write_text("city,source_column,call_type_pattern,reason\nSeattle,Final Call Type,ONVIEW,on-view\n")
    with pytest.raises(SchemaValidationError, match="not a city's primary column"):
        calls.load_officer_initiated(path)


def test_listed_officer_initiated_type_cannot_be_relevant(cleaned):
    table, _, _ = cleaned
    bad = table.assign(listed_officer_initiated=table["heartbeats_relevant"])
    with pytest.raises(SchemaValidationError, match="officer-initiated"):
        validate(bad, calls.PROCESSED_SCHEMA, "calls_for_service.csv")
