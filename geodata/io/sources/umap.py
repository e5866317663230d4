"""uMap exports: a whole map (``"type": "umap"``, its layers in ``"layers"``, each a
FeatureCollection naming itself in ``_umap_options.name``) or one layer's GeoJSON
(features carrying ``_umap_options``).

Each feature's ``name`` is the title, its ``description`` the narrative (uMap's text as
written), and its layer's name the layer a ``--map category.NAME=KEY`` turns into a
category key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from geodata.errors import SourceError
from geodata.io.sources.base import LAYER, SourceRead
from geodata.io.sources.generic import SourceFeatures

NAME = "umap"
EXPECTS = 'a uMap map export ("type": "umap" with "layers") or a layer with "_umap_options"'


def sniff(path: Path, head: bytes) -> bool:
    start = head.lstrip()[:1]
    if start != b"{":
        return False
    return b'"_umap_options"' in head or b'"type":"umap"' in head or b'"type": "umap"' in head


def _options_name(obj: dict[str, Any]) -> str | None:
    options = obj.get("_umap_options")
    if isinstance(options, dict) and options.get("name") not in (None, ""):
        return str(options["name"])
    props = obj.get("properties")
    if isinstance(props, dict) and props.get("name") not in (None, ""):
        return str(props["name"])
    return None


def read(path: Path, geopoint: str | None = None) -> SourceRead:
    """The features of ``path`` (``geopoint``: only for the XLSForm readers)."""
    label = str(path)
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{label}: is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise SourceError(f"{label}: is not a uMap export")
    if isinstance(doc.get("layers"), list):
        layers = [
            (_options_name(layer) or f"Layer {n}", layer)
            for n, layer in enumerate(doc["layers"], 1)
            if isinstance(layer, dict)
        ]
    elif doc.get("type") == "FeatureCollection":
        layers = [(_options_name(doc), doc)]
    else:
        raise SourceError(f'{label}: a uMap export needs its layers in "layers"')
    geoms, props, ids = [], [], []
    for name, layer in layers:
        features = layer.get("features")
        if not isinstance(features, list):
            raise SourceError(f"{label}: layer {name!r} has no features list")
        for f in features:
            f = f if isinstance(f, dict) else {}
            p = f.get("properties") if isinstance(f.get("properties"), dict) else {}
            p = {k: v for k, v in p.items() if k != "_umap_options"}
            if p.get("name") not in (None, ""):
                p["title"] = p["name"]
            if p.get("description") not in (None, ""):
                p["narrative"] = p["description"]
            if name is not None:
                p[LAYER] = name
            geoms.append(f.get("geometry"))
            props.append(p)
            ids.append(str(f["id"]) if f.get("id") not in (None, "") else None)
    return SourceRead(SourceFeatures(geoms, props, ids))
