"""Settings from the environment (prefix ``HERITAGE_``) or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "&copy; OpenStreetMap contributors"


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
    project_margin_m: float = Field(
        1000.0, description="how far outside the neighbourhoods places may still be put, in metres"
    )
    public_url: str | None = Field(
        None, description="the address people reach the service at, for join links and QR codes"
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
    max_photo_pixels: int = Field(40_000_000, description="largest photo, in pixels")
    submission_rate_limit: int = Field(
        120, description="submissions per client per window; 0 turns the limit off"
    )
    submission_rate_window_s: int = Field(600, description="rate-limit window, in seconds")
    secret_key: str | None = Field(
        None,
        description="signs form tokens; by default a random key kept in the database",
    )
    # -- staff sign-in --
    session_hours: float = Field(
        12.0, gt=0, le=24 * 30, description="how long a facilitator stays signed in, in hours"
    )
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

    @property
    def media_path(self) -> Path:
        """The photo folder: ``media_dir``, or ``<database>-media`` beside a SQLite file."""
        if self.media_dir:
            return Path(self.media_dir)
        if self.database_url.startswith("sqlite:///") and ":memory:" not in self.database_url:
            db = Path(self.database_url.removeprefix("sqlite:///"))
            return db.with_name(db.stem + "-media")
        return Path("heritage-atlas-media")

    @property
    def tiles_enabled(self) -> bool:
        return self.tiles.strip().lower() not in ("", "none", "off")
