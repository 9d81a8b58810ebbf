"""The helpers every analysis module shares (heartbeats_analysis.analysis): agency names, saved
tables, yearly series with their gaps, and what a notebook cell shows for a figure."""

from __future__ import annotations

import math

import pandas as pd

from heartbeats_analysis.analysis import (
    NoData,
    ShownFigure,
    every_year,
    listed_name,
    plot_values,
    police_of,
    save_table,
    show,
)
from heartbeats_analysis.report.notebook_io import NotebookContext


def test_police_of():
    assert police_of("Ferguson") == "Ferguson police"
    assert police_of("St. Louis County Police Department") == "the St. Louis County Police Department"


def test_listed_name_falls_back_to_the_slug():
    agencies = pd.DataFrame({"agency_slug": ["st-ann"], "display_name": ["St. Ann"]})
    assert listed_name(agencies, "st-ann") == "St. Ann"
    assert listed_name(agencies, "jennings") == "jennings"


def test_save_table_writes_csv_without_index(tmp_path):
    ctx = NotebookContext.for_notebook(tmp_path, "04-stops")
    path = save_table(ctx, pd.DataFrame({"a": [1.23456789, 2.0]}), "example", float_format="%.3g")
    assert path == ctx.tables_dir / "example.csv"
    assert path.read_bytes() == b"a\n1.23\n2\n"


def test_every_year_keeps_gaps_as_missing():
    rows = pd.DataFrame({"agency_slug": "town", "year": [2019, 2017], "count": pd.array([5, 3], dtype="Int64")})
    series = every_year(rows, 2020)
    assert series["year"].tolist() == [2017, 2018, 2019, 2020]
    assert series["count"].tolist()[0] == 3 and series["count"].tolist()[2] == 5
    assert series["count"].isna().tolist() == [False, True, False, True]
    assert "agency_slug" not in series


def test_plot_values_turn_missing_into_nan():
    values = plot_values(pd.Series(pd.array([1, None], dtype="Int64")))
    assert values.dtype == "float64" and values[0] == 1.0 and math.isnan(values[1])


def test_what_a_cell_shows_for_a_figure(tmp_path):
    ctx = NotebookContext.for_notebook(tmp_path, "02-staffing")
    missing = ShownFigure.no_chart("the agency never reported")
    assert missing.message == "No chart: the agency never reported."
    assert missing._repr_html_() == "<p><em>No chart: the agency never reported.</em></p>"
    assert missing._repr_png_() is None
    note = show(ctx, NoData("town", "stops", "no stops are published"))
    assert note.data == "**No figure:** no stops are published."
