"""Cultural-protocol labels: Local Contexts Traditional Knowledge (TK) and Biocultural
(BC) labels a facilitator attaches to a place on behalf of its community.

A label is one of the Local Contexts label types (its identifier and name below) with
the community's own wording of the protocol, and optionally the address of that
community's label on the Local Contexts Hub. Labels travel with the place: popups and
downloads show them. See https://localcontexts.org/labels/ for what each one means.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from geodata.errors import FieldProblem, InvalidInput
from geodata.place_attachments import ProtocolLabel
from geodata.text import check_text

MAX_LABELS = 12
MAX_TEXT = 2000
MAX_URL = 500

# Label identifier -> the name Local Contexts gives the label type.
LABEL_TYPES: dict[str, str] = {
    "tk_a": "TK Attribution",
    "tk_cl": "TK Clan",
    "tk_f": "TK Family",
    "tk_mc": "TK Multiple Communities",
    "tk_cv": "TK Community Voice",
    "tk_cr": "TK Creative",
    "tk_v": "TK Verified",
    "tk_nv": "TK Non-Verified",
    "tk_s": "TK Seasonal",
    "tk_wg": "TK Women General",
    "tk_mg": "TK Men General",
    "tk_wr": "TK Women Restricted",
    "tk_mr": "TK Men Restricted",
    "tk_cs": "TK Culturally Sensitive",
    "tk_ss": "TK Secret / Sacred",
    "tk_co": "TK Community Use Only",
    "tk_nc": "TK Non-Commercial",
    "tk_oc": "TK Open to Commercialization",
    "tk_cb": "TK Open to Collaboration",
    "tk_o": "TK Outreach",
    "bc_p": "BC Provenance",
    "bc_mc": "BC Multiple Communities",
    "bc_cl": "BC Clan",
    "bc_cv": "BC Consent Verified",
    "bc_cnv": "BC Consent Non-Verified",
    "bc_r": "BC Research Use",
    "bc_cb": "BC Open to Collaboration",
    "bc_oc": "BC Open to Commercialization",
    "bc_o": "BC Outreach",
    "bc_nc": "BC Non-Commercial",
}


def label_types() -> list[dict[str, str]]:
    """The catalogue, for forms and the API."""
    return [{"label_id": k, "name": v} for k, v in LABEL_TYPES.items()]


def _url(value: str | None, where: str, problems: list[FieldProblem]) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    parts = urlsplit(value)
    if len(value) > MAX_URL or parts.scheme != "https" or not parts.netloc:
        problems.append(
            FieldProblem(
                where,
                "bad_url",
                "give the https:// address of the label on the Local Contexts Hub, or nothing",
            )
        )
        return None
    return value


def check_labels(items: Sequence[dict[str, Any]]) -> list[ProtocolLabel]:
    """Labels from ``{"label_id", "text", "url"?}`` items; InvalidInput listing every problem."""
    problems: list[FieldProblem] = []
    if len(items) > MAX_LABELS:
        raise InvalidInput(
            f"{len(items)} labels is too many for one place; the limit is {MAX_LABELS}",
            code="too_many",
        )
    out: list[ProtocolLabel] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"labels.{i}"
        label_id = str(item.get("label_id") or "").strip().lower()
        if label_id not in LABEL_TYPES:
            problems.append(
                FieldProblem(
                    where + ".label_id",
                    "unknown_label",
                    f"{label_id!r:.30} is not a Local Contexts label; choose one of: "
                    + ", ".join(LABEL_TYPES),
                )
            )
            continue
        if label_id in seen:
            problems.append(
                FieldProblem(where + ".label_id", "repeated_label", "give each label once")
            )
            continue
        seen.add(label_id)
        try:
            text = check_text(str(item.get("text") or ""), "label text", max_length=MAX_TEXT)
        except InvalidInput as exc:
            problems.append(FieldProblem(where + ".text", exc.code, exc.message))
            continue
        url = _url(item.get("url"), where + ".url", problems)
        out.append(ProtocolLabel(label_id, LABEL_TYPES[label_id], text, url))
    if problems:
        raise InvalidInput(problems[0].message, problems=problems)
    return out


def label_json(label: ProtocolLabel) -> dict[str, Any]:
    """A label as downloads and popups carry it."""
    return {"id": label.label_id, "name": label.name, "text": label.text, "url": label.url}
