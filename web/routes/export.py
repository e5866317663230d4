"""Downloads for planners: places as GeoJSON, GeoPackage or CSV (GeoParquet and FlatGeobuf
in :mod:`web.routes.export_columnar`), neighbourhoods with counts.

Everything goes through :mod:`geodata.io.export` (published, open-data consent, public
locations, no personal data). Bodies are streamed: one export thread reads the store and
encodes batch after batch, so memory stays flat and the event loop stays free.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response, StreamingResponse

from geodata.io import csv_export, geojson, gpkg
from geodata.io.export import DatasetInfo, public_batches
from geodata.io.export_filter import ExportQuery, build_filter, describe
from geodata.privacy import public_filter
from geodata.store.base import PlaceFilter, PlaceStore
from geodata.vocabulary import Vocabulary
from geodata.walk_views import walk_versions
from web.dependencies import get_settings, get_store, get_vocabulary
from web.public_url import public_base_url, public_url_for
from web.settings import Settings

router = APIRouter(prefix="/api/export", tags=["open data"])
# One thread runs every export: a SQLite cursor stays on the thread (and connection) that
# opened it, and heavy downloads queue instead of starving the request threads.
EXPORT_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
FORMAT_VERSION = "3"  # bump when the layout of a download changes: new ETags for everyone


def _answers(media_type: str) -> dict:
    """Route options documenting the download's real media type in the OpenAPI document."""
    return {"response_class": Response, "responses": {200: {"content": {media_type: {}}}}}


def export_query(
    neighbourhood: str | None = Query(None, description="Neighbourhood id, name or code."),
    category: str | None = Query(None, description="Category key(s), comma-separated."),
    language: str | None = Query(None, description="BCP 47 tag: places with a narrative in it."),
    year_from: str | None = Query(None, description="Places whose period reaches this year."),
    year_to: str | None = Query(None, description="Places whose period starts by this year."),
    since: str | None = Query(None, description="Created at or after (ISO 8601)."),
    until: str | None = Query(None, description="Created before (ISO 8601)."),
    bbox: str | None = Query(
        None, description="min lon,min lat,max lon,max lat (WGS84); public locations only."
    ),
    workshop: str | None = Query(None, description="Workshop join code."),
) -> ExportQuery:
    return ExportQuery(
        neighbourhood=neighbourhood, category=category, language=language,
        year_from=year_from, year_to=year_to, since=since, until=until, bbox=bbox,
        workshop=workshop,
    )  # fmt: skip


def dataset_info(settings: Settings) -> DatasetInfo:
    return DatasetInfo(
        title=settings.open_data_title,
        licence=settings.open_data_licence,
        attribution=settings.open_data_attribution,
    )


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40]


def filename(stem: str, query: ExportQuery, ext: str) -> str:
    """``heritage-atlas-places-<filters>-<date>.<ext>``, ASCII only."""
    parts = ["heritage-atlas", stem]
    parts += [_slug(str(v)) for k, v in describe(query).items() if k != "bbox"]
    parts.append(datetime.now(UTC).strftime("%Y-%m-%d"))
    return "-".join(p for p in parts if p) + "." + ext


class Download:
    """A filtered download: its filter, validators and headers."""

    def __init__(
        self, store: PlaceStore, query: ExportQuery, vocabulary: Vocabulary, kind: str
    ) -> None:
        self.store = store
        self.query = query
        self.flt: PlaceFilter = build_filter(query, store.neighbourhoods(), vocabulary)
        # Any change to any place or label gives every download a new ETag: asking which
        # places a filter picks would mean reading them all before the first byte.
        version, changed_at = store.places_version()
        names = [(n.id, n.name) for n in store.neighbourhoods()]
        key = orjson.dumps(
            [FORMAT_VERSION, kind, sorted(describe(query).items()), version, names,
             walk_versions(store) if kind.endswith(".gpkg") else None],  # its walks layer
            default=str,
        )  # fmt: skip
        self.etag = 'W/"' + hashlib.sha256(key).hexdigest()[:32] + '"'
        self.last_modified = changed_at

    def not_modified(self, request: Request) -> Response | None:
        """A 304 when the client already holds this version (If-None-Match)."""
        given = request.headers.get("if-none-match")
        if given is None:
            return None
        tags = {t.strip().removeprefix("W/") for t in given.split(",")}
        if "*" in tags or self.etag.removeprefix("W/") in tags:
            return Response(status_code=304, headers=self.headers())
        return None

    def headers(self, name: str | None = None) -> dict[str, str]:
        headers = {"ETag": self.etag, "Cache-Control": "no-cache"}
        if self.last_modified is not None:
            headers["Last-Modified"] = format_datetime(self.last_modified, usegmt=True)
        if name is not None:
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return headers


async def threaded(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Run a chunk generator on the export thread, handing each chunk to the event loop.

    The next chunk is read while the event loop sends this one (SQLite and the socket
    both release the GIL), one chunk ahead only: other downloads still take turns on the
    export thread, and a slow client holds no more than two chunks in memory.
    """
    loop = asyncio.get_running_loop()
    ahead = loop.run_in_executor(EXPORT_THREAD, next, chunks, None)
    try:
        while (chunk := await ahead) is not None:
            ahead = loop.run_in_executor(EXPORT_THREAD, next, chunks, None)
            yield chunk
    finally:
        with contextlib.suppress(BaseException):
            await ahead  # the generator must be idle before it is closed
        await loop.run_in_executor(EXPORT_THREAD, chunks.close)  # type: ignore[attr-defined]


def accepts_gzip(request: Request) -> bool:
    """Whether the client takes a gzip-encoded body (``Accept-Encoding``, q above 0)."""
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        coding, _, params = part.partition(";")
        if coding.strip() not in ("gzip", "x-gzip", "*"):
            continue
        params = params.replace(" ", "")
        if not params.startswith("q="):
            return True
        try:
            return float(params[2:]) > 0
        except ValueError:
            return False
    return False


def gzipped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks as one gzip stream at level 1. A GeoJSON download shrinks about 20 times
    at 365 MB/s; level 9 gains a tenth more and runs five times slower (measured on 65 MB
    of exported places: 0.18 s against 0.92 s)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # 31: with a gzip header
    try:
        for chunk in chunks:
            if packed := packer.compress(chunk):
                yield packed
        yield packer.flush()
    finally:
        chunks.close()  # type: ignore[attr-defined]


def streamed(
    request: Request, chunks: Iterator[bytes], media_type: str, headers: dict[str, str]
) -> StreamingResponse:
    """A streamed download, gzip-encoded for clients that take it."""
    headers = {**headers, "Vary": "Accept-Encoding"}
    if accepts_gzip(request):
        chunks = gzipped(chunks)
        headers["Content-Encoding"] = "gzip"
    return StreamingResponse(threaded(chunks), media_type=media_type, headers=headers)


def _licence_link(request: Request, settings: Settings) -> str:
    url = public_url_for(request, settings, "places_licence")
    query = request.url.query
    return f'<{url}{"?" + query if query else ""}>; rel="license"'


@router.get(
    "/places.geojson",
    summary="Places as RFC 7946 GeoJSON (streamed)",
    **_answers(geojson.MEDIA_TYPE),
)
def places_geojson(
    request: Request,
    query: ExportQuery = Depends(export_query),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    download = Download(store, query, vocabulary, "places.geojson")
    if (cached := download.not_modified(request)) is not None:
        return cached
    chunks = geojson.collection_chunks(
        geojson.public_feature_chunks(store, download.flt, settings.privacy_grid_m),
        dataset_info(settings),
        members={"filters": describe(query)},
    )
    return streamed(
        request, chunks, geojson.MEDIA_TYPE, download.headers(filename("places", query, "geojson"))
    )


@router.get(
    "/places.csv",
    summary="Places as CSV (lon/lat for points, WKT for all)",
    **_answers(csv_export.MEDIA_TYPE),
)
def places_csv(
    request: Request,
    query: ExportQuery = Depends(export_query),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    download = Download(store, query, vocabulary, "places.csv")
    if (cached := download.not_modified(request)) is not None:
        return cached
    batches = public_batches(store, download.flt, grid_m=settings.privacy_grid_m)
    headers = download.headers(filename("places", query, "csv"))
    headers["Link"] = _licence_link(request, settings)
    return streamed(request, csv_export.csv_chunks(batches), csv_export.MEDIA_TYPE, headers)


@router.get(
    "/places.licence.txt",
    name="places_licence",
    summary="The licence sidecar of a CSV download (same filters)",
    **_answers("text/plain; charset=utf-8"),
)
def places_licence(
    request: Request,
    query: ExportQuery = Depends(export_query),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    download = Download(store, query, vocabulary, "places.licence.txt")
    if (cached := download.not_modified(request)) is not None:
        return cached
    flt = public_filter(download.flt, "open_data")
    text = csv_export.licence_text(
        dataset_info(settings), store.licence_counts(flt), describe(query)
    )
    return Response(
        text, media_type="text/plain; charset=utf-8",
        headers=download.headers(filename("places", query, "licence.txt")),
    )  # fmt: skip


@router.get(
    "/places.csvt",
    summary="The column types of a CSV download (same filters), for GDAL and QGIS",
    description=(
        "One line naming each CSV column's type (Integer64, Integer(Boolean), DateTime, "
        "String, Real, WKT). Saved beside the CSV under the same name with .csvt (as this "
        "download names itself), it makes GDAL and QGIS read years as integers, "
        "location_generalised as a boolean, the times as date-times and the WKT as geometry."
    ),
    **_answers("text/plain; charset=utf-8"),
)
def places_csvt(
    request: Request,
    query: ExportQuery = Depends(export_query),
    store: PlaceStore = Depends(get_store),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    download = Download(store, query, vocabulary, "places.csvt")
    if (cached := download.not_modified(request)) is not None:
        return cached
    return Response(
        csv_export.CSVT + "\n", media_type="text/plain; charset=utf-8",
        headers=download.headers(filename("places", query, "csvt")),
    )  # fmt: skip


@router.get("/places.gpkg", summary="Places as a GeoPackage", **_answers(gpkg.MEDIA_TYPE))
async def places_gpkg(
    request: Request,
    query: ExportQuery = Depends(export_query),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    def write(flt: PlaceFilter, path: str) -> None:
        gpkg.write_download_gpkg(
            store, flt, path, base_url=public_base_url(request, settings),
            info=dataset_info(settings), filters=describe(query), grid_m=settings.privacy_grid_m,
        )  # fmt: skip

    return await file_download(
        request, query, store, vocabulary, "places.gpkg", gpkg.MEDIA_TYPE, write
    )


async def file_download(
    request: Request,
    query: ExportQuery,
    store: PlaceStore,
    vocabulary: Vocabulary,
    name: str,
    media_type: str,
    write: Callable[[PlaceFilter, str], None],
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """A download written whole to a temporary file by ``write(filter, path)`` before its
    first byte is sent (a format with an index or a table of contents), then removed."""
    loop = asyncio.get_running_loop()
    download = await loop.run_in_executor(EXPORT_THREAD, Download, store, query, vocabulary, name)
    if (cached := download.not_modified(request)) is not None:
        return cached
    stem, extension = name.rsplit(".", 1)
    fd, path = tempfile.mkstemp(prefix="heritage-atlas-", suffix=f".{extension}")
    os.close(fd)
    try:
        await loop.run_in_executor(EXPORT_THREAD, write, download.flt, path)
    except BaseException:
        os.unlink(path)
        raise
    return FileResponse(
        path, media_type=media_type, headers={**download.headers(), **(extra_headers or {})},
        filename=filename(stem, query, extension), background=BackgroundTask(os.unlink, path),
    )  # fmt: skip


@router.get(
    "/neighbourhoods.geojson",
    summary="Neighbourhoods as GeoJSON with their number of places, in all and by category",
    **_answers(geojson.MEDIA_TYPE),
)
def neighbourhoods_geojson(
    request: Request,
    query: ExportQuery = Depends(export_query),
    store: PlaceStore = Depends(get_store),
    settings: Settings = Depends(get_settings),
    vocabulary: Vocabulary = Depends(get_vocabulary),
) -> Response:
    download = Download(store, query, vocabulary, "neighbourhoods.geojson")
    if (cached := download.not_modified(request)) is not None:
        return cached
    features, outside = geojson.neighbourhood_features(store, download.flt, vocabulary.keys())
    info = dataset_info(settings)
    body = {
        "type": "FeatureCollection",
        "name": "neighbourhoods",
        "title": f"{info.title}: neighbourhoods",
        "licence": info.licence,
        "attribution": info.attribution,
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "filters": describe(query),
        "places_outside_neighbourhoods": outside,
        "features": features,
    }
    return Response(
        orjson.dumps(body), media_type=geojson.MEDIA_TYPE,
        headers=download.headers(filename("neighbourhoods", query, "geojson")),
    )  # fmt: skip
