"""The folium maps themselves: layers, legends, counts, links, and what the page holds."""

from __future__ import annotations

import re
from datetime import timedelta

import folium
import pytest
from shapely.geometry import box

from geodata.models import Neighbourhood, Workshop, utcnow
from geodata.vocabulary import Vocabulary
from mapping.city import city_map
from mapping.elements import AtlasClient, CategoryLayer, Legend, NeighbourhoodLayer, TitleControl
from mapping.neighbourhood import neighbourhood_map
from mapping.options import MapOptions
from mapping.style import choropleth_classes, class_for, count_label, short_count
from mapping.workshop import workshop_map

HOODS = [
    Neighbourhood(1, "Alfama", box(-9.14, 38.70, -9.12, 38.72), "101"),
    Neighbourhood(2, "Mouraria", box(-9.14, 38.72, -9.12, 38.74), "102"),
    Neighbourhood(3, "Graça", box(-9.12, 38.70, -9.10, 38.74), "103"),
    Neighbourhood(4, "Baixa", box(-9.16, 38.70, -9.14, 38.74), "104"),
]


def url_for(i: int) -> str:
    return f"/maps/neighbourhoods/{i}"


def children(m: folium.Map, kind: type) -> list:
    return [c for c in m._children.values() if isinstance(c, kind)]


def render(m: folium.Map) -> str:
    return m.get_root().render()


def test_city_map_has_a_switchable_layer_per_category(vocabulary, options):
    m = city_map(HOODS, {1: 12, 2: 2}, vocabulary, options, url_for)
    layers = children(m, CategoryLayer)
    assert [layer.style.key for layer in layers] == vocabulary.keys()
    assert all(layer.overlay and layer.control and layer.show for layer in layers)
    assert len(children(m, folium.LayerControl)) == 1
    (client,) = children(m, AtlasClient)
    assert set(client.layers) == set(vocabulary.keys())


def test_city_choropleth_counts_are_k_anonymous(vocabulary, options):
    counts = {1: 12, 2: 2, 3: 0}  # 4 missing: none
    m = city_map(HOODS, counts, vocabulary, options, url_for)
    (shapes,) = children(m, NeighbourhoodLayer)
    props = {f["properties"]["name"]: f["properties"] for f in shapes.features}
    assert props["Alfama"]["count_label"] == "12 places"
    assert props["Mouraria"]["count_label"] == "fewer than 3"
    assert props["Graça"]["count_label"] == props["Baixa"]["count_label"] == "no places"
    assert all("count" not in p for p in props.values())  # exact small counts never sent
    assert props["Alfama"]["url"] == "/maps/neighbourhoods/1"
    # Fewer-than-k areas share one shade, whatever their exact count.
    assert props["Mouraria"]["style"]["fillColor"] != props["Alfama"]["style"]["fillColor"]


def test_city_legend_lists_the_shades(vocabulary, options):
    m = city_map(HOODS, {1: 12, 2: 2, 3: 40}, vocabulary, options, url_for)
    (legend,) = children(m, Legend)
    labels = [e.label for e in legend.entries]
    assert labels[:2] == ["no places", "fewer than 3"]
    assert labels[-1].endswith("or more")
    assert "fewer than 3" in legend.html and "Places per neighbourhood" in legend.html


def test_choropleth_classes_start_at_k_and_hold_every_count():
    classes = choropleth_classes([0, 1, 2, 3, 5, 8, 13, 21, 34], k=3)
    assert [c.label for c in classes][:2] == ["no places", "fewer than 3"]
    assert classes[2].lower == 3
    for n in (0, 1, 2, 3, 5, 8, 13, 21, 34, 1000):
        assert class_for(n, classes).holds(n)
    assert class_for(1, classes) is class_for(2, classes)
    assert [c.label for c in choropleth_classes([0, 1], k=1)] == ["no places", "1 or more"]


def test_count_labels_hide_small_numbers():
    assert count_label(0, 3) == "no places"
    assert count_label(2, 3) == "fewer than 3"
    assert count_label(3, 3) == "3 places"
    assert count_label(1, 1) == "1 place"
    assert count_label(12345, 3) == "12,345 places"
    assert short_count(1, 5) == "<5"
    assert short_count(1500, 3) == "1.5k" and short_count(25000, 3) == "25k"


def test_map_pages_hold_no_place_data_whatever_the_count(vocabulary, options):
    """Places are fetched for the view; the page itself does not grow with them."""
    small = render(city_map(HOODS, {1: 3}, vocabulary, options, url_for))
    large = render(city_map(HOODS, {1: 300_000}, vocabulary, options, url_for))
    assert abs(len(large) - len(small)) < 200
    assert "L.marker(" not in large and "Casa do Fado" not in large


def test_neighbourhood_map_has_outline_category_legend_and_scoped_client(vocabulary, options):
    m = neighbourhood_map(HOODS[0], 12, vocabulary, options)
    (outline,) = children(m, NeighbourhoodLayer)
    assert not outline.interactive and not outline.control
    legends = children(m, Legend)
    assert [e.label for e in legends[0].entries] == [c.label("en") for c in vocabulary]
    assert all(e.icon for e in legends[0].entries)
    (client,) = children(m, AtlasClient)
    assert client.config["source"]["params"] == {"neighbourhood": "1"}
    (title,) = children(m, TitleControl)
    assert title.heading == "Alfama" and title.subtitle == "12 places"
    assert "fewer than 3" in neighbourhood_map(HOODS[0], 1, vocabulary, options).get_root().title


def test_category_labels_follow_the_viewer_language(vocabulary):
    m = neighbourhood_map(HOODS[0], 5, vocabulary, MapOptions(language="pt"))
    layers = children(m, CategoryLayer)
    assert "Museu" in layers[2].layer_name
    page = render(m)
    assert '<html lang="pt" dir="ltr">' in page
    assert 'dir="rtl"' in render(
        neighbourhood_map(HOODS[0], 5, vocabulary, MapOptions(language="ar"))
    )


def test_tiles_are_optional(vocabulary):
    plain = render(neighbourhood_map(HOODS[0], 5, vocabulary, MapOptions(tiles=None)))
    assert "L.tileLayer" not in plain
    tiled = render(
        neighbourhood_map(
            HOODS[0],
            5,
            vocabulary,
            MapOptions(
                tiles="https://tiles.example.org/{z}/{x}/{y}.png", tiles_attribution="© Example"
            ),
        )
    )
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in tiled


@pytest.fixture
def workshop() -> Workshop:
    now = utcnow()
    return Workshop(
        code="AB12",
        title="Memórias da Mouraria",
        starts_at=now,
        ends_at=now + timedelta(hours=2),
        neighbourhood_id=2,
    )


def summary(titles: list[str]) -> dict:
    return {
        "count": len(titles),
        "count_label": f"{len(titles)} places",
        "pending": 1,
        "pending_label": "1 waiting for review",
        "latest": [{"id": f"pl_{i}", "title": t} for i, t in enumerate(titles)],
    }


def test_workshop_map_has_join_link_qr_code_count_and_live_updates(vocabulary, options, workshop):
    m = workshop_map(
        workshop,
        HOODS[1],
        HOODS,
        vocabulary,
        options,
        join_url="https://atlas.example.org/contribute?workshop=AB12",
        summary=summary(["Tasca", "Azulejos"]),
        cursor="2024-01-01T00:00:00Z",
        live_url="/api/map/workshops/AB12/updates",
    )
    page = render(m)
    assert "https://atlas.example.org/contribute?workshop=AB12" in page
    assert re.search(r'<div class="atlas-qr"[^>]*><svg', page)
    assert '<p class="atlas-count" id="atlas-count" aria-live="polite">2 places</p>' in page
    assert "<li>Tasca</li><li>Azulejos</li>" in page
    assert 'class="atlas-workshop"' in page
    (client,) = children(m, AtlasClient)
    live = client.config["live"]
    assert live["url"] == "/api/map/workshops/AB12/updates" and live["interval"] <= 2500
    assert client.config["source"]["params"] == {"workshop": "AB12"}
    assert client.config["pins"] is True  # big icons, readable from the back of a room


def test_workshop_without_neighbourhood_frames_the_whole_city(vocabulary, options, workshop):
    m = workshop_map(
        workshop,
        None,
        HOODS,
        vocabulary,
        options,
        join_url="/contribute",
        summary=summary([]),
        cursor="c",
        live_url="/u",
    )
    assert children(m, NeighbourhoodLayer) == []
    (client,) = children(m, AtlasClient)
    assert client.config["bounds"] == [[38.70, -9.16], [38.74, -9.10]]


def test_vocabulary_colours_and_icons_cannot_carry_markup(options):
    from geodata.vocabulary import Category

    evil = Vocabulary((Category("x", {"en": "<b>X</b>"}, "red;}</style><script>", '"><svg>'),))
    m = neighbourhood_map(HOODS[0], 5, evil, options)
    (client,) = children(m, AtlasClient)
    assert client.config["categories"]["x"] == {
        "label": "<b>X</b>",
        "colour": "#566573",
        "icon": "location-dot",
    }
    page = render(m)
    assert "<b>X</b>" not in page and "</style><script>" not in page and '"><svg>' not in page
