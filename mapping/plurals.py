"""Messages with a number in them ("12 places in view"), in the viewer's language.

The web layer gives each message's forms from its catalog and the catalog's gettext
plural rule (``MapOptions.plurals``, ``MapOptions.plural_rule``); the same rule chooses
the form here, for the page as served, and in ``atlas-map.js`` as the map moves.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable

from mapping.options import MapOptions

# In English; ``MapOptions.plurals`` gives them in the viewer's language.
DEFAULT_PLURALS = {"in_view": ("{n} place in view", "{n} places in view")}
_RULE_CHARACTERS = set("n0123456789%<>=!&|?: ()")


def plural_rule(rule: str) -> Callable[[int], int]:
    """The gettext plural rule ``rule`` as a function; ValueError unless it is one.

    The rule is also written into the page as script, so it may hold nothing but ``n``,
    digits and operators that mean the same in C, Python and JavaScript (no ``/``).
    """
    if not set(rule) <= _RULE_CHARACTERS:
        raise ValueError(f"not a plural rule a map can use: {rule!r}")
    return gettext.c2py(rule)


def plural(options: MapOptions, key: str, n: int) -> str:
    """The message ``key`` for the number ``n``, in the viewer's language."""
    forms = list(options.plurals.get(key) or DEFAULT_PLURALS[key])
    index = plural_rule(options.plural_rule)(n)
    return forms[min(index, len(forms) - 1)].replace("{n}", str(n))


def client_plurals(options: MapOptions) -> dict[str, list[str]]:
    """Every plural message's forms, for ``atlas-map.js``."""
    return {k: list(options.plurals.get(k) or forms) for k, forms in DEFAULT_PLURALS.items()}
