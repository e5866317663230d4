"""Places as PostGIS SQL: the stored columns, the SELECT lists, rows, and filters.

Rows keep the shared column order of :mod:`geodata.store.records` (so ``place_row`` and
``places_from_rows`` serve both backends); the bounds columns are not stored here but
computed in SELECT from the geometry, and every filter becomes SQL the planner can put
on an index (``ST_Intersects`` on the GiST index for a bbox).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geodata.store.base import PlaceFilter
from geodata.store.base_exports import EXPORT_COLUMNS
from geodata.store.filter_sql import Dialect, filter_sql, order_sql, postgis_dialect
from geodata.store.records import COLUMNS, ROW_COLUMNS, iso

_BOUNDS = ("minx", "miny", "maxx", "maxy")
# Stored columns: the shared write order less the bounds, which PostGIS derives from the
# geometry.
STORED = tuple(c for c in ROW_COLUMNS if c not in _BOUNDS)
_SELECT_EXPR = {
    "geom": "ST_AsBinary(p.geom)",
    "minx": "ST_XMin(p.geom)",
    "miny": "ST_YMin(p.geom)",
    "maxx": "ST_XMax(p.geom)",
    "maxy": "ST_YMax(p.geom)",
    "narratives": "p.narratives::text",
    "tags": "p.tags::text",
}
PLACE_SELECT = ", ".join(_SELECT_EXPR.get(c, f"p.{c}") for c in COLUMNS)


def _utc_text(column: str) -> str:
    # The text records.iso() writes, so exports read the same on both backends.
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


_EXPORT_EXPR = {
    **_SELECT_EXPR,
    "consent_publish": "p.consent_publish::int",
    "consent_open_data": "p.consent_open_data::int",
    "consent_research": "p.consent_research::int",
    "created_at": _utc_text("p.created_at"),
    "updated_at": _utc_text("p.updated_at"),
}
# Raw public columns only: personal data is never read for an export.
EXPORT_SELECT = ", ".join(_EXPORT_EXPR.get(c, f"p.{c}") for c in EXPORT_COLUMNS)

# A page of features (PostGISStore.export_feature_page): the stored head of a place shown
# where it is, else the export row to build its feature from (through public_view); the
# sensitivity is tested too, so a head can never carry the exact location of a place
# that is no longer public. Then what the feature's tail says: the neighbourhood's name
# and the place's Local Contexts label ids, in order.
_AS_STORED = "p.sensitivity = 'public' AND p.public_feature IS NOT NULL"
FEATURE_PAGE_SELECT = ", ".join(
    [
        f"CASE WHEN {_AS_STORED} THEN p.public_feature END",
        "p.neighbourhood_id",
        "n.name",
        # Usually no place has a label: asked once (an InitPlan), not per place.
        "CASE WHEN (SELECT EXISTS (SELECT FROM place_protocol_labels)) THEN ARRAY(SELECT "
        "l.label_id FROM place_protocol_labels l WHERE l.place_id = p.id ORDER BY l.position) "
        "ELSE '{}'::text[] END",
        *(
            f"CASE WHEN NOT ({_AS_STORED}) THEN {_EXPORT_EXPR.get(c, f'p.{c}')} END"
            for c in EXPORT_COLUMNS
        ),
    ]
)

_PLACEHOLDER = {"geom": "ST_GeomFromWKB(%s, 4326)", "narratives": "%s::jsonb", "tags": "%s::jsonb"}
INSERT = (
    f"INSERT INTO places ({', '.join(STORED)}) "
    f"VALUES ({', '.join(_PLACEHOLDER.get(c, '%s') for c in STORED)})"
)
_SETS = ", ".join(f"{c} = {_PLACEHOLDER.get(c, '%s')}" for c in STORED[1:])
UPDATE = f"UPDATE places SET {_SETS} WHERE id = %s"
COPY = f"COPY places ({', '.join(STORED)}) FROM STDIN"
_KEEP = tuple(i for i, c in enumerate(ROW_COLUMNS) if c not in _BOUNDS)
# records.place_row gives consents as 0/1; these columns are boolean here.
_BOOLEAN = tuple(
    i for i, c in enumerate(STORED) if c.startswith("consent_") and c != "consent_given_at"
)


def stored_row(row: Sequence[Any]) -> list[Any]:
    """A shared-order row (from ``records.place_row``) as the values of :data:`STORED`."""
    out = [row[i] for i in _KEEP]
    for i in _BOOLEAN:
        out[i] = bool(out[i])
    return out


# How CQL2 filters are spelt for this server: PostGISStore.migrate() says whether it has
# ICU (for CASEI); one setting for the process, as every store here talks to one server.
_DIALECT = [postgis_dialect(icu=True)]


def use_icu(available: bool) -> None:
    _DIALECT[0] = postgis_dialect(icu=available)


def dialect() -> Dialect:
    return _DIALECT[0]


def place_order(flt: PlaceFilter | None) -> str:
    """The ORDER BY terms of a list or export (oldest first unless ``flt.order`` says)."""
    return order_sql(flt.order or () if flt else (), dialect())


def place_where(flt: PlaceFilter | None) -> tuple[str, list[Any]]:
    """WHERE clause and parameters for a filter (every test runs in the database)."""
    if flt is None:
        return "TRUE", []
    clauses: list[str] = []
    params: list[Any] = []
    if flt.bbox is not None:
        # ST_Intersects uses the GiST index for the box test, then tests exactly.
        clauses.append("ST_Intersects(p.geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))")
        params += [float(v) for v in flt.bbox]
    for column, value in (
        ("p.category", flt.category),
        ("p.status", flt.status),
        ("p.sensitivity", flt.sensitivity),
    ):
        if value is None:
            continue
        if isinstance(value, str):
            clauses.append(f"{column} = %s")
            params.append(str(value))
        else:
            clauses.append(f"{column} = ANY(%s)")
            params.append([str(v) for v in value])
    wanted = [flt.sensitivity] if isinstance(flt.sensitivity, str) else flt.sensitivity or []
    if wanted and "public" not in [str(v) for v in wanted]:
        # Written out, so that even a generic plan (of a prepared statement, where the
        # wanted values are parameters) may use the partial index of non-public places.
        clauses.append("p.sensitivity <> 'public'")
    if flt.neighbourhood_id is not None:
        clauses.append("p.neighbourhood_id = %s")
        params.append(flt.neighbourhood_id)
    if flt.workshop is not None:
        clauses.append("p.workshop = %s")
        params.append(flt.workshop)
    for column, op, value in (
        ("created_at", ">=", flt.since),
        ("created_at", "<", flt.until),
        ("updated_at", ">", flt.updated_since),
    ):
        if value is not None:
            clauses.append(f"p.{column} {op} %s::timestamptz")
            params.append(iso(value))
    if flt.language is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM jsonb_array_elements(p.narratives) j "
            "WHERE lower(j->>'language') = %s OR lower(j->>'language') LIKE %s)"
        )
        lang = flt.language.lower()
        params += [lang, lang + "-%"]
    if flt.audience is not None:
        column = {"map": "consent_publish", "open_data": "consent_open_data"}[flt.audience]
        clauses.append(f"p.status = 'published' AND p.{column}")
    if flt.year_from is not None:
        clauses.append("coalesce(p.year_to, p.year_from) >= %s")
        params.append(flt.year_from)
    if flt.year_to is not None:
        clauses.append("coalesce(p.year_from, p.year_to) <= %s")
        params.append(flt.year_to)
    if flt.ids is not None:
        clauses.append("p.id = ANY(%s)")
        params.append([str(i) for i in flt.ids])
    if flt.title_contains:
        # Backslash is LIKE's default escape: the text matches literally, any case.
        escaped = "".join("\\" + c if c in "\\%_" else c for c in flt.title_contains)
        clauses.append("p.title ILIKE %s")
        params.append(f"%{escaped}%")
    if flt.where is not None:
        sql, more = filter_sql(flt.where, dialect())
        clauses.append(f"({sql})")
        params += more
    return " AND ".join(clauses) or "TRUE", params
