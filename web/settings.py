"""Settings from the environment (prefix ``HERITAGE_``) or a ``.env`` file."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @property
    def tiles_enabled(self) -> bool:
        return self.tiles.strip().lower() not in ("", "none", "off")
