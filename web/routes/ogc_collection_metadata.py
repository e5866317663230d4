"""What OGC API – Features says about a collection: title, licence, CRSs, its spatial and
temporal extent, and the links to its items, tiles and schema."""

from __future__ import annotations

from typing import Any

from geodata.crs import CRS84
from geodata.io.export import coarse_bbox
from geodata.privacy import public_filter
from geodata.store.base import PlaceStore
from web.routes.export import dataset_info
from web.routes.ogc_common import (
    COLLECTIONS,
    GEOJSON,
    HTML,
    Urls,
)
from web.routes.ogc_crs import offered_crs
from web.routes.ogc_schema import schema_links
from web.routes.ogc_tiles import collection_links
from web.routes.ogc_walks import walks_extent
from web.settings import Settings


def _extent(store: PlaceStore, cid: str) -> dict[str, Any]:
    if cid == "walks":
        return walks_extent(store)
    if cid == "neighbourhoods":
        hoods = store.neighbourhoods()
        bounds = None
        if hoods:
            b = [n.geometry.bounds for n in hoods]
            bounds = [
                min(x[0] for x in b),
                min(x[1] for x in b),
                max(x[2] for x in b),
                max(x[3] for x in b),
            ]
        return {"spatial": {"bbox": [coarse_bbox(bounds) or [-180, -90, 180, 90]], "crs": CRS84}}
    s = store.summary(public_filter(None, "open_data"))
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    interval = [
        s.first_created.strftime(stamp) if s.first_created else None,
        s.last_created.strftime(stamp) if s.last_created else None,
    ]
    return {
        "spatial": {"bbox": [coarse_bbox(s.bbox) or [-180, -90, 180, 90]], "crs": CRS84},
        "temporal": {
            "interval": [interval],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        },
    }


def collection_metadata(
    store: PlaceStore, url: Urls, cid: str, settings: Settings
) -> dict[str, Any]:
    """The description of collection ``cid``, as ``/collections`` lists it."""
    title, description = COLLECTIONS[cid]
    info = dataset_info(settings)
    return {
        "id": cid,
        "title": title,
        "description": description,
        "attribution": info.attribution,
        "license": info.licence,
        "itemType": "feature",
        "crs": offered_crs(settings),
        "storageCrs": CRS84,
        "extent": _extent(store, cid),
        "links": [
            *url.pair(f"/collections/{cid}", title),
            {
                "href": url(f"/collections/{cid}/items", f="json"),
                "rel": "items",
                "type": GEOJSON,
                "title": f"{title} (GeoJSON)",
            },
            {
                "href": url(f"/collections/{cid}/items", f="html"),
                "rel": "items",
                "type": HTML,
                "title": f"{title} (HTML)",
            },
            *collection_links(url(), cid),
            *schema_links(url, cid, title),
        ],
    }
