"""Which scripts and stylesheets a map page uses, all served by us from installed packages.

folium's defaults point at CDNs (and pull in Bootstrap and awesome-markers, which we do
without: our markers are canvas circles and ``DivIcon``s styled by ``atlas-map.css``).
:func:`use_local_assets` replaces those lists on a map, :func:`localise` rewrites every
other element of the page the same way and refuses any script it has no local copy of,
and :func:`inline_assets` turns the links into inline code for a file that needs no server.
"""

from __future__ import annotations

import base64
import importlib
import mimetypes
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Literal

import folium
from branca.element import Element

# URL segment -> the XStatic module that carries the files.
VENDOR_PACKAGES: dict[str, str] = {
    "leaflet": "xstatic.pkg.leaflet",
    "leaflet-markercluster": "xstatic.pkg.leaflet_markercluster",
    "jquery": "xstatic.pkg.jquery",
    "font-awesome": "xstatic.pkg.font_awesome",
}
ATLAS = "atlas"  # our own files, shipped in mapping/static
DEFAULT_BASE = "/static"


class MissingAsset(LookupError):
    """A page element wants a file we do not serve locally (it would come from a CDN)."""


def vendor_dir(package: str) -> Path:
    """The directory an XStatic package installs its files in."""
    if package == ATLAS:
        return Path(str(resources.files("mapping") / "static"))
    try:
        module = importlib.import_module(VENDOR_PACKAGES[package])
    except KeyError:
        raise MissingAsset(f"no vendor package named {package!r}") from None
    return Path(module.BASE_DIR)


def vendor_version(package: str) -> str:
    if package == ATLAS:
        return "local"
    return str(importlib.import_module(VENDOR_PACKAGES[package]).VERSION)


def asset_file(package: str, path: str) -> Path:
    """The file ``path`` of ``package``; MissingAsset for anything outside it or absent."""
    root = vendor_dir(package).resolve()
    parts = PurePosixPath(path).parts
    if not parts or any(p in ("..", "") or p.startswith("/") for p in parts):
        raise MissingAsset(f"{path!r} is not a file of {package}")
    target = root.joinpath(*parts).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise MissingAsset(f"{path!r} is not a file of {package}")
    return target


@dataclass(frozen=True)
class Asset:
    """One script or stylesheet, by package and path inside it."""

    name: str  # the key folium uses to de-duplicate links in the page head
    kind: Literal["js", "css", "image"]
    package: str
    path: str

    def url(self, base: str = DEFAULT_BASE) -> str:
        if self.package == ATLAS:
            return f"{base}/{ATLAS}/{self.path}"
        return f"{base}/vendor/{self.package}/{self.path}"

    def file(self) -> Path:
        return asset_file(self.package, self.path)


LEAFLET_JS = Asset("leaflet", "js", "leaflet", "leaflet.js")
LEAFLET_CSS = Asset("leaflet_css", "css", "leaflet", "leaflet.css")
MARKERCLUSTER_JS = Asset(
    "markerclusterjs", "js", "leaflet-markercluster", "leaflet.markercluster.js"
)
MARKERCLUSTER_CSS = Asset("markerclustercss", "css", "leaflet-markercluster", "MarkerCluster.css")
MARKERCLUSTER_DEFAULT_CSS = Asset(
    "markerclusterdefaultcss", "css", "leaflet-markercluster", "MarkerCluster.Default.css"
)
JQUERY_JS = Asset("jquery", "js", "jquery", "jquery.min.js")
FONT_AWESOME_CSS = Asset("font_awesome_css", "css", "font-awesome", "css/fontawesome.min.css")
FONT_AWESOME_SOLID_CSS = Asset("font_awesome_solid_css", "css", "font-awesome", "css/solid.min.css")
ATLAS_JS = Asset("atlas_map_js", "js", ATLAS, "atlas-map.js")
ATLAS_LIST_JS = Asset("atlas_places_list_js", "js", ATLAS, "atlas-places-list.js")
ATLAS_CSS = Asset("atlas_map_css", "css", ATLAS, "atlas-map.css")
ATLAS_BACKGROUND_JS = Asset("atlas_background_js", "js", ATLAS, "atlas-background.js")
ATLAS_VECTOR_JS = Asset("atlas_vector_tiles_js", "js", ATLAS, "atlas-vector-tiles.js")

# What every map page needs; markercluster only where clustering happens in the browser
# (standalone files: no server to aggregate for them).
PAGE_ASSETS: tuple[Asset, ...] = (
    LEAFLET_JS,
    ATLAS_VECTOR_JS,
    ATLAS_BACKGROUND_JS,
    ATLAS_JS,
    ATLAS_LIST_JS,
    LEAFLET_CSS,
    FONT_AWESOME_CSS,
    FONT_AWESOME_SOLID_CSS,
    ATLAS_CSS,
)
CLUSTER_ASSETS: tuple[Asset, ...] = (MARKERCLUSTER_JS, MARKERCLUSTER_CSS, MARKERCLUSTER_DEFAULT_CSS)

# folium's names for the libraries we do carry, so its plugins find them locally.
_FOLIUM_EQUIVALENTS: dict[str, tuple[Asset, ...]] = {
    "leaflet": (LEAFLET_JS,),
    "leaflet_css": (LEAFLET_CSS,),
    "jquery": (JQUERY_JS,),
    "markerclusterjs": (MARKERCLUSTER_JS,),
    "markerclustercss": (MARKERCLUSTER_CSS,),
    "markerclusterdefaultcss": (MARKERCLUSTER_DEFAULT_CSS,),
    "awesome_markers_font_css": (FONT_AWESOME_CSS, FONT_AWESOME_SOLID_CSS),
}
# Libraries folium adds by default that our pages do not use at all.
_UNUSED = {
    "bootstrap",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers",
    "awesome_markers_css",
    "awesome_rotate_css",
}


def _links(assets: tuple[Asset, ...] | list[Asset], kind: str, base: str) -> list[tuple[str, str]]:
    return [(a.name, a.url(base)) for a in assets if a.kind == kind]


def use_local_assets(
    m: folium.Map, assets: tuple[Asset, ...] = PAGE_ASSETS, base: str = DEFAULT_BASE
) -> None:
    """Replace the map's CDN script and style lists with our local files."""
    # Instance attributes: folium's lists are class attributes shared by every map.
    m.default_js = _links(assets, "js", base)
    m.default_css = _links(assets, "css", base)


def _walk(element: Element):
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def localise(m: folium.Map, base: str = DEFAULT_BASE) -> list[Asset]:
    """Point every element's scripts and styles at local files; return the assets used.

    Raises MissingAsset when an element needs a library we do not carry, so a CDN link
    can never slip into a page unnoticed.
    """
    used: list[Asset] = []
    for element in _walk(m.get_root()):
        for kind in ("js", "css"):
            links = getattr(element, f"default_{kind}", None)
            if not links:
                continue
            local: list[tuple[str, str]] = []
            for name, url in links:
                if not url.startswith(("http://", "https://", "//")):
                    local.append((name, url))
                    continue
                if name in _UNUSED:
                    continue
                if name not in _FOLIUM_EQUIVALENTS:
                    raise MissingAsset(
                        f"{type(element).__name__} wants {name} from {url}; no local copy is served"
                    )
                for asset in _FOLIUM_EQUIVALENTS[name]:
                    if asset.kind == kind:
                        local.append((asset.name, asset.url(base)))
                        used.append(asset)
            setattr(element, f"default_{kind}", local)
    return used


# -- inlining, for files opened without a server ----------------------------------------
_SCRIPT = re.compile(r'<script src="(?P<url>[^"]+)"></script>')
_STYLE = re.compile(r'<link rel="stylesheet" href="(?P<url>[^"]+)"\s*/>')
_ICON = re.compile(r'<link rel="icon" href="(?P<url>[^"]+)">')
_CSS_URL = re.compile(r"url\((?P<q>['\"]?)(?P<ref>[^)'\"#][^)'\"]*)(?P=q)\)")
# Chromium reads woff2; the TrueType fallback would only make the file bigger.
_TTF_FALLBACK = re.compile(r',\s*url\([^)]*\.ttf\)\s*format\("truetype"\)')


def _asset_for_url(url: str, base: str) -> tuple[str, str]:
    rest = url.removeprefix(base + "/")
    if rest.startswith(ATLAS + "/"):
        return ATLAS, rest.removeprefix(ATLAS + "/")
    if rest.startswith("vendor/"):
        package, _, path = rest.removeprefix("vendor/").partition("/")
        return package, path
    raise MissingAsset(f"{url} is not one of our assets")


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or (
        "font/woff2" if path.suffix == ".woff2" else "application/octet-stream"
    )
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(package: str, path: str) -> str:
    css = _TTF_FALLBACK.sub("", asset_file(package, path).read_text(encoding="utf-8"))
    folder = PurePosixPath(path).parent

    def embed(match: re.Match[str]) -> str:
        ref = match.group("ref")
        if ref.startswith(("data:", "http:", "https:", "/")):
            return match.group(0)
        target = PurePosixPath(*[p for p in (folder / ref).parts])
        parts: list[str] = []
        for part in target.parts:  # resolve "../" inside the package
            if part == "..":
                if parts:
                    parts.pop()
            elif part != ".":
                parts.append(part)
        return f'url("{_data_uri(asset_file(package, "/".join(parts)))}")'

    return _CSS_URL.sub(embed, css)


def inline_assets(html: str, base: str = DEFAULT_BASE) -> str:
    """Replace links to our assets in ``html`` by their content (fonts and images as data)."""
    prefix = base + "/"

    def script(match: re.Match[str]) -> str:
        url = match.group("url")
        if not url.startswith(prefix):
            return match.group(0)
        code = asset_file(*_asset_for_url(url, base)).read_text(encoding="utf-8")
        # "</script" inside the code would end the element early.
        return "<script>" + code.replace("</script", "<\\/script") + "</script>"

    def style(match: re.Match[str]) -> str:
        url = match.group("url")
        if not url.startswith(prefix):
            return match.group(0)
        css = _inline_css(*_asset_for_url(url, base))
        return "<style>" + css.replace("</style", "<\\/style") + "</style>"

    def icon(match: re.Match[str]) -> str:
        url = match.group("url")
        if not url.startswith(prefix):
            return match.group(0)
        return f'<link rel="icon" href="{_data_uri(asset_file(*_asset_for_url(url, base)))}">'

    return _ICON.sub(icon, _STYLE.sub(style, _SCRIPT.sub(script, html)))
