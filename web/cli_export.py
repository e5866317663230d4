"""``heritage-atlas export``: the open-data places in every download format, filtered like
the download API.

It registers on the Typer app of :mod:`web.cli_common` (:mod:`web.cli` imports this
module last), with the same one-line error handling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geodata.errors import HeritageError
from web.cli_common import (
    DatabaseOption,
    app,
    console,
    one_line_errors,
    progress_bar,
    settings_and_store,
)

EXPORT_FORMATS = ("geojson", "gpkg", "csv", "parquet", "fgb")
EXPORT_FORMAT_ALIASES = {
    "json": "geojson",
    "geopackage": "gpkg",
    "geoparquet": "parquet",
    "flatgeobuf": "fgb",
}


@app.command()
@one_line_errors
def export(
    path: Annotated[Path, typer.Argument(help="Where to write the file.")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="geojson, gpkg, csv, parquet (GeoParquet) or fgb (FlatGeobuf); default: "
            "from PATH's extension.",
        ),
    ] = None,
    neighbourhood: Annotated[
        str | None, typer.Option(help="Neighbourhood id, name or code.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Category key(s), comma-separated.")] = None,
    language: Annotated[
        str | None, typer.Option(help="Places with a narrative in this language (BCP 47).")
    ] = None,
    year_from: Annotated[
        str | None, typer.Option(help="Places whose period reaches this year.")
    ] = None,
    year_to: Annotated[
        str | None, typer.Option(help="Places whose period starts by this year.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Created at or after (ISO 8601 date or time).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Created before (ISO 8601).")] = None,
    bbox: Annotated[
        str | None, typer.Option(help="min lon,min lat,max lon,max lat (WGS84).")
    ] = None,
    workshop: Annotated[str | None, typer.Option(help="Workshop join code.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Export the open-data places (published, with consent, no personal data) as GeoJSON,
    GeoPackage, CSV (with a licence sidecar), GeoParquet or FlatGeobuf, filtered like the
    download API. A GeoPackage also holds every open-data walk in a 'walks' layer, as the
    download does (links from HERITAGE_PUBLIC_URL when it is set)."""
    import os
    import threading

    from geodata.io import csv_export, geojson
    from geodata.io.export import DatasetInfo, count_public
    from geodata.io.export_filter import ExportQuery, build_filter, describe
    from geodata.vocabulary import Vocabulary

    kind = (format or path.suffix.lstrip(".") or "geojson").lower()
    kind = EXPORT_FORMAT_ALIASES.get(kind, kind)
    if kind not in EXPORT_FORMATS:
        raise HeritageError(
            f"--format must be {', '.join(EXPORT_FORMATS[:-1])} or {EXPORT_FORMATS[-1]}, "
            f"not {kind!r}"
        )
    settings, store = settings_and_store(database_url)
    query = ExportQuery(
        neighbourhood=neighbourhood, category=category, language=language,
        year_from=year_from, year_to=year_to, since=since, until=until, bbox=bbox,
        workshop=workshop,
    )  # fmt: skip
    flt = build_filter(query, store.neighbourhoods(), Vocabulary())
    info = DatasetInfo(
        title=settings.open_data_title,
        licence=settings.open_data_licence,
        attribution=settings.open_data_attribution,
    )
    grid_m = settings.privacy_grid_m
    # Written beside PATH, then moved into place: an interrupted export leaves no half file.
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    walks = 0
    with progress_bar() as bar:
        task = bar.add_task(f"writing {path.name}", total=None)
        # Counting reads every matching place too: on a thread of its own while the export
        # runs, and only when the export cannot tell how far it has got.
        counting = threading.Thread(
            target=lambda: bar.update(task, total=count_public(store, flt, grid_m)), daemon=True
        )

        def step(k: int, scanned: float | None = None) -> None:
            if scanned:  # places so far over the share of the store read: the total
                bar.update(task, completed=k, total=max(k, round(k / scanned)))
                return
            if counting.ident is None:  # not started yet
                counting.start()
            bar.update(task, completed=k)

        if kind != "geojson":
            counting.start()
        try:
            if kind == "gpkg":
                from geodata.io import gpkg  # geopandas: imported only when needed

                n, walks = gpkg.write_download_gpkg(
                    store, flt, partial, base_url=(settings.public_url or "").rstrip("/"),
                    info=info, filters=describe(query), grid_m=grid_m, progress=step,
                )  # fmt: skip
            elif kind == "fgb":
                from geodata.io import flatgeobuf

                n = flatgeobuf.write_places_fgb(
                    store, flt, partial, info=info, grid_m=grid_m, progress=step
                )
            elif kind == "parquet":
                from geodata.io import geoparquet

                with open(partial, "wb") as fh:
                    n = geoparquet.write_places_parquet(
                        store, flt, fh, info=info, filters=describe(query), grid_m=grid_m,
                        progress=step,
                    )  # fmt: skip
            else:
                with open(partial, "wb") as fh:
                    if kind == "geojson":
                        n = geojson.write_places_geojson(
                            store, flt, fh, info=info, grid_m=grid_m, progress=step
                        )
                    else:
                        licences = csv_export.write_places_csv(
                            store, flt, fh, grid_m=grid_m, progress=step
                        )
                        n = sum(licences.values())
            if counting.ident is not None:
                counting.join()
            bar.update(task, total=n, completed=n)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    console.print(f"exported {n:,} places to {path}")
    if kind == "gpkg":
        console.print(f"and {walks:,} walks (layer 'walks')")
    if kind == "csv":
        sidecar = path.with_suffix(".licence.txt")
        sidecar.write_text(
            csv_export.licence_text(info, licences, describe(query)), encoding="utf-8"
        )
        console.print(f"licence and attribution: {sidecar}")
        types = path.with_suffix(".csvt")  # GDAL and QGIS read the column types from it
        types.write_text(csv_export.CSVT + "\n", encoding="utf-8")
        console.print(f"column types (GDAL, QGIS): {types}")
    store.close()
