"""Downloads for analysis tools: places as GeoParquet (streamed row group by row group) and
as FlatGeobuf with a spatial index (written whole, then sent); and the problem answered
for a format we do not offer.

Same filters, privacy rules, validators and names as the other downloads
(:mod:`web.routes.export`); both formats carry the fields of :mod:`geodata.io.fields`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from geodata.errors import NotFound
from geodata.io import flatgeobuf, geoparquet
from geodata.io.export import public_batches
from geodata.io.export_filter import ExportQuery, describe
from geodata.schemas import Problem
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.vocabulary import Vocabulary
from web.dependencies import get_settings, get_store, get_vocabulary
from web.i18n import localised_problem
from web.language_choice import request_language
from web.routes.export import (
    Download,
    _answers,
    _licence_link,
    dataset_info,
    export_query,
    file_download,
    filename,
    threaded,
)
from web.settings import Settings

router = APIRouter(prefix="/api/export", tags=["open data"])
# What /api/export/places.<format> offers, for the problem naming the others.
FORMATS = ("geojson", "csv", "gpkg", "parquet", "fgb")


@router.get(
    "/places.parquet",
    summary="Places as GeoParquet 1.1 (streamed)",
    description=(
        "The open-data places as a GeoParquet 1.1.0 file: typed columns (integer years, "
        "boolean flags, UTC timestamps, lists of text), the location as WKB in `geometry` "
        "with its bounds in the `bbox` covering column, OGC:CRS84, zstd-compressed row "
        "groups of 50,000 places. The `geo` file metadata names the geometry types and "
        "extent; the licence, attribution, filters and source licences are in the file "
        "metadata as well. Reads with geopandas, pyarrow, DuckDB, QGIS and GDAL."
    ),
    **_answers(geoparquet.MEDIA_TYPE),
)
def places_parquet(
    request: Request,
    query: ExportQuery = Depends(export_query),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    download = Download(store, query, vocabulary, "places.parquet")
    if (cached := download.not_modified(request)) is not None:
        return cached
    batches = public_batches(
        store, download.flt, grid_m=settings.privacy_grid_m, batch_size=geoparquet.BATCH_SIZE
    )
    chunks = geoparquet.parquet_chunks(batches, dataset_info(settings), filters=describe(query))
    headers = download.headers(filename("places", query, "parquet"))
    headers["Link"] = _licence_link(request, settings)
    # Parquet compresses its own columns: no gzip on top.
    return StreamingResponse(threaded(chunks), media_type=geoparquet.MEDIA_TYPE, headers=headers)


@router.get(
    "/places.fgb",
    summary="Places as FlatGeobuf with a spatial index",
    description=(
        "The open-data places as FlatGeobuf with its packed Hilbert R-tree, so QGIS, GDAL "
        "and web maps can read just the places in view, over HTTP range requests too. "
        "Typed fields as in every download (lists as JSON text). Places whose location is "
        "hidden are left out: the index needs a location for every feature."
    ),
    **_answers(flatgeobuf.MEDIA_TYPE),
)
async def places_fgb(
    request: Request,
    query: ExportQuery = Depends(export_query),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    def write(flt: PlaceFilter, path: str) -> None:
        flatgeobuf.write_places_fgb(
            store, flt, path, info=dataset_info(settings), grid_m=settings.privacy_grid_m
        )

    return await file_download(
        request, query, store, vocabulary, "places.fgb", flatgeobuf.MEDIA_TYPE, write,
        {"Link": _licence_link(request, settings)},
    )  # fmt: skip


@router.get("/places.{fmt}", include_in_schema=False)
def unknown_format(request: Request, fmt: str) -> Response:
    """``places.shp`` and the like: a 404 problem naming the format and those we offer."""
    choices = ", ".join(FORMATS)
    message = f"there is no download in the format {fmt!r}; use one of: {choices}"
    problem = Problem("format", "unknown_format", message, {"format": fmt, "choices": choices})
    exc = NotFound(message, code="unknown_format", problems=[problem])
    return localised_problem(exc, request_language(request), request.url.path)
