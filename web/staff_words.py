"""The words staff pages use for stored values (statuses, roles, workshop states, audit
actions, history fields), each a catalog entry, so a stored ``"pending"`` reads as the
reader's word for it. Values not listed here are shown as stored."""

from __future__ import annotations

from collections.abc import Callable

from web.i18n import N_

WORDS: dict[str, dict[str, str]] = {
    "status": {
        "pending": N_("pending"),
        "published": N_("published"),
        "rejected": N_("rejected"),
        "withdrawn": N_("withdrawn"),
    },
    "sensitivity": {
        "public": N_("exact location"),
        "generalised": N_("approximate location"),
        "hidden": N_("location hidden"),
    },
    "kind": {"point": N_("point"), "route": N_("route"), "area": N_("area")},
    "state": {"upcoming": N_("upcoming"), "open": N_("open"), "closed": N_("closed")},
    "moderation": {
        "pre": N_("before publishing"),
        "post": N_("after publishing (shown at once)"),
    },
    "role": {
        "facilitator": N_("facilitator"),
        "planner": N_("planner"),
        "admin": N_("admin"),
    },
    "credential": {"token": N_("API token"), "session": N_("session")},
    "provenance": {
        "original": N_("original"),
        "community_translation": N_("community translation"),
        "machine_translation": N_("machine translation"),
    },
    "narrative_kind": {"memory": N_("memory"), "translation": N_("translation")},
    "field": {
        "title": N_("title"),
        "narratives": N_("stories"),
        "category": N_("category"),
        "period": N_("period"),
        "year_from": N_("first year"),
        "year_to": N_("last year"),
        "tags": N_("tags"),
        "geometry": N_("location"),
        "sensitivity": N_("location privacy"),
        "licence": N_("licence"),
        "consent": N_("consent"),
        "status": N_("status"),
        "workshop": N_("workshop"),
        "contributor": N_("contributor"),
        "labels": N_("cultural-protocol labels"),
        # a walk's
        "titles": N_("title"),
        "introductions": N_("introduction"),
        "stops": N_("stops"),
        "route": N_("route"),
        # what a change from a workshop venue may carry besides a place's fields
        "reason": N_("reason"),
        "text": N_("text"),
        "language": N_("language"),
        "caption": N_("caption"),
        "scope": N_("who may hear it"),
        "transcript": N_("transcript"),
        "transcript_language": N_("language of the transcript"),
    },
    # Who acted, where it was not a staff account (geodata.audit's fixed actors).
    "actor": {
        "resident (edit link)": N_("resident (edit link)"),
        "admin (command line)": N_("admin (command line)"),
    },
    # An audit entry: who did what ("{actor} published").
    "action": {
        "create": N_("{actor} submitted it"),
        "edit": N_("{actor} edited it"),
        "consent": N_("{actor} changed the consent"),
        "publish": N_("{actor} published it"),
        "reject": N_("{actor} rejected it"),
        "hide": N_("{actor} hid it"),
        "withdraw": N_("{actor} withdrew it"),
        "erase": N_("{actor} erased it"),
        "labels": N_("{actor} set cultural-protocol labels"),
        "account_create": N_("{actor} created an account"),
        "token_revoke": N_("{actor} revoked a token"),
        "workshop_create": N_("{actor} created a workshop"),
        "workshop_close": N_("{actor} closed a workshop"),
        "login_lock": N_("{actor} locked sign-in"),
        "walk_create": N_("{actor} proposed it"),
        "walk_publish": N_("{actor} published it"),
        "walk_reject": N_("{actor} rejected it"),
        "walk_hide": N_("{actor} hid it"),
        "walk_withdraw": N_("{actor} withdrew it"),
        "walk_changes_requested": N_("{actor} asked for changes"),
        "walk_edit": N_("{actor} edited it"),
        "walk_consent": N_("{actor} changed the consent"),
    },
}


def word_for(gettext: Callable[[str], str]) -> Callable[..., str]:
    """``word(group, value, **fill)``: the reader's word for a stored value."""

    def word(group: str, value: object, **fill: object) -> str:
        message = WORDS.get(group, {}).get(str(value))
        if message is None:
            return str(value)
        return gettext(message).format(**fill) if fill else gettext(message)

    return word
