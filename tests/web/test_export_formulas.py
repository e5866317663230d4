"""CSV downloads and reports never hand a spreadsheet a live formula ("CSV injection").

Places whose text starts like a formula go out through the download API, the CLI export
and the import rejects report; read back, each such cell starts with ``'`` (text to
Excel, Calc and Sheets), and the coordinates and years are still plain numbers.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pyogrio
import pytest
from shapely.geometry import Point
from typer.testing import CliRunner

from geodata.models import Consent, Narrative, Place, Status
from geodata.store.base import PlaceStore
from web.cli import app as cli

PAYLOADS = [
    '=HYPERLINK("http://x","click")',
    "+1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
]
# What a spreadsheet would evaluate: a cell starting with one of these, after spaces.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def formula_places(lisbon_store: PlaceStore) -> dict[str, str]:
    """One published, open-data place per payload, as its title, first tag, period and
    attribution; at negative longitudes (west of Greenwich, as all of Lisbon is)."""
    ids = {}
    for i, payload in enumerate(PAYLOADS):
        place = Place(
            geometry=Point(-9.1400 - i / 1000, 38.7100),
            title=payload,
            narratives=[Narrative(payload, "pt")],
            category="memory",
            period=payload,
            year_from=-50,
            year_to=1959,
            tags=[payload, "market"],
            attribution=payload,
            status=Status.PUBLISHED,
            consent=Consent(publish=True, open_data=True),
        )
        lisbon_store.add(place)
        ids[place.id] = payload
    return ids


def assert_no_live_formula(rows: list[dict[str, str]]) -> None:
    """No text cell starts a formula; a cell that does is a number (-9.14)."""
    for row in rows:
        for column, cell in row.items():
            if cell and cell.lstrip(" ")[:1] in FORMULA_START:
                float(cell)  # raises for text: only numbers may start with "-"
                assert column in ("longitude", "latitude", "year_from", "year_to"), column


def assert_escaped(rows: list[dict[str, str]], places: dict[str, str]) -> None:
    by_id = {r["id"]: r for r in rows}
    assert set(places) <= set(by_id)
    for pid, payload in places.items():
        row = by_id[pid]
        assert row["title"] == "'" + payload  # the whole text kept, quotes and all
        assert row["period"] == "'" + payload and row["attribution"] == "'" + payload
        assert row["tags"] == "'" + payload + ";market"
        assert json.loads(row["narratives"])[0]["text"] == payload  # JSON starts with [
        assert float(row["longitude"]) < -9.13 and float(row["latitude"]) == 38.71
        assert row["year_from"] == "-50" and row["year_to"] == "1959"
    assert_no_live_formula(rows)


def test_csv_download_escapes_formulas_and_keeps_numbers(client, formula_places) -> None:
    r = client.get("/api/export/places.csv")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert_escaped(rows, formula_places)
    # Ordinary titles are left alone.
    assert any(row["title"] == "Teatro Nacional D. Maria II" for row in rows)


def test_csv_download_read_by_gdal_has_text_cells_and_numeric_coordinates(
    client, formula_places, tmp_path: Path
) -> None:
    path = tmp_path / "places.csv"
    path.write_bytes(client.get("/api/export/places.csv").content)
    frame = pyogrio.read_dataframe(
        path, GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO", AUTODETECT_TYPE="YES"
    ).set_index("id")
    assert frame["longitude"].dtype.kind == "f" and frame["year_from"].dtype.kind in "if"
    for pid, payload in formula_places.items():
        # GDAL reads a carriage return inside a quoted cell as a line feed.
        assert frame.loc[pid, "title"] == "'" + payload.replace("\r", "\n")
        assert frame.loc[pid, "longitude"] < -9.13 and frame.loc[pid, "year_from"] == -50
        assert frame.loc[pid].geometry.x == pytest.approx(frame.loc[pid, "longitude"])


def _url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'atlas.db'}"  # the file conftest's store opened
    url = os.environ["HERITAGE_TEST_POSTGIS_URL"]
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and "schema=" not in url:  # the schema conftest's store uses under pytest -n
        url += f"{'&' if '?' in url else '?'}schema=test_{worker}"
    return url


def test_cli_csv_export_escapes_formulas(
    backend: str, formula_places, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        cli, ["export", str(out), "--format", "csv", "--database-url", _url(backend, tmp_path)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as fh:
        assert_escaped(list(csv.DictReader(fh)), formula_places)


def test_rejects_report_escapes_ids_and_reasons_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    features = [
        {
            "type": "Feature",
            "id": payload,
            "geometry": {"type": "Point", "coordinates": [-9.14, 38.71]},
            "properties": {"title": "", "category": "memory"},
        }
        for payload in PAYLOADS
    ]
    source = tmp_path / "hostile.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    report = tmp_path / "report.csv"
    url = f"sqlite:///{tmp_path / 'import.db'}"
    result = CliRunner().invoke(
        cli, ["import-places", str(source), "--rejects", str(report), "--database-url", url]
    )
    assert result.exit_code == 1 and "rejected 7" in result.output
    with report.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["'" + p for p in PAYLOADS]
    assert [r["feature"] for r in rows] == [str(i) for i in range(1, 8)]
    assert_no_live_formula(rows)
