"""The audit trail and the store methods behind staff accounts, on every backend: each
create, edit, consent change, publish, reject, hide, withdraw and erase is recorded
with who, when, and the content before and after, never with personal data."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from shapely.geometry import Point

from geodata import audit, contributions, moderation
from geodata.account_records import Account, AuditEvent, Credential, Role
from geodata.accounts import create_account
from geodata.audit import RESIDENT, Actor
from geodata.erasure import erase_contact
from geodata.errors import Conflict, InvalidInput, NotFound
from geodata.models import Consent, Narrative, Place, Status, Workshop, utcnow
from geodata.place_attachments import ProtocolLabel
from geodata.schemas import PlacePatch, PlaceSubmission
from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary

FACILITATOR = Actor("ana (facilitator)", "ac_ana")
NAME, CONTACT = "Maria Secret-Name", "maria.secret@example.org"


def submission(title: str = "Old fountain", contact: str = CONTACT) -> PlaceSubmission:
    return PlaceSubmission.model_validate(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-9.14, 38.71]},
            "properties": {
                "title": title,
                "narratives": [{"text": "We met here every summer.", "language": "pt"}],
                "category": "memory",
                "consent": {"publish": True, "open_data": True},
                "contributor": {"name": NAME, "contact": contact, "display_name": "M."},
            },
        }
    )


def submit(store: PlaceStore, title: str = "Old fountain", contact: str = CONTACT) -> Place:
    index = contributions.project_index(store, 1000.0)
    prepared = contributions.prepare_submission(
        store, submission(title, contact), index, Vocabulary()
    )
    return contributions.save_submission(store, prepared).place


def correct(store: PlaceStore, place: Place, properties: dict) -> Place:
    patch = PlacePatch.model_validate({"properties": properties})
    index = contributions.project_index(store, 1000.0)
    prepared = contributions.apply_patch(store, place, patch, index, Vocabulary())
    return contributions.save_patch(store, prepared, None)


def test_every_kind_of_change_is_recorded_with_before_and_after(store, tmp_path):
    place = submit(store)
    correct(store, store.get(place.id), {"title": "The old fountain"})
    correct(store, store.get(place.id), {"consent": {"publish": True, "research": True}})
    moderation.reject(store, place.id, FACILITATOR, "It names a neighbour.")
    moderation.edit(store, place.id, FACILITATOR, Vocabulary(), title="Fountain of Largo")
    moderation.publish(store, place.id, FACILITATOR)
    moderation.reject(store, place.id, FACILITATOR, "Hidden at the family's request.")
    contributions.withdraw(store, store.get(place.id), tmp_path)
    changes = audit.history(store, place.id)
    assert [c.event.action for c in changes] == [
        "create", "edit", "consent", "reject", "edit", "publish", "hide", "withdraw",
    ]  # fmt: skip
    assert [c.event.actor for c in changes][:3] == ["resident (edit link)"] * 3
    assert changes[3].event.actor == "ana (facilitator)" and changes[3].event.actor_id == "ac_ana"
    create, edit, consent = changes[0], changes[1], changes[2]
    assert create.event.before is None and create.event.after["title"] == "Old fountain"
    assert edit.fields == ["title"] and edit.values("title") == ("Old fountain", "The old fountain")
    assert consent.fields == ["consent"]
    assert consent.values("consent")[1]["research"] is True
    assert changes[3].event.detail == "It names a neighbour."
    assert changes[3].values("status") == ("pending", "rejected")
    assert changes[6].values("status") == ("published", "rejected")
    assert changes[7].values("status") == ("rejected", "withdrawn")
    stamps = [c.event.at for c in changes]
    assert stamps == sorted(stamps) and all(s.tzinfo is not None for s in stamps)
    versions = [v["version"] for v in audit.versions(store, place.id)]
    assert versions == sorted(set(versions)) and versions[0] == 1
    titles = [v["title"] for v in audit.versions(store, place.id)]
    assert titles[:3] == ["Old fountain", "The old fountain", "The old fountain"]


def test_the_trail_holds_no_personal_data(store, tmp_path):
    place = submit(store)
    correct(
        store, store.get(place.id), {"contributor": {"name": "Other Name", "contact": "o@x.org"}}
    )
    contributions.withdraw(store, store.get(place.id), tmp_path)
    events = store.audit_events(place_id=place.id)
    text = orjson.dumps([[e.before, e.after, e.detail, e.actor] for e in events]).decode()
    for secret in (NAME, CONTACT, "Other Name", "o@x.org", '"M."'):
        assert secret not in text
    edit = events[1]
    assert edit.after["contributor"]["changed"] is True  # that it changed is kept
    assert events[0].after["contributor"] == {"name": True, "contact": True, "display_name": True}


def test_rejection_reason_is_the_latest_while_rejected(store):
    place = submit(store)
    assert audit.rejection_reason(store, store.get(place.id)) is None
    moderation.reject(store, place.id, FACILITATOR, "First reason.")
    moderation.publish(store, place.id, FACILITATOR)
    moderation.reject(store, place.id, FACILITATOR, "Second reason.")
    assert audit.rejection_reason(store, store.get(place.id)) == "Second reason."
    moderation.publish(store, place.id, FACILITATOR)
    assert audit.rejection_reason(store, store.get(place.id)) is None


def test_failed_moderation_writes_nothing(store):
    place = submit(store)
    before = len(store.audit_events())
    with pytest.raises(InvalidInput):
        moderation.reject(store, place.id, FACILITATOR, "")
    with pytest.raises(Conflict):
        moderation.publish(store, place.id, FACILITATOR, expected_version=99)
    with pytest.raises(NotFound):
        moderation.publish_many(store, [place.id, "pl_nothere"], FACILITATOR)
    assert store.get(place.id).status == Status.PENDING
    assert len(store.audit_events()) == before


def test_erasure_removes_the_contacts_places_and_records_only_that_it_happened(store, tmp_path):
    mine = [
        submit(store, "Old fountain"),
        submit(store, "Tram stop", contact=" MARIA.secret@example.ORG "),
    ]
    other = submit(store, "Bakery", contact="someone@else.org")
    moderation.set_labels(store, mine[0].id, FACILITATOR, [{"label_id": "tk_a", "text": "Elders."}])
    report = erase_contact(store, CONTACT, tmp_path, Actor("root (admin)", "ac_root"))
    assert (report.places, report.photos) == (2, 0) and report.audit_events >= 3
    for place in mine:
        with pytest.raises(NotFound):
            store.get(place.id)
        assert store.audit_events(place_id=place.id) == []
        assert store.protocol_labels([place.id]) == {}
        assert store.edit_token_hash(place.id) is None
    assert store.get(other.id).contributor_contact == "someone@else.org"
    erased = store.audit_events(action="erase")
    assert len(erased) == 1 and erased[0].actor == "root (admin)"
    assert "2 place(s)" in erased[0].detail and CONTACT not in erased[0].detail
    assert store.place_ids_by_contact(CONTACT) == []


# ---------------------------------------------------------------------------
# The store methods, as each backend implements them
# ---------------------------------------------------------------------------


def test_accounts_store(store):
    a = store.add_account(Account("Ana", Role.FACILITATOR, password_hash="$argon2id$x"))
    with pytest.raises(Conflict):
        store.add_account(Account("ana", Role.PLANNER))
    assert store.account_by_name("ANA").id == a.id
    assert store.account_by_name("nobody") is None
    assert store.get_account(a.id).role == Role.FACILITATOR
    with pytest.raises(NotFound):
        store.get_account("ac_missing")
    a.role, a.disabled_at = Role.ADMIN, utcnow()
    store.update_account(a)
    again = store.get_account(a.id)
    assert again.role == Role.ADMIN and again.disabled_at is not None
    with pytest.raises(NotFound):
        store.update_account(Account("ghost", Role.ADMIN, id="ac_ghost"))
    store.add_account(Account("bruno", Role.PLANNER))
    assert [x.name for x in store.accounts()] == ["Ana", "bruno"]


def test_credentials_store(store):
    account = store.add_account(Account("ana", Role.FACILITATOR))
    now = utcnow()
    token = store.add_credential(Credential(account.id, "token", "$argon2id$t", created_at=now))
    session = store.add_credential(
        Credential(account.id, "session", "$argon2id$s", created_at=now + timedelta(seconds=1),
                   expires_at=now - timedelta(seconds=5))
    )  # fmt: skip
    with pytest.raises(NotFound):
        store.add_credential(Credential("ac_missing", "token", "$argon2id$z"))
    assert [c.id for c in store.credentials(account.id)] == [session.id, token.id]
    assert [c.id for c in store.credentials(account.id, "token")] == [token.id]
    assert store.revoke_credential(token.id, now) is True
    assert store.revoke_credential(token.id, now) is False
    assert store.revoke_credential("nothere", now) is False
    assert store.get_credential(token.id).revoked_at is not None
    assert store.purge_credentials(now) == 1  # the expired session only
    assert store.get_credential(session.id) is None
    store.delete_credential(token.id)
    store.delete_credential("nothere")
    assert store.get_credential(token.id) is None


def test_audit_store(store):
    first = store.add_audit(AuditEvent("create", "resident (edit link)", place_id="pl_a",
                                       version=1, after={"title": "A"}))  # fmt: skip
    before, after = {"status": "pending"}, {"status": "published"}
    second = store.add_audit(
        AuditEvent("publish", "ana (facilitator)", "ac_ana", "pl_a", 2, before, after)
    )
    store.add_audit(AuditEvent("create", "resident (edit link)", place_id="pl_b", version=1))
    store.add_audit(AuditEvent("account_create", "admin (command line)", detail="x (admin)"))
    assert second.id > first.id
    events = store.audit_events(place_id="pl_a")
    assert [e.action for e in events] == ["create", "publish"]
    assert events[1].before == {"status": "pending"} and events[1].actor_id == "ac_ana"
    assert [e.place_id for e in store.audit_events(action="create")] == ["pl_a", "pl_b"]
    assert [e.action for e in store.audit_events(limit=2)] == ["create", "account_create"]
    assert store.delete_audit_events(["pl_a", "pl_missing"]) == 2
    assert store.audit_events(place_id="pl_a") == []
    assert store.delete_audit_events([]) == 0


def test_protocol_labels_store(store):
    place = Place(Point(-9.14, 38.71), "A", [Narrative("story", "pt")], "memory",
                  consent=Consent(given_at=utcnow()))  # fmt: skip
    store.add(place)
    labels = [
        ProtocolLabel("tk_a", "TK Attribution", "Name the elders."),
        ProtocolLabel("bc_p", "BC Provenance", "From the valley.", "https://localcontexts.org/x"),
    ]
    store.set_protocol_labels(place.id, labels)
    assert store.protocol_labels([place.id, "pl_other"]) == {place.id: labels}
    store.set_protocol_labels(place.id, labels[1:])
    assert store.protocol_labels([place.id])[place.id] == labels[1:]
    with pytest.raises(NotFound):
        store.set_protocol_labels("pl_missing", labels)
    store.delete(place.id)
    assert store.protocol_labels([place.id]) == {}


def test_workshop_update_and_contact_lookup_store(store):
    now = utcnow()
    w = store.add_workshop(Workshop("ABCDEF", "One", now, now + timedelta(hours=1)))
    w.title, w.ends_at, w.languages = "Renamed", now + timedelta(hours=2), ["pt"]
    store.update_workshop(w)
    got = store.get_workshop("abcdef")
    assert (got.title, got.languages) == ("Renamed", ["pt"])
    assert got.ends_at == now + timedelta(hours=2)
    with pytest.raises(NotFound):
        store.update_workshop(Workshop("NOPE", "x", now, now))
    place = Place(Point(-9.14, 38.71), "A", [Narrative("story", "pt")], "memory",
                  contributor_contact="Someone@Example.org")  # fmt: skip
    store.add(place)
    assert store.place_ids_by_contact(" someone@example.ORG") == [place.id]
    assert store.place_ids_by_contact("other@example.org") == []


def test_create_account_records_who_created_it(store):
    admin, _ = create_account(store, "root", Role.ADMIN)
    create_account(store, "ana", Role.FACILITATOR, created_by=admin)
    events = store.audit_events(action="account_create")
    assert [(e.actor, e.detail) for e in events] == [
        ("admin (command line)", "root (admin)"),
        ("root (admin)", "ana (facilitator)"),
    ]


def test_resident_actor_is_named_without_personal_data():
    assert RESIDENT.name == "resident (edit link)" and RESIDENT.account_id is None
