"""QGIS itself against the running service (Debian's ``python3-qgis``, headless, in the
system Python it belongs to): the vector tiles drawn as a generic XYZ vector tile layer,
the one connection the README gives, and the places through GDAL with typed years.

Skipped without QGIS unless ``HERITAGE_REQUIRE_QGIS=1`` (CI installs it and sets that).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import LiveServer, _unavailable

SYSTEM_PYTHON = Path("/usr/bin/python3")
# Draws each layer over a view (EPSG:3857 bounds) into a 256 x 256 image and counts the
# pixels that are not the white background; then opens the places through GDAL.
QGIS_SCRIPT = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import (Qgis, QgsApplication, QgsCoordinateReferenceSystem, QgsMapSettings,
                       QgsMapRendererSequentialJob, QgsRectangle, QgsVectorLayer,
                       QgsVectorTileLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

app = QgsApplication([], False)
app.initQgis()
base, views = sys.argv[1], json.loads(sys.argv[2])
out = {"version": Qgis.QGIS_VERSION, "drawn": {}}
for name, (cid, bounds) in views.items():
    url = f"{base}/ogc/collections/{cid}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
    layer = QgsVectorTileLayer(f"type=xyz&url={url}&zmin=0&zmax=22", cid)
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(QgsRectangle(*bounds))
    settings.setOutputSize(QSize(256, 256))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    pixels = sum(image.pixelColor(x, y).name() != "#ffffff"
                 for y in range(256) for x in range(256))
    out["drawn"][name] = {"valid": layer.isValid(), "pixels": pixels,
                          "errors": [e.message for e in job.errors()]}
places = QgsVectorLayer(f"OAPIF:{base}/ogc|layername=places", "places", "ogr")
out["fields"] = {f.name(): f.typeName() for f in places.fields()}
print(json.dumps(out), flush=True)
os._exit(0)  # exitQgis() may crash a headless QGIS 3.22 on its way out
"""
# EPSG:3857 bounds: the z14 tile over Baixa, Belém with its walk, and open sea.
VIEWS = {
    "baixa places": ("places", [-1017529.7, 4679891.7, -1015083.7, 4682337.7]),
    "baixa neighbourhoods": ("neighbourhoods", [-1017529.7, 4679891.7, -1015083.7, 4682337.7]),
    "belém walk": ("walks", [-1027000.0, 4675500.0, -1019000.0, 4681000.0]),
    "open sea": ("places", [-1100000.0, 4600000.0, -1090000.0, 4610000.0]),
}


def _qgis_python() -> Path:
    found = SYSTEM_PYTHON.exists() and subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import qgis.core"], capture_output=True, timeout=120
    ).returncode == 0  # fmt: skip
    if not found:
        _unavailable("QGIS (Debian's python3-qgis)", "HERITAGE_REQUIRE_QGIS")
    return SYSTEM_PYTHON


def test_qgis_draws_every_collections_vector_tiles_and_reads_typed_years(app) -> None:
    python = _qgis_python()
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "CPL_DEBUG": "OFF"}
    env.pop("PYTHONPATH", None)  # QGIS's own Python, not this project's virtualenv
    with LiveServer(app) as server:
        done = subprocess.run(
            [str(python), "-c", QGIS_SCRIPT, server.url, json.dumps(VIEWS)],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    drawn = got["drawn"]
    for name in ("baixa places", "baixa neighbourhoods", "belém walk"):
        assert drawn[name]["valid"] and drawn[name]["errors"] == [], (name, drawn[name])
        assert drawn[name]["pixels"] > 100, (name, drawn[name])
    assert drawn["open sea"]["pixels"] == 0  # the counts are the tiles' drawing, not noise
    # QGIS before 3.44 types its own OGC API layers from ten features; through GDAL (the
    # ogr provider) it reads the schema, and the years are integers.
    assert got["fields"]["year_from"] == got["fields"]["year_to"] == "Integer", got["fields"]
