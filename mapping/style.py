"""How places and counts look: category colours and icons, choropleth classes, count labels.

Colours and icons come from :mod:`geodata.vocabulary` so every output agrees; counts
below ``k`` are never shown exactly ("fewer than 3"), so no small group stands out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from geodata.vocabulary import Vocabulary
from mapping.escaping import html_text
from mapping.options import MapOptions

ENGLISH = MapOptions()  # no catalog: the strings as written

_COLOUR = re.compile(r"^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")
_ICON = re.compile(r"^[a-z0-9-]{1,40}$")
FALLBACK_COLOUR = "#566573"
FALLBACK_ICON = "location-dot"
NONE_COLOUR = "#f4f4f2"
# A sequential ramp (ColorBrewer OrRd, colour-blind safe): "fewer than k" then up to 4.
RAMP = ("#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000")


@dataclass(frozen=True)
class CategoryStyle:
    """How one category is drawn and named on a map."""

    key: str
    label: str
    colour: str
    icon: str  # Font Awesome (solid) icon name, without the "fa-" prefix

    def swatch_html(self) -> str:
        """A coloured icon and the escaped label, for legends and the layer switcher."""
        return (
            f'<span class="atlas-swatch" style="--atlas-colour:{self.colour}">'
            f'<i class="fa-solid fa-{self.icon}" aria-hidden="true"></i></span> '
            f'<span class="atlas-swatch-label">{html_text(self.label)}</span>'
        )


def category_styles(vocabulary: Vocabulary, language: str = "en") -> list[CategoryStyle]:
    """The vocabulary's categories as drawn, labels in ``language`` where translated."""
    out = []
    for c in vocabulary:
        # The vocabulary is configurable: never let a colour or icon name carry markup.
        colour = c.colour if _COLOUR.match(c.colour) else FALLBACK_COLOUR
        icon = c.icon if _ICON.match(c.icon) else FALLBACK_ICON
        out.append(CategoryStyle(c.key, c.label(language), colour, icon))
    return out


def count_label(n: int, k: int, options: MapOptions = ENGLISH) -> str:
    """How a count of places is shown: exact from ``k`` up, "fewer than k" below."""
    if n <= 0:
        return options.gettext("no places")
    if n < k:
        return options.gettext("fewer than {k}").format(k=options.number(k))
    return options.ngettext("{n} place", "{n} places", n).format(n=options.number(n))


def short_count(n: int, k: int) -> str:
    """The count as written on a cluster bubble: "<3" below ``k``, "12k" for thousands."""
    if n < k:
        return f"<{k}"
    if n >= 10_000:
        return f"{n // 1000}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return str(n)


@dataclass(frozen=True)
class ChoroplethClass:
    """One shade of the choropleth: counts from ``lower`` to ``upper`` (None: no limit)."""

    label: str
    colour: str
    lower: int
    upper: int | None

    def holds(self, n: int) -> bool:
        return n >= self.lower and (self.upper is None or n <= self.upper)


def choropleth_classes(
    counts: Iterable[int], k: int, options: MapOptions = ENGLISH
) -> list[ChoroplethClass]:
    """Shades for neighbourhood counts: none, fewer than ``k``, then up to 4 quantile ranges."""
    _, number = options.gettext, options.number
    classes = [ChoroplethClass(_("no places"), NONE_COLOUR, 0, 0)]
    if k > 1:
        classes.append(ChoroplethClass(_("fewer than {k}").format(k=number(k)), RAMP[0], 1, k - 1))
    lowest = max(k, 1)
    values = sorted(c for c in counts if c >= lowest)
    if not values:
        return classes
    n = min(len(RAMP) - 1, len(set(values)))
    lowers = [lowest]
    for i in range(1, n):
        v = values[len(values) * i // n]
        if v > lowers[-1]:
            lowers.append(v)
    for i, lower in enumerate(lowers):
        upper = lowers[i + 1] - 1 if i + 1 < len(lowers) else None
        if upper is None:
            label = _("{lower} or more").format(lower=number(lower))
        elif upper == lower:
            label = number(lower)
        else:
            label = _("{lower} to {upper}").format(lower=number(lower), upper=number(upper))
        classes.append(ChoroplethClass(label, RAMP[i + 1], lower, upper))
    return classes


def class_for(n: int, classes: list[ChoroplethClass]) -> ChoroplethClass:
    return next((c for c in classes if c.holds(n)), classes[-1])
