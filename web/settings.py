"""Settings from the environment (prefix ``HERITAGE_``) or a ``.env`` file."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "&copy; OpenStreetMap contributors"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _listed(value: Any) -> Any:
    """A setting given as ``a, b`` or as a JSON array, as a list (other values as given)."""
    if isinstance(value, str):
        text = value.strip()
        return json.loads(text) if text.startswith("[") else text.split(",")
    return value


class Settings(BaseSettings):
    """Everything an operator may configure; the defaults run the embedded demo."""

    model_config = SettingsConfigDict(
        env_prefix="HERITAGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        "sqlite:///heritage-atlas.db", description="sqlite:///path/to/file.db"
    )
    tiles: str = Field(
        OSM_TILES,
        description="XYZ tile URL template, or 'none' for a plain background (offline venues)",
    )
    tiles_attribution: str = OSM_ATTRIBUTION
    # -- the local basemap and the orientation layer (offline venues) --
    basemap_dir: str | None = Field(
        None,
        description="the folder `heritage-atlas basemap import` keeps the basemap in (an "
        "MBTiles or PMTiles file the service draws every map on, before HERITAGE_TILES); "
        "by default a folder beside the SQLite database",
    )
    basemap_max_tiles: int = Field(
        20_000,
        ge=1,
        description="`heritage-atlas basemap fetch` refuses to download more tiles than this "
        "at once (a tile server is a shared resource)",
    )
    water_file: str | None = Field(
        None,
        description="a vector file (any format GDAL reads) of rivers, lakes or the sea, as "
        "areas or lines, drawn with the neighbourhoods when there is no basemap",
    )
    water_attribution: str = Field("", description="the credit of water_file, shown on the maps")
    project_margin_m: float = Field(
        1000.0, description="how far outside the neighbourhoods places may still be put, in metres"
    )
    public_url: str | None = Field(
        None,
        description="the address people reach the service at, for every absolute link it "
        "hands out (edit links, join links and QR codes, OGC API links, the downloads' Link "
        "header)",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(LOOPBACK_HOSTS),
        description="host names (comma-separated; '*.example.org' for every subdomain) "
        "the service answers to and, without public_url, builds links from; the address "
        "a request arrived at and public_url's host are always allowed",
    )
    default_language: str = "en"
    # -- maps and what the public may see on them --
    privacy_grid_m: float = Field(
        250.0,
        gt=0,
        description="places with a generalised location are shown on a grid of "
        "this size, in metres, never at their true point",
    )
    privacy_k: int = Field(
        3,
        ge=1,
        description="counts of fewer than this many places (per neighbourhood or "
        "cluster) are shown as 'fewer than k'",
    )
    map_max_features: int = Field(
        2000,
        ge=10,
        le=20000,
        description="above this many places in view, maps show clusters computed by the database",
    )
    tile_max_features: int = Field(
        5000,
        ge=10,
        le=50000,
        description="above this many places in one vector tile (OGC API – Tiles), the "
        "tile holds the maps' clusters instead",
    )
    # -- contributions (residents' submissions and photos) --
    media_dir: str | None = Field(
        None,
        description="where photos are kept; by default a folder beside the SQLite database",
    )
    max_body_bytes: int = Field(1_048_576, description="largest request body, in bytes")
    max_upload_bytes: int = Field(
        9 * 1_048_576, description="largest photo upload request (multipart), in bytes"
    )
    max_photo_bytes: int = Field(8 * 1_048_576, description="largest photo file, in bytes")
    max_photo_pixels: int = Field(
        12_500_000,
        ge=1,
        le=80_000_000,  # Pillow itself refuses more (its decompression-bomb guard)
        description="largest photo, in pixels, as its file declares; checked before decoding",
    )
    max_audio_bytes: int = Field(
        64 * 1_048_576,
        ge=1,
        le=1024 * 1_048_576,
        description="largest recording file, in bytes (an hour of MP3 at 128 kbit/s is 58 MB); "
        "uploads stream to disk and are cut off past it",
    )
    max_recordings_per_place: int = Field(5, ge=1, le=100, description="recordings per place")
    photo_concurrency: int = Field(
        2,
        ge=1,
        description="photos decoded at once per worker process; more get a 503 with Retry-After",
    )
    submission_rate_limit: int = Field(
        120, description="submissions per client per window; 0 turns the limit off"
    )
    submission_rate_window_s: int = Field(600, description="rate-limit window, in seconds")
    workshop_rate_limit: int = Field(
        1000,
        ge=0,
        description="submissions per open workshop per window, whatever their address "
        "(a room behind one NAT); they do not count against the per-client limit; "
        "0 turns the limit off",
    )
    join_code_rate_limit: int = Field(
        30,
        ge=0,
        description="workshop codes that are wrong or not open a client may try per window; "
        "then every code it tries is refused for the rest of the window; 0 turns the limit off",
    )
    secret_key: str | None = Field(
        None,
        description="signs form tokens; by default a random key kept in the database",
    )
    # -- the HTTP server: slow and idle clients (see docs/deployment.md) --
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        description="a request's head (request line and headers) must arrive within this "
        "many seconds, or the connection is closed",
    )
    keep_alive_s: float = Field(
        5.0, gt=0, description="an idle connection is closed after this many seconds"
    )
    max_connections_per_client: int = Field(
        256,
        ge=0,
        description="open connections one client address may hold, per worker (0: no "
        "cap); trusted proxies are exempt",
    )
    # -- staff sign-in --
    session_hours: float = Field(
        12.0, gt=0, le=24 * 30, description="how long a facilitator stays signed in, in hours"
    )
    login_lock_after: int = Field(
        5, ge=1, description="failed sign-ins on one account name before it is locked"
    )
    login_lock_first_s: float = Field(
        1.0, gt=0, description="the first lock, in seconds; each further failure doubles it"
    )
    login_lock_max_s: float = Field(900.0, gt=0, description="the longest lock, in seconds")
    secure_cookies: bool | None = Field(
        None,
        description="mark session cookies Secure; by default when the request (or public_url) "
        "is https",
    )
    # -- open data: downloads and OGC API – Features --
    open_data_title: str = Field("Heritage Atlas places", description="names the downloads")
    open_data_licence: str = Field(
        "CC-BY-4.0",
        description="the licence downloads are published under (SPDX id); each "
        "place also carries its own",
    )
    open_data_attribution: str = Field(
        "Heritage Atlas contributors", description="whom every download credits"
    )
    extra_crs: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="EPSG codes of further coordinate reference systems OGC API – Features "
        "offers besides CRS84, EPSG:4326, 3857 and 3763, comma-separated (e.g. 25829,2180)",
    )

    @field_validator("extra_crs", mode="before")
    @classmethod
    def _epsg_codes(cls, value: object) -> object:
        """``"25829, EPSG:2180"`` (the environment's text) as a list of codes."""
        if isinstance(value, str):
            parts = [p.strip().upper().removeprefix("EPSG:") for p in value.split(",")]
            return [p for p in parts if p]
        return value

    @field_validator("extra_crs")
    @classmethod
    def _known_crs(cls, codes: list[int]) -> list[int]:
        from geodata.crs import check_epsg  # pyproj: loaded only when codes are given

        for code in codes:
            check_epsg(code)
        return codes

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        """``a.org, *.b.org`` or a JSON list; lower case, IPv6 without brackets."""
        value = _listed(value)
        if not isinstance(value, list | tuple):
            return value
        hosts = [str(v).strip().lower().removeprefix("[").removesuffix("]") for v in value]
        for host in hosts:
            if "*" in host and host != "*" and not (host.startswith("*.") and "*" not in host[1:]):
                raise ValueError(f"{host!r}: a wildcard is '*' alone or '*.example.org'")
        return [h for h in hosts if h]

    # -- behind reverse proxies --
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="addresses and networks of your own reverse proxies, comma-separated "
        "(10.0.0.5,10.1.0.0/16); only from these are X-Forwarded-For and Forwarded believed",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: object) -> object:
        """A comma-separated list or a JSON array; every entry an address or a network."""
        value = _listed(value)
        if isinstance(value, list | tuple):
            entries = [str(v).strip() for v in value if str(v).strip()]
            for entry in entries:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(
                        f"{entry!r} is not an IP address or network (such as 10.0.0.5 or "
                        "10.0.0.0/8)"
                    ) from None
            return entries
        return value

    def _beside_database(self, configured: str | None, suffix: str) -> Path:
        """``configured``, or a folder ``<database><suffix>`` beside a SQLite file."""
        if configured:
            return Path(configured)
        if self.database_url.startswith("sqlite:///") and ":memory:" not in self.database_url:
            db = Path(self.database_url.removeprefix("sqlite:///"))
            return db.with_name(db.stem + suffix)
        return Path("heritage-atlas" + suffix)

    @property
    def media_path(self) -> Path:
        """The photo folder: ``media_dir``, or ``<database>-media`` beside a SQLite file."""
        return self._beside_database(self.media_dir, "-media")

    @property
    def basemap_path(self) -> Path:
        """The basemap folder: ``basemap_dir``, or ``<database>-basemap`` beside SQLite."""
        return self._beside_database(self.basemap_dir, "-basemap")

    @property
    def tiles_enabled(self) -> bool:
        return self.tiles.strip().lower() not in ("", "none", "off")
