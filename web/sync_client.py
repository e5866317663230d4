"""A venue laptop's side of the sync API (:mod:`web.routes.sync_api`): pushing what was
collected in resumable batches, and pulling the central atlas's erasures.

Each batch's answers are written to the laptop's ledger as soon as they come, so a push
cut short (the connection lost, the laptop closed, the process killed) resumes where it
stopped: the changes not yet answered go again with the same submission ids, and the
central atlas answers the ones it had already stored with ``already``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from geodata.errors import HeritageError
from geodata.kit_folder import VenueFolder
from geodata.models import utcnow
from geodata.store import open_store
from geodata.sync_outbox import Change, outbox, settled
from geodata.sync_pull import PullReport, apply_pull, pull_targets

RETRIES = 4  # for a busy or briefly unreachable atlas: 1, 2, 4, 8 s apart
PULL_BATCH = 500
Progress = Callable[[int, int], None]


class SyncFailed(HeritageError):
    """The push or pull stopped; what was not answered waits for the next one."""

    code = "sync_failed"
    status = 502


@dataclass
class PushReport:
    stored: int = 0
    already: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.stored + self.already + len(self.conflicts)


class Atlas:
    """The central atlas at ``url``, reached with a facilitator's API token."""

    def __init__(
        self, url: str, token: str, timeout_s: float = 120.0, client: httpx.Client | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.client = client or httpx.Client(base_url=self.url, timeout=timeout_s)
        self.client.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )

    def close(self) -> None:
        self.client.close()

    def _refused(self, response: httpx.Response) -> SyncFailed:
        try:
            detail = response.json().get("detail") or response.text[:200]
        except ValueError:
            detail = response.text[:200]
        if response.status_code in (401, 403):
            return SyncFailed(
                f"{self.url} refused the token ({response.status_code}): {detail}; ask its "
                "admin for a facilitator's API token (heritage-atlas create-user NAME --role "
                "facilitator). Nothing was sent."
            )
        return SyncFailed(f"{self.url} answered {response.status_code}: {detail}")

    def post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """POST, retrying a busy or unreachable atlas a few times; SyncFailed otherwise."""
        for attempt in range(RETRIES + 1):
            try:
                response = self.client.post(path, **kwargs)
            except httpx.HTTPError as exc:
                if attempt == RETRIES:
                    raise SyncFailed(
                        f"cannot reach {self.url} ({type(exc).__name__}: {exc}); nothing that "
                        "was not answered is lost: run the same command again later"
                    ) from None
            else:
                if response.status_code < 400:
                    return response.json()
                if response.status_code not in (429, 502, 503, 504) or attempt == RETRIES:
                    raise self._refused(response)
            time.sleep(2**attempt)
            if "files" in kwargs:  # a file read to its end must be read again
                for _, value in kwargs["files"].items():
                    value[1].seek(0)
        raise AssertionError("unreachable")  # pragma: no cover


def _groups(changes: list[Change], batch: int) -> Iterator[list[Change]]:
    """Changes in their order, batched: consecutive changes that are not files together
    (at most ``batch``), each file alone."""
    group: list[Change] = []
    for change in changes:
        if change.is_file:
            if group:
                yield group
                group = []
            yield [change]
            continue
        group.append(change)
        if len(group) >= batch:
            yield group
            group = []
    if group:
        yield group


def _send_file(atlas: Atlas, kit_id: str, change: Change) -> dict[str, Any]:
    state = change.state or {}
    described = {
        "kit": kit_id,
        "id": change.id,
        "kind": change.kind,
        "record": change.record,
        "place_id": change.extra["place_id"],
        **{k: v for k, v in state.items() if v is not None},
    }
    path = Path(change.file)  # type: ignore[arg-type]
    with open(path, "rb") as fh:
        return atlas.post(
            "/api/sync/files",
            data={"change": orjson.dumps(described).decode()},
            files={"file": (path.name, fh, "application/octet-stream")},
        )


def push(
    folder: VenueFolder, atlas: Atlas, *, batch: int = 25, progress: Progress | None = None
) -> PushReport:
    """Send everything that waits, in order, recording each answer as it comes."""
    store = open_store(folder.database_url)
    report = PushReport()
    try:
        box = outbox(store, folder.kit_id, folder.media)
        store.save_ledger(box.quiet)
        total, done = len(box.changes), 0
        for group in _groups(box.changes, batch):
            if group[0].is_file:
                answers = [_send_file(atlas, folder.kit_id, group[0])]
            else:
                sent = {"kit": folder.kit_id, "changes": [c.wire() for c in group]}
                answers = atlas.post(
                    "/api/sync/changes",
                    content=orjson.dumps(sent),
                    headers={"Content-Type": "application/json"},
                )["answers"]
            by_id = {a["id"]: a for a in answers}
            entries = []
            for change in group:
                answer = by_id.get(change.id)
                if answer is None:
                    raise SyncFailed(f"{atlas.url} did not answer for change {change.id}")
                outcome = answer["outcome"]
                conflict = answer.get("conflict")
                detail = f"{conflict['reason']}: {conflict['detail']}" if conflict else None
                entries.append(settled(change, outcome, detail, utcnow()))
                if conflict:
                    report.conflicts.append({"change": change.summary, **conflict})
                elif outcome == "stored":
                    report.stored += 1
                else:
                    report.already += 1
            store.save_ledger(entries)  # this batch is done, whatever happens next
            done += len(group)
            if progress is not None:
                progress(done, total)
    finally:
        store.close()
    return report


def pull(folder: VenueFolder, atlas: Atlas) -> PullReport:
    """Ask about every record the laptop shares with the atlas, and follow the answers."""
    store = open_store(folder.database_url)
    total = PullReport()
    try:
        targets = pull_targets(store)
        for start in range(0, len(targets), PULL_BATCH):
            asked = {"kit": folder.kit_id, "records": targets[start : start + PULL_BATCH]}
            answers = atlas.post(
                "/api/sync/pull",
                content=orjson.dumps(asked),
                headers={"Content-Type": "application/json"},
            )["records"]
            report = apply_pull(store, folder.media, answers)
            total.erased += report.erased
            total.withdrawn += report.withdrawn
            total.unpublished += report.unpublished
            total.rescoped += report.rescoped
    finally:
        store.close()
    return total
