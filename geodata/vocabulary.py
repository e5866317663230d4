"""The category vocabulary places are filed under, with translated labels."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    key: str
    labels: dict[str, str]  # BCP 47 language -> label
    colour: str  # used by the maps; kept here so every output agrees
    icon: str  # Font Awesome icon name

    def label(self, language: str = "en") -> str:
        primary = language.split("-")[0].lower()
        return self.labels.get(language) or self.labels.get(primary) or self.labels["en"]


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category(
        "monument",
        {"en": "Monument", "pt": "Monumento", "fr": "Monument", "ar": "نصب تذكاري"},
        "#b03a2e",
        "monument",
    ),
    Category(
        "building",
        {"en": "Building", "pt": "Edifício", "fr": "Bâtiment", "ar": "مبنى"},
        "#7d3c98",
        "building",
    ),
    Category(
        "museum",
        {"en": "Museum", "pt": "Museu", "fr": "Musée", "ar": "متحف"},
        "#1f618d",
        "landmark",
    ),
    Category(
        "theatre",
        {
            "en": "Theatre or venue",
            "pt": "Teatro ou sala",
            "fr": "Théâtre ou salle",
            "ar": "مسرح أو قاعة",
        },
        "#117a65",
        "masks-theater",
    ),
    Category(
        "religious",
        {
            "en": "Place of worship",
            "pt": "Lugar de culto",
            "fr": "Lieu de culte",
            "ar": "مكان عبادة",
        },
        "#9a7d0a",
        "place-of-worship",
    ),
    Category(
        "public_space",
        {
            "en": "Street, square or garden",
            "pt": "Rua, praça ou jardim",
            "fr": "Rue, place ou jardin",
            "ar": "شارع أو ساحة أو حديقة",
        },
        "#196f3d",
        "tree",
    ),
    Category(
        "memory",
        {
            "en": "Memory or story",
            "pt": "Memória ou história",
            "fr": "Souvenir ou récit",
            "ar": "ذكرى أو حكاية",
        },
        "#ca6f1e",
        "book-open",
    ),
    Category(
        "tradition",
        {
            "en": "Tradition, festival or craft",
            "pt": "Tradição, festa ou ofício",
            "fr": "Tradition, fête ou savoir-faire",
            "ar": "تقليد أو مهرجان أو حرفة",
        },
        "#a93226",
        "drum",
    ),
    Category(
        "food",
        {
            "en": "Food and markets",
            "pt": "Comida e mercados",
            "fr": "Cuisine et marchés",
            "ar": "طعام وأسواق",
        },
        "#d35400",
        "utensils",
    ),
    Category(
        "other",
        {"en": "Other", "pt": "Outro", "fr": "Autre", "ar": "أخرى"},
        "#566573",
        "location-dot",
    ),
)


class Vocabulary:
    """A configurable set of categories, looked up by key."""

    def __init__(self, categories: tuple[Category, ...] = DEFAULT_CATEGORIES) -> None:
        self._by_key = {c.key: c for c in categories}

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self):
        return iter(self._by_key.values())

    def __getitem__(self, key: str) -> Category:
        return self._by_key[key]

    def keys(self) -> list[str]:
        return list(self._by_key)
