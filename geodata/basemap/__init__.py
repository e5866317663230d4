"""Basemaps: the background tiles a venue keeps on its own disk.

An archive is an MBTiles (SQLite) or a PMTiles file, raster (PNG, JPEG, WebP) or vector
(Mapbox Vector Tiles). :mod:`.archive` says what one holds and reads its tiles;
:mod:`.mbtiles` and :mod:`.pmtiles_archive` check and read each kind; :mod:`.installed`
keeps the one a service uses in its data folder; :mod:`.coverage` says which tiles cover
an area. Nothing here knows of HTTP: the web layer serves and fetches.
"""
