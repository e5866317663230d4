"""A public walk as files phones and GIS open: GPX 1.1 (the route as a track, the stops
as waypoints in walking order; OsmAnd and Organic Maps import both) and RFC 7946
GeoJSON (the route, then one point per stop with its chapter texts). A stop's public
recordings go with it: in GPX as links to the sound (title and type), in GeoJSON with
their duration and transcript.

Input is a :class:`geodata.walk_views.PublicWalk`: only what the public may see (no
recording that is not public, none at a stop that is not shown).
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import orjson
from shapely.geometry import mapping

from geodata.place_attachments import Recording
from geodata.walk_views import PublicStop, PublicWalk

GPX_NS = "http://www.topografix.com/GPX/1/1"


def _coord(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")


def _chapter(stop: PublicStop) -> str:
    """The stop's chapter in its original language (a GPX waypoint has one description)."""
    original = next((c for c in stop.chapters if c.provenance == "original"), stop.chapters[0])
    credit = " — ".join(x for x in (original.source, original.licence) if x)
    return original.text + (f"\n\n({credit})" if credit else "")


def walk_gpx(
    walk: PublicWalk, title: str, base_url: str, untitled: str = "Recording {number}"
) -> bytes:
    """The walk as a GPX 1.1 document; ``base_url`` makes the links absolute, and
    ``untitled`` names a recording without a title (in the reader's language)."""
    ET.register_namespace("", GPX_NS)
    gpx = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "Heritage Atlas"})
    meta = ET.SubElement(gpx, f"{{{GPX_NS}}}metadata")
    ET.SubElement(meta, f"{{{GPX_NS}}}name").text = title
    ET.SubElement(meta, f"{{{GPX_NS}}}link", {"href": f"{base_url}/walks/{walk.id}"})
    for stop in walk.stops:
        point = stop.place.geometry.centroid
        wpt = ET.SubElement(
            gpx, f"{{{GPX_NS}}}wpt", {"lat": _coord(point.y), "lon": _coord(point.x)}
        )
        ET.SubElement(wpt, f"{{{GPX_NS}}}name").text = f"{stop.number}. {stop.place.title}"
        if stop.chapters:
            ET.SubElement(wpt, f"{{{GPX_NS}}}desc").text = _chapter(stop)
        ET.SubElement(wpt, f"{{{GPX_NS}}}link", {"href": f"{base_url}/places/{stop.place.id}"})
        for n, voice in enumerate(stop.voices, start=1):
            link = ET.SubElement(wpt, f"{{{GPX_NS}}}link", {"href": f"{base_url}/audio/{voice.id}"})
            ET.SubElement(link, f"{{{GPX_NS}}}text").text = voice.title or untitled.format(number=n)
            ET.SubElement(link, f"{{{GPX_NS}}}type").text = voice.mime_type
        ET.SubElement(wpt, f"{{{GPX_NS}}}type").text = "stop"
    if walk.route is not None:
        trk = ET.SubElement(gpx, f"{{{GPX_NS}}}trk")
        ET.SubElement(trk, f"{{{GPX_NS}}}name").text = title
        seg = ET.SubElement(trk, f"{{{GPX_NS}}}trkseg")
        for x, y in walk.route.coords:
            ET.SubElement(seg, f"{{{GPX_NS}}}trkpt", {"lat": _coord(y), "lon": _coord(x)})
    return ET.tostring(gpx, encoding="utf-8", xml_declaration=True)


def walk_properties(walk: PublicWalk, base_url: str) -> dict[str, Any]:
    """What a walk's route feature (and the OGC collection's item) says about it."""
    return {
        "kind": "route",
        "walk_id": walk.id,
        "titles": [n.to_json() for n in walk.titles],
        "introductions": [n.to_json() for n in walk.introductions],
        "stops": len(walk.stops),
        "length_m": round(walk.length_m),
        "walking_minutes": walk.minutes,
        "route_drawn_by_proposer": walk.route_drawn,
        "languages": walk.languages,
        "editorial": walk.editorial,
        "licence": walk.licence,
        "shared_by": walk.display_name,
        "updated_at": walk.updated_at.isoformat(),
        "url": f"{base_url}/walks/{walk.id}",
    }


def voice_json(recording: Recording, base_url: str) -> dict[str, Any]:
    """A public recording at a stop: where to hear it, how long, what is said, and whether
    the walk's proposer made it for the stop (``walk``) or it is the place's own."""
    return {
        "url": f"{base_url}/audio/{recording.id}",
        "mime_type": recording.mime_type,
        "duration_s": recording.duration_s,
        "title": recording.title,
        "transcript": recording.transcript,
        "transcript_language": recording.transcript_language,
        "made_for": "walk" if recording.walk_id else "place",
    }


def walk_features(walk: PublicWalk, base_url: str) -> list[dict[str, Any]]:
    """The route, then each stop as a point with its number, place and chapter texts."""
    features: list[dict[str, Any]] = []
    if walk.route is not None:
        features.append(
            {
                "type": "Feature",
                "id": walk.id,
                "geometry": mapping(walk.route),
                "properties": walk_properties(walk, base_url),
            }
        )
    for stop in walk.stops:
        point = stop.place.geometry.centroid
        features.append(
            {
                "type": "Feature",
                "id": f"{walk.id}-{stop.number}",
                "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
                "properties": {
                    "kind": "stop",
                    "walk_id": walk.id,
                    "number": stop.number,
                    "place_id": stop.place.id,
                    "title": stop.place.title,
                    "chapters": [n.to_json() for n in stop.chapters],
                    "recordings": [voice_json(r, base_url) for r in stop.voices],
                    "url": f"{base_url}/places/{stop.place.id}",
                },
            }
        )
    return features


def walk_geojson(walk: PublicWalk, base_url: str) -> bytes:
    return orjson.dumps({"type": "FeatureCollection", "features": walk_features(walk, base_url)})


def _original(narratives: list[Any]) -> Any:
    return next((n for n in narratives if n.provenance == "original"), narratives[0])


WALK_FIELDS = {
    "title": "string",
    "title_language": "string",
    "introduction": "string",
    "stops": "integer",
    "stop_place_ids": "string",
    "stop_titles": "string",
    "length_m": "integer",
    "walking_minutes": "integer",
    "languages": "string",
    "editorial": "boolean",
    "licence": "string",
    "url": "string",
}


def walk_record(walk: PublicWalk, base_url: str) -> dict[str, Any]:
    """A walk as one flat row (its texts in their original language): what GIS tables
    hold, for the OGC API collection and the GeoPackage layer. Fields as WALK_FIELDS."""
    title, intro = _original(walk.titles), _original(walk.introductions)
    return {
        "title": title.text,
        "title_language": title.language,
        "introduction": intro.text,
        "stops": len(walk.stops),
        "stop_place_ids": " ".join(s.place.id for s in walk.stops),
        "stop_titles": " | ".join(f"{s.number}. {s.place.title}" for s in walk.stops),
        "length_m": round(walk.length_m),
        "walking_minutes": walk.minutes,
        "languages": ", ".join(walk.languages),
        "editorial": walk.editorial,
        "licence": walk.licence,
        "url": f"{base_url}/walks/{walk.id}",
    }


WALKS_LAYER = "walks"


def write_walks_layer(path: str, walks: list[PublicWalk], base_url: str) -> int:
    """Add a ``walks`` layer (one route line per walk, its fields as WALK_FIELDS) to the
    GeoPackage at ``path``; return how many walks it holds."""
    import geopandas as gpd  # only where a GeoPackage is written
    import pyogrio

    rows = [walk_record(w, base_url) | {"walk_id": w.id} for w in walks]
    columns = ["walk_id", *WALK_FIELDS]
    frame = gpd.GeoDataFrame(
        rows or None,
        columns=columns,
        geometry=[w.route for w in walks],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(
        frame, path, layer=WALKS_LAYER, driver="GPKG", geometry_type="LineString",
        layer_options={"GEOMETRY_NAME": "geom"},  # as the places layer names it
    )  # fmt: skip
    return len(rows)
