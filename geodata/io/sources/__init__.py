"""Reading features (geometry + properties) from files: the importer's own formats
(GeoJSON, CSV with lon/lat, anything GDAL reads) in :mod:`.generic`, and the exports of
the tools communities map with (Ushahidi, uMap, Google My Maps KML/KMZ, GPX,
KoboToolbox, ODK Central), one module each, all giving the same feature stream."""

from geodata.io.sources.generic import (
    LAT_NAMES,
    LON_NAMES,
    SourceFeatures,
    read_csv_bytes,
    read_features,
    read_geojson_bytes,
    read_with_gdal,
)

__all__ = [
    "LAT_NAMES",
    "LON_NAMES",
    "SourceFeatures",
    "read_csv_bytes",
    "read_features",
    "read_geojson_bytes",
    "read_with_gdal",
]
