"""API fuzzing: schemathesis generates requests from the app's own OpenAPI document.

Every operation of ``/openapi.json`` (and of the OGC API's ``/ogc/api``) is called with
generated data, valid and invalid, signed in as an admin (the contribution API with an
edit token where a link provides one). Each answer is checked for: no server error,
a content type the document declares, and a body that conforms to the documented
schema. A stateful run follows links: submit a place, then read, correct, photograph,
moderate and withdraw it; create a workshop, then open its pages.

CI runs a bounded number of examples, derandomised (same requests every run). A longer,
random run: ``HERITAGE_FUZZ_EXAMPLES=300 HERITAGE_FUZZ_RANDOM=1 python -m pytest
tests/web/test_fuzz_api.py -p no:cacheprovider``.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from geodata.accounts import create_account
from geodata.demo import load_demo
from geodata.store import open_store
from tests.postgis_schema import fresh_schema_url
from web.app import create_app
from web.settings import Settings

EXAMPLES = int(os.environ.get("HERITAGE_FUZZ_EXAMPLES", "8"))
RANDOM = os.environ.get("HERITAGE_FUZZ_RANDOM", "").lower() in ("1", "true", "yes")
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
# A resident's place in the Lisbon demo area: the documented example of a submission, so
# the stateful run starts from a place that exists.
PLACE_EXAMPLE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [-9.1402, 38.7101]},
    "properties": {
        "title": "Tasca do Chico",
        "narratives": [{"text": "Fado vadio every Monday since 1993.", "language": "pt"}],
        "category": "memory",
        "consent": {"publish": True, "open_data": True},
        "contributor": {"name": "Fuzz Tester", "contact": "fuzz@example.org"},
    },
}
WORKSHOP_EXAMPLE = {"title": "Fado memories of Mouraria"}
REQUESTS: Counter[str] = Counter()


class FuzzTarget:
    """The app under test, its store and the credentials the fuzzer signs in with."""

    def __init__(self, tmp: Path, database_url: str | None = None) -> None:
        settings_ = Settings(
            database_url=database_url or f"sqlite:///{tmp / 'fuzz.db'}",
            tiles="none",
            submission_rate_limit=0,
            join_code_rate_limit=0,  # wrong codes by the hundred are what fuzzing sends
            media_dir=str(tmp / "media"),
            _env_file=None,  # type: ignore[call-arg]
        )
        self.store = open_store(settings_.database_url)
        load_demo(self.store)
        _, self.admin_token = create_account(self.store, "fuzz-admin", "admin")
        self.app: FastAPI = create_app(settings_, store=self.store)
        self.media_dir = settings_.media_path

    def headers(self, path: str) -> dict[str, str]:
        # The contribution API reads a bearer token as an edit token: staff credentials
        # go everywhere else.
        if path.startswith("/api/places"):
            return {}
        return {"Authorization": f"Bearer {self.admin_token}"}


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    """The app on each backend: PostgreSQL refuses what SQLite lets through (NUL in text,
    integers past 64 bits), so each finds its own 5xx."""
    tmp = tmp_path_factory.mktemp("fuzz")
    with contextlib.ExitStack() as stack:
        url = None
        if request.param == "postgis":
            request.applymarker(pytest.mark.postgis)
            url = stack.enter_context(fresh_schema_url("fuzz"))
        t = FuzzTarget(tmp, url)
        stack.callback(t.store.close)
        REQUESTS.clear()
        yield t
        print(f"\n{request.param}: fuzzed requests: {sum(REQUESTS.values())} ({dict(REQUESTS)})")


def operation_id(doc: dict[str, Any], method: str, path: str) -> str:
    return doc["paths"][path][method]["operationId"]


def link(doc: dict[str, Any], method: str, path: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id(doc, method, path), "parameters": parameters}


def with_links(doc: dict[str, Any]) -> dict[str, Any]:
    """The app's document plus request examples and OpenAPI links between operations."""
    doc = copy.deepcopy(doc)
    paths = doc["paths"]
    submit = paths["/api/places"]["post"]
    for media in submit["requestBody"]["content"].values():
        media["example"] = PLACE_EXAMPLE
    place = {"path.place_id": "$response.body#/id"}
    owner = {**place, "header.X-Edit-Token": "$response.body#/edit_token"}
    submit["responses"]["201"]["links"] = {
        "ReadOwnPlace": link(doc, "get", "/api/places/{place_id}", **owner),
        "CorrectOwnPlace": link(doc, "patch", "/api/places/{place_id}", **owner),
        "WithdrawOwnPlace": link(doc, "delete", "/api/places/{place_id}", **owner),
        "AddPhoto": link(doc, "post", "/api/places/{place_id}/media", **owner),
        "ModeratorReads": link(doc, "get", "/api/moderation/places/{place_id}", **place),
        "ModeratorPublishes": link(
            doc, "post", "/api/moderation/places/{place_id}/publish", **place
        ),
        "ModeratorRejects": link(doc, "post", "/api/moderation/places/{place_id}/reject", **place),
        "ModeratorCorrects": link(doc, "patch", "/api/moderation/places/{place_id}", **place),
        "History": link(doc, "get", "/api/moderation/places/{place_id}/history", **place),
        "Popup": link(doc, "get", "/api/map/places/{place_id}", **place),
        "OgcFeature": link(
            doc,
            "get",
            "/ogc/collections/{collection_id}/items/{feature_id}",
            **{"path.collection_id": "places", "path.feature_id": "$response.body#/id"},
        ),
    }
    create = paths["/api/workshops"]["post"]
    create["requestBody"]["content"]["application/json"]["example"] = WORKSHOP_EXAMPLE
    code = {"path.code": "$response.body#/code"}
    create["responses"]["201"]["links"] = {
        name: link(doc, method, path, **code)
        for name, method, path in [
            ("Read", "get", "/api/workshops/{code}"),
            ("Close", "post", "/api/workshops/{code}/close"),
            ("LiveMap", "get", "/workshops/{code}/live"),
            ("Updates", "get", "/api/map/workshops/{code}/updates"),
            ("QrCode", "get", "/workshops/{code}/qr.svg"),
            ("Outcome", "get", "/workshops/{code}/outcome.geojson"),
            ("Print", "get", "/workshops/{code}/print"),
            ("Dashboard", "get", "/workshops/{code}"),
        ]
    }
    return doc


@pytest.fixture(scope="module")
def app_schema(target: FuzzTarget):
    schema = schemathesis.openapi.from_dict(with_links(target.app.openapi()))
    schema.app = target.app
    return schema


@pytest.fixture(scope="module")
def ogc_schema(target: FuzzTarget):
    from fastapi.testclient import TestClient

    with TestClient(target.app, base_url="http://testserver") as client:
        doc = client.get("/ogc/api", params={"f": "json"}).json()
    doc["servers"] = [{"url": "/ogc"}]  # the in-process app, not the public address
    schema = schemathesis.openapi.from_dict(doc)
    schema.app = target.app
    return schema


app_api = schemathesis.pytest.from_fixture("app_schema")
ogc_api = schemathesis.pytest.from_fixture("ogc_schema")


def call_and_check(case, target: FuzzTarget) -> None:
    REQUESTS[case.operation.label.split()[0]] += 1
    case.call_and_validate(headers=target.headers(case.path), checks=CHECKS, allow_redirects=False)


@app_api.parametrize()
@FUZZ_SETTINGS
def test_every_operation_of_the_app_answers_without_server_errors_and_as_documented(
    case, target: FuzzTarget
):
    call_and_check(case, target)


@ogc_api.parametrize()
@FUZZ_SETTINGS
def test_every_ogc_api_operation_answers_without_server_errors_and_as_documented(
    case, target: FuzzTarget
):
    call_and_check(case, target)


# Hostile requests with no documented operation: a collection the API does not have, a
# download format it does not offer (the OGC document lists each collection's paths).
UNDOCUMENTED = {"collection_unknown", "tiles_of_an_unknown_collection", "queryables_of_walks",
                "format_shapefile_download"}  # fmt: skip


def test_the_hostile_ogc_requests_are_refused_as_the_ogc_api_documents(
    ogc_schema, target: FuzzTarget
):
    """The corpus of ``tests/hostile/ogc`` through schemathesis: each request made as a
    case of its operation in ``/ogc/api`` and checked like every generated one (no server
    error, a documented status and content type, a conforming body), then for the 400 or
    404 problem naming its parameter."""
    from tests.web.test_hostile_ogc import hostile_requests, refusal_problems

    failed, sent = {}, set()
    for name, request in hostile_requests():
        path = request["path"].removeprefix("/ogc")
        operation = ogc_schema.find_operation_by_path("GET", path)
        if operation is None or name in UNDOCUMENTED:
            assert operation is None and name in UNDOCUMENTED, name
            continue
        names = re.findall(r"\{(\w+)\}", operation.path)
        pattern = re.sub(r"\\\{\w+\\\}", "([^/]+)", re.escape(operation.path))
        values = re.fullmatch(pattern, path)
        assert values is not None, (name, operation.path)
        case = operation.Case(path_parameters=dict(zip(names, values.groups(), strict=True)),
                              query=request["query"])  # fmt: skip
        REQUESTS["hostile"] += 1
        response = case.call_and_validate(
            headers=target.headers(case.path), checks=[*CHECKS, status_code_conformance]
        )
        media_type = response.headers.get("content-type", [""])[0]
        wrong = refusal_problems(response.status_code, media_type, response.text, request)
        if wrong:
            failed[name] = wrong
        sent.add(name)
    assert failed == {}
    assert len(sent) >= 25


def workflow_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """Only the linked operations, starting from the documented examples (so that most
    runs begin with a place or a workshop that exists, and the links have something to
    follow); every later step is generated."""
    doc = with_links(doc)
    sources = {("post", "/api/places"), ("post", "/api/workshops")}
    linked = set(sources)
    for method, path in sources:
        for target in doc["paths"][path][method]["responses"]["201"]["links"].values():
            linked |= {
                (m, p)
                for p, item in doc["paths"].items()
                for m, op in item.items()
                if isinstance(op, dict) and op.get("operationId") == target["operationId"]
            }
    for path, item in list(doc["paths"].items()):
        for method in [m for m in item if (m, path) not in linked and m != "parameters"]:
            del item[method]
        if not any(m in item for m in ("get", "post", "put", "patch", "delete")):
            del doc["paths"][path]
    for path, example in (("/api/places", PLACE_EXAMPLE), ("/api/workshops", WORKSHOP_EXAMPLE)):
        for media in doc["paths"][path]["post"]["requestBody"]["content"].values():
            media["schema"] = {"const": example}
    return doc


def test_linked_workflows_submit_moderate_withdraw_and_workshops_hold(target: FuzzTarget):
    """Stateful: operations chained by the links above, with generated data at each step."""
    schema = schemathesis.openapi.from_dict(workflow_doc(target.app.openapi()))
    schema.app = target.app
    # Valid steps only: a chain breaks at its first refused request, and the single
    # operations above already get invalid data.
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
    before = target.store.count()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case) -> dict[str, Any]:
            REQUESTS["stateful"] += 1
            headers = target.headers(case.path)
            return {"headers": headers, "allow_redirects": False}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))

    Workflow.run(
        settings=settings(
            max_examples=max(EXAMPLES, 6),
            stateful_step_count=6,
            deadline=None,
            derandomize=not RANDOM,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert target.store.count() > before, "no linked workflow started from a stored place"


def test_fuzzing_left_no_orphan_photo_files(target: FuzzTarget):
    """Whatever the fuzzer uploaded or withdrew, every photo file belongs to a record."""
    if not target.media_dir.exists():
        return
    files = {p.name for p in target.media_dir.rglob("*") if p.is_file()}
    known: set[str] = set()
    for place in target.store.list():
        for item in target.store.media(place.id):
            known |= {Path(item.path).name, Path(item.thumb_path).name}
    assert files <= known, f"photo files without a record: {sorted(files - known)[:5]}"
