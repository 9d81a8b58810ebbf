"""FBI UCR arrests by offence and race, by agency and year -> the ``arrests`` table.

Raw: data/raw/ucr/arrests/<file>.csv (registry keys ``ucr_arrests_missouri_*``), Jacob Kaplan's
per-agency exports, one row per year. Two layouts:

* older (Ferguson 1975-2018, Florissant 1980-2016): ``<offence>_tot_arrests`` and race cells
  ``<offence>_tot_{amer_ind,asian,black,white}``;
* newer (St. Louis County Police 1974-2023): ``<offence>_total_arrests`` and
  ``<offence>_total_{american_indian,asian,black,white}`` (plus Hispanic ethnicity columns).

Quirks handled (MANIFEST notes):

* a year the agency did not report is an empty row or all zeros: every count becomes <NA> and
  ``reported`` is False (never zero);
* the Florissant file has no race columns: only its ``total`` rows exist;
* 1975 drug possession sits in the sale columns: drug possession before 1976 is set missing;
* race cells may not add up to the total (Ferguson 1989): ``races_add_up`` is False there, and the
  analysis uses only rows whose races add up when it divides by race;
* a negative published count (Florissant 1988) is missing;
* counts are *arrests*, not people (one person arrested twice counts twice);
* Hispanic is an ethnicity, not a race, in the UCR: not carried (the race cells include Hispanic
  people of each race, so they are not comparable with the ACS non-Hispanic White and Black counts).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
    finish_table,
    read_text_csv,
    to_int64,
    validate,
)
from heartbeats_analysis.ingest.sources.ucr_common import (
    REASON_ALL_ZERO,
    REASON_EMPTY_ROW,
    YEAR_RANGE,
    agency_slugs,
    count_text_columns,
    identity_columns,
    load_crosswalk,
    parse_years,
    row_key,
)
from heartbeats_analysis.paths import raw_dir

TABLE_NAME = "arrests"
RAW_SUBFOLDER = "arrests"

OFFENCES = {
    # processed name: (older-layout stem, newer-layout stem, group)
    "drug_possession": (("poss_drug_total", "poss_drug"), "drug_possess_drug_total", "minor"),
    "drunkenness": ("drunkenness", "drunkenness", "minor"),
    "disorderly_conduct": ("disorder_cond", "disorderly_conduct", "minor"),
    "vagrancy": ("vagrancy", "vagrancy", "minor"),
    "curfew_loitering": (("curfew_loiter", "curfew"), "curfew_loitering", "minor"),
    "all_other": (("all_other", "oth_non_traffic"), "all_other_offenses_excluding_traffic", "minor"),
    "murder": ("murder", "murder_and_nonnegligent_manslaughter", "serious"),
    "rape": ("rape", "rape", "serious"),
    "robbery": ("robbery", "robbery", "serious"),
    "aggravated_assault": ("agg_assault", "aggravated_assault", "serious"),
    "burglary": ("burglary", "burglary", "serious"),
    "theft": ("theft", "theft", "serious"),
    "motor_vehicle_theft": ("mtr_veh_theft", "motor_vehicle_theft", "serious"),
    "arson": ("arson", "arson", "serious"),
}
"""Minor: offences a social-work approach plausibly changes. Serious: the FBI's Part I offences. An
older-layout stem may be a tuple of spellings (the Florissant file writes 'poss_drug', 'curfew' and
'oth_non_traffic')."""
RACES = ("white", "black", "american_indian", "asian")
OLD_RACE = {"white": "white", "black": "black", "american_indian": "amer_ind", "asian": "asian"}
DRUG_SUBTYPES_IN_SALE_BEFORE = 1976
REASON_DRUG_1975 = "drug possession subtypes sit in the sale columns before 1976 (raw file quirk)"
REASON_NEGATIVE = "negative count in the raw file"
REASON_NO_COLUMN = "the raw file has no column for this offence"


def RACE_SUM_TOLERANCE(total: pd.Series) -> pd.Series:  # noqa: N802 - reads as a constant rule
    """Race cells 'add up' when within 2 arrests or 2% of the total (the files carry small rounding-like
    differences in most years; a larger one, e.g. Ferguson 1989, marks unusable race cells)."""
    return (total.astype("Float64") * 0.02).clip(lower=2)


RAW_SCHEMA = pa.DataFrameSchema(
    {
        **identity_columns(),
    },
    checks=[count_text_columns(r"^(?!(?:agency|year|state|population|ORI)$).+$")],
    name="ucr_arrests_raw",
)

PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "agency_slug": pa.Column(str, checks=pa.Check.isin(agency_slugs())),
        "year": pa.Column("int64", checks=pa.Check.in_range(*YEAR_RANGE)),
        "offense": pa.Column(str, checks=pa.Check.isin(list(OFFENCES))),
        "offense_group": pa.Column(str, checks=pa.Check.isin(["minor", "serious"])),
        "race": pa.Column(str, checks=pa.Check.isin(["total", *RACES])),
        "arrests": pa.Column("Int64", checks=pa.Check.ge(0), nullable=True),
        "population": pa.Column("Int64", checks=pa.Check.gt(0), nullable=True),
        "reported": pa.Column(bool),
        "races_add_up": pa.Column("boolean", nullable=True),
    },
    checks=[
        pa.Check(lambda df: df["reported"] | df["arrests"].isna(), error="a year not reported has no counts"),
    ],
    unique=["agency_slug", "year", "offense", "race"],
    strict=True,
    ordered=True,
    name=TABLE_NAME,
)

COLUMNS = {
    "agency_slug": "Agency id from resources/ucr_agency_crosswalk.csv (matched by ORI).",
    "year": "Year of the arrests.",
    "offense": "Offence (harmonised across the two raw layouts).",
    "offense_group": "minor (drugs possession, drunkenness, disorderly, vagrancy, curfew, all other) or serious "
    "(Part I: murder, rape, robbery, aggravated assault, burglary, theft, motor vehicle theft, arson).",
    "race": "total, or the arrestee's race as the FBI records it (Hispanic people are within each race).",
    "arrests": "Arrests (not people); <NA> in a year not reported or where the raw cell is unusable.",
    "population": "Population the FBI assigns to the agency that year (<NA> when blank or 0).",
    "reported": "False for a year without a report (empty or all-zero row): counts are <NA>.",
    "races_add_up": "Whether the four race cells sum to the total (within 2 arrests or 2%) (<NA> without races).",
}


def load_raw(raw_root: Path | None = None) -> dict[str, pd.DataFrame]:
    """Every agency file under <raw_root>/ucr/arrests/, as published (text), keyed by agency_slug.

    Files are matched to agencies by ORI (the arrests files' names differ from the crosswalk's stems,
    e.g. 'Police_Department' for the county where the crosswalk says 'Police_Dept').
    """
    folder = Path(raw_root or raw_dir()) / "ucr" / RAW_SUBFOLDER
    paths = sorted(folder.glob("*.csv"))
    if not paths:
        raise FileNotFoundError(f"No UCR arrests files under {folder}: fetch the raw data first")
    by_ori = load_crosswalk().set_index("ori")["agency_slug"]
    frames: dict[str, pd.DataFrame] = {}
    for path in paths:
        display = f"ucr/{RAW_SUBFOLDER}/{path.name}"
        frame = validate(read_text_csv(path), RAW_SCHEMA, display)
        oris = set(frame["ORI"].str.strip()) - {""}
        if len(oris) != 1 or next(iter(oris)) not in by_ori.index:
            raise SchemaValidationError(f"{display}: ORI {sorted(oris)} is not one agency of the crosswalk")
        frames[by_ori[next(iter(oris))]] = frame
    return frames


def _layout(columns: list[str]) -> str:
    return "new" if any(c.endswith("_total_arrests") for c in columns) else "old"


def _cell(frame: pd.DataFrame, offence: str, race: str, layout: str) -> pd.Series | None:
    old, new, _ = OFFENCES[offence]
    if layout == "old":
        stems = old if isinstance(old, tuple) else (old,)
        candidates = [f"{o}_tot_arrests" if race == "total" else f"{o}_tot_{OLD_RACE[race]}" for o in stems]
    else:
        candidates = [f"{new}_total_arrests" if race == "total" else f"{new}_total_{race}"]
    for column in candidates:
        if column in frame.columns:
            return to_int64(frame[column])
    return None


def _clean_file(frame: pd.DataFrame, slug: str, log: MissingnessLog) -> pd.DataFrame:
    frame = frame.assign(year=parse_years(frame)).drop_duplicates(subset="year", keep="first")
    layout = _layout(list(frame.columns))
    population = to_int64(frame["population"])
    present = {o: c for o in OFFENCES if (c := _cell(frame, o, "total", layout)) is not None}
    if not present:
        raise SchemaValidationError(f"ucr/{RAW_SUBFOLDER} file for {slug} has none of the offence columns")
    totals = pd.DataFrame(present, index=frame.index)
    empty = totals.isna().all(axis=1)
    all_zero = totals.notna().all(axis=1) & totals.eq(0).all(axis=1)
    gap = empty | all_zero
    for index in frame.index[gap]:
        reason = REASON_EMPTY_ROW if empty[index] else REASON_ALL_ZERO
        log.add(
            TABLE_NAME, row_key(slug, int(frame.at[index, "year"])), "arrests", reason, "0" if all_zero[index] else None
        )
    # The same in every row of the file's table: computed once, not for each offence and race.
    years = frame["year"].astype("int64")
    known_population = population.mask(population.le(0).fillna(False))
    rows = []
    for offence, (_, _, group) in OFFENCES.items():
        cells = {race: _cell(frame, offence, race, layout) for race in ("total", *RACES)}
        if offence not in present:
            # An offence the file does not publish: missing rows (logged), so no group total is a partial sum.
            log.add(TABLE_NAME, f"agency_slug={slug}", f"arrests[{offence}]", REASON_NO_COLUMN)
            cells["total"] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
        has_races = all(cells[r] is not None for r in RACES)
        race_sum = sum(cells[r] for r in RACES) if has_races else None
        add_up = (  # one answer per offence and year, repeated on the offence's five rows
            pd.Series(pd.NA, index=frame.index, dtype="boolean")
            if race_sum is None
            else (race_sum - cells["total"]).abs().le(RACE_SUM_TOLERANCE(cells["total"])).astype("boolean").mask(gap)
        )
        for race, values in cells.items():
            if values is None:
                continue
            values = values.mask(gap).mask(values.lt(0).fillna(False))
            for index in frame.index[(cells[race].lt(0).fillna(False)) & ~gap]:
                key = row_key(slug, int(frame.at[index, "year"]))
                log.add(TABLE_NAME, key, f"arrests[{offence},{race}]", REASON_NEGATIVE, cells[race][index])
            if offence == "drug_possession":
                early = frame["year"].lt(DRUG_SUBTYPES_IN_SALE_BEFORE) & ~gap
                for index in frame.index[early]:
                    log.add(
                        TABLE_NAME,
                        row_key(slug, int(frame.at[index, "year"])),
                        "arrests[drug_possession]",
                        REASON_DRUG_1975,
                    )
                values = values.mask(early)
            rows.append(
                pd.DataFrame(
                    {
                        "agency_slug": slug,
                        "year": years,
                        "offense": offence,
                        "offense_group": group,
                        "race": race,
                        "arrests": values.astype("Int64"),
                        "population": known_population,
                        "reported": ~gap,
                        "races_add_up": add_up,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def clean(raw: dict[str, pd.DataFrame], log: MissingnessLog) -> pd.DataFrame:
    """One row per (agency_slug, year, offense, race): arrests, the FBI population, reported, races_add_up."""
    table = pd.concat([_clean_file(frame, slug, log) for slug, frame in raw.items()], ignore_index=True)
    table["reported"] = table["reported"].astype(bool)
    table["population"] = table["population"].astype("Int64")
    return finish_table(table, PROCESSED_SCHEMA, ["agency_slug", "year", "offense", "race"])
