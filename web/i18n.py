"""Interface translation: gettext catalogs (Babel) and field problems and domain errors
in the reader's language.

Catalogs are the ``.po`` files under ``web/locale``; they are compiled in memory the
first time a language is used, so an installed package needs nothing but the ``.po``
files (``pybabel compile`` is not a build step). Which languages there are and which one
a request gets: :mod:`web.language_choice`. Extracting new strings, starting and checking
a catalog: see "Languages" in the README and :mod:`web.catalog_check`.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
from collections.abc import Callable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.responses import Response

from geodata.errors import FieldProblem, HeritageError
from web.errors import problem
from web.language_choice import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR, babel_locale

CATALOG_TEMPLATE = LOCALE_DIR / "messages.pot"
SOURCE_LANGUAGE = "en"  # the language of the msgids: its catalog needs no translations


def catalog_path(tag: str, locale_dir: Path = LOCALE_DIR) -> Path:
    """The catalog of a BCP 47 tag: ``zh-Hans`` -> ``zh_Hans/LC_MESSAGES/messages.po``."""
    return locale_dir / tag.replace("-", "_") / "LC_MESSAGES" / "messages.po"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


@functools.cache
def translations(language: str) -> NullTranslations:
    """The catalog of ``language``, compiled from its .po file on first use."""
    po = catalog_path(language)
    if language == SOURCE_LANGUAGE or language not in LANGUAGES or not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=babel_locale(language))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled)


def gettext_for(language: str) -> Callable[[str], str]:
    return translations(language).gettext


_PLURAL_RULE = re.compile(r"nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*([^;]+)")


@functools.cache
def plural_samples(language: str) -> tuple[str, tuple[int, ...]]:
    """The catalog's gettext plural rule (a C expression of ``n``) and, for each of its
    forms in order, a number that takes that form: with ``ngettext`` on each, a script
    has every form of a message and the rule to choose among them."""
    header = translations(language).info().get("plural-forms", "")
    found = _PLURAL_RULE.search(header)
    rule, count = (found.group(2).strip(), int(found.group(1))) if found else ("n != 1", 2)
    choose = gettext.c2py(rule)
    samples = {}
    for n in range(1000):  # every rule in use reaches each of its forms below 1000
        samples.setdefault(choose(n), n)
    return rule, tuple(samples.get(i, 5) for i in range(count))


@functools.cache
def direction(language: str) -> str:
    """``rtl`` for right-to-left scripts (Arabic), else ``ltr``."""
    order = babel_locale(language).character_order
    return "rtl" if order == "right-to-left" else "ltr"


# ---------------------------------------------------------------------------
# Field problems in the reader's language
# ---------------------------------------------------------------------------

# Words the problem messages put in their {label} slot.
LABELS = {
    "title": N_("title"),
    "story": N_("story"),
    "period": N_("period"),
    "tag": N_("tag"),
    "name": N_("name"),
    "contact": N_("contact"),
    "display name": N_("display name"),
    "category": N_("category"),
    "caption": N_("caption"),
}

# One sentence per problem code. English keeps the domain's own (more detailed) message;
# another language gets this sentence, translated, when its catalog has it.
TEMPLATES = {
    # text
    "required": N_("This field is required."),
    "missing": N_("This field is required."),
    "empty_title": N_("The title is empty; write a few words."),
    "empty_story": N_("The story is empty; write a few words."),
    "empty_tag": N_("This tag is empty; remove it or write a word."),
    "too_long": N_("The {label} is {length} characters long; the limit is {limit}."),
    "control_character": N_("The {label} contains an invisible control character; remove it."),
    # narratives and their languages
    "bad_language": N_(
        "'{tag}' is not a language tag; use one such as 'en', 'pt', 'pt-BR' or 'ar'."
    ),
    "repeated_language": N_(
        "There is already a version in this language; give each language once."
    ),
    "one_original": N_("Mark exactly one version as the original and the others as translations."),
    "too_many": N_("There are too many; the limit is {limit}."),
    # choices
    "unknown_category": N_("'{category}' is not a category; choose one from the list."),
    "unknown_licence": N_("'{licence}' is not a licence we offer; choose one of: {choices}."),
    "unknown_format": N_(
        "There is no download in the format '{format}'; choose one of: {choices}."
    ),
    "enum": N_("Choose one of: {choices}."),
    "literal_error": N_("Choose one of: {choices}."),
    # period
    "year_out_of_range": N_("{year} is not a year we can use."),
    "years_reversed": N_("The period ends before it starts; swap the years."),
    # consent and workshop
    "consent_required": N_(
        "Tick the box to agree that your place and story are shown on the "
        "public map; without it we cannot accept it."
    ),
    "workshop_not_open": N_(
        "This workshop code is not open for contributions right now; check it with the "
        "facilitator, or leave it empty to send your place on its own."
    ),
    "too_many_codes": N_(
        "Too many workshop codes were tried from this connection; wait a few minutes and try again."
    ),
    "workshop_busy": N_(
        "This workshop has received as many places as it can take for now; wait a few "
        "minutes and send yours again."
    ),
    # types
    "string_type": N_("Write this as text."),
    "int_type": N_("Give a whole number, such as 1960."),
    "int_parsing": N_("Give a whole number, such as 1960."),
    "int_from_float": N_("Give a whole number, such as 1960."),
    "bool_type": N_("Give true or false."),
    "bool_parsing": N_("Give true or false."),
    "list_type": N_("Give a list."),
    "dict_type": N_("Give an object with named fields."),
    "model_type": N_("Give an object with named fields."),
    "extra_forbidden": N_("This field is not known here; check its spelling."),
    "json_invalid": N_("The body is not valid JSON; check for a missing bracket, comma or quote."),
    # geometry
    "not_a_geometry": N_("Put the place on the map: tap it, or give its latitude and longitude."),
    "no_location": N_("Put the place on the map: tap it, or give its latitude and longitude."),
    "bad_coordinates": N_("The location is not in a form we can read; place it on the map again."),
    "coordinates_not_numbers": N_(
        "Latitude and longitude must be numbers, such as 38.7101 and -9.1402."
    ),
    "non_finite": N_("Latitude and longitude must be ordinary numbers."),
    "out_of_range": N_(
        "This location is off the map: latitude goes from -90 to 90 and longitude from -180 to 180."
    ),
    "swapped_coordinates": N_("Latitude and longitude look swapped; check which is which."),
    "not_2d": N_("Give latitude and longitude only, without altitude."),
    "empty": N_("The shape has no points; draw it on the map."),
    "unknown_type": N_("Draw a point, a route or an area."),
    "unsupported_type": N_("Draw one point, one route or one area."),
    "too_few_points": N_("The shape has too few points: a route needs two, an area three corners."),
    "unclosed_ring": N_("The area's outline is not closed."),
    "too_many_vertices": N_("The shape has too many points; simplify it."),
    "self_intersection": N_(
        "The area's outline crosses itself; redraw it so its edges do not cross."
    ),
    "invalid_shape": N_("The shape is not valid; redraw it."),
    "too_many_holes": N_("The area has too many holes; leave out the small ones."),
    "tangled_route": N_(
        "The route crosses or runs back over itself too many times; redraw it as a simpler line."
    ),
    "too_intricate": N_("The shape is too intricate to check; simplify it."),
    "outside_project_area": N_(
        "This place is outside the project area; put it within the mapped neighbourhoods."
    ),
    "too_large": N_("The area is too large; draw a smaller one or split it."),
    "too_long_route": N_("The route is too long; split it into shorter routes."),
    # photos
    "empty_photo": N_("The file is empty; choose a photo."),
    "photo_too_large": N_("The photo is too large; send a smaller one."),
    "not_a_photo": N_("This file is not a JPEG, PNG or WebP photo; choose a photo."),
    "too_many_pixels": N_("The image has too many pixels; the limit is {limit} megapixels."),
    "broken_photo": N_("The photo is damaged or cut short; send it again."),
    "too_many_photos": N_("This place already has as many photos as it can have."),
    "photos_busy": N_(
        "The service is busy with other photos right now; send yours again in a few seconds."
    ),
    # walks
    "no_stops": N_("A walk needs at least one stop; add the places it visits."),
    "duplicate_stop": N_("This place is already a stop of the walk; visit each place once."),
    "not_public_place": N_(
        "This stop is not a public place: a walk may only visit published places shown "
        "where they are."
    ),
    "route_not_a_line": N_(
        "The route must be a line, from where the walk starts to where it ends."
    ),
    "walk_consent_required": N_(
        "Tick the box to agree that your walk is shown publicly; without it we cannot accept it."
    ),
    # memories and translations added to a place
    "markup": N_("Write plain text, without HTML or other markup."),
    "addition_consent_required": N_(
        "Tick the box to agree that what you add is shown with the place and in its "
        "open-data downloads; without it we cannot accept it."
    ),
    "unknown_story": N_("Choose which of the place's stories you translated."),
    "same_language": N_("The story is already in this language; translate it into another one."),
    "not_a_translation": N_("A memory translates nothing; leave out which story it translates."),
    "too_many_additions": N_("This place cannot take more memories and translations."),
    # form security
    "form_expired": N_("The form expired or was sent from elsewhere; send it again."),
    # staff: signing in and accounts
    "wrong_password": N_("The name or the password is wrong."),
    "account_disabled": N_("This account is disabled."),
    "bad_credential": N_("This sign-in is no longer valid; sign in again."),
    "unknown_role": N_("This is not a role; choose one from the list."),
    "bad_account_name": N_(
        "An account name is 2 to 64 letters, digits, dots, dashes, underscores or @."
    ),
    "weak_password": N_(
        "A password needs at least {min} characters (a few words make a good one)."
    ),
    # staff: workshops
    "naive_time": N_("Give the times with their time zone."),
    "times_reversed": N_("The workshop must end after it starts."),
    "in_the_past": N_("This time window is already over."),
    "bad_moderation": N_("Choose whether places are published by hand or shown at once."),
    "bad_time": N_("This time is not a date and time."),
    "bad_time_zone": N_("This is not a time zone; use a name such as Europe/Lisbon or UTC."),
}


def translate_problem(problem: FieldProblem, language: str) -> FieldProblem:
    """``problem`` with its message in ``language`` when the catalog has one."""
    if language == SOURCE_LANGUAGE:
        return problem
    code = problem.code
    if code == "too_long" and problem.field == "geometry":
        code = "too_long_route"
    template = TEMPLATES.get(code)
    if template is None:
        return problem
    gettext = gettext_for(language)
    translated = gettext(template)
    if translated == template:
        return problem
    params = dict(getattr(problem, "params", {}) or {})
    if "label" in params and params["label"] in LABELS:
        params["label"] = gettext(LABELS[params["label"]])
    try:
        message = translated.format(**params)
    except (KeyError, IndexError, ValueError):
        return problem
    return FieldProblem(problem.field, problem.code, message)


def localised_message(exc: HeritageError, language: str, **params: object) -> str:
    """A domain error as one sentence for a page: in ``language`` when the catalog has
    its code's sentence, else the domain's own (English) message."""
    if exc.problems and language != DEFAULT_LANGUAGE:
        return " ".join(translate_problem(p, language).message for p in exc.problems[:3])
    template = TEMPLATES.get(exc.code)
    if template is not None and language != DEFAULT_LANGUAGE:
        translated = gettext_for(language)(template)
        if translated != template:
            try:
                return translated.format(**params)
            except (KeyError, IndexError, ValueError):
                pass
    message = exc.message
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def translate_text(message: str, language: str) -> str:
    """A fixed sentence (one of the marked ones) in ``language``, if translated."""
    return gettext_for(language)(message)


def localised_problem(
    exc: HeritageError,
    language: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A domain error as problem+json, its field messages in ``language`` where we can."""
    problems = [translate_problem(p, language) for p in exc.problems]
    detail = exc.message
    if problems and language != SOURCE_LANGUAGE:
        more = len(problems) - 1
        detail = problems[0].message + (f" (+{more})" if more else "")
    elif not problems and language != SOURCE_LANGUAGE:
        template = TEMPLATES.get(exc.code)
        if template is not None and gettext_for(language)(template) != template:
            detail = translate_problem(FieldProblem("", exc.code, exc.message), language).message
    return problem(
        exc.status,
        detail,
        code=exc.code,
        errors=problems,
        instance=instance,
        headers={"Content-Language": language, **(headers or {})},
    )
