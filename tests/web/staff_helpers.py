"""Staff accounts for tests: one per role, with a password and an API token each."""

from __future__ import annotations

import re
from dataclasses import dataclass

from geodata.account_records import Role
from geodata.accounts import create_account
from geodata.store.base import PlaceStore

PASSWORD = "a long enough test password"


@dataclass(frozen=True)
class Staff:
    name: str
    role: Role
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_staff(store: PlaceStore) -> dict[Role, Staff]:
    """A facilitator, a planner and an admin, named after their role."""
    out = {}
    for role in Role:
        account, token = create_account(store, f"test-{role.value}", role, password=PASSWORD)
        out[role] = Staff(account.name, role, token)
    return out


def page_csrf(html: str) -> str:
    """The CSRF token a staff page carries for its forms."""
    match = re.search(r'name="csrf-token" content="([^"]*)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(client, name: str, password: str = PASSWORD, next_url: str = "/workshops"):
    """Sign in through the login form, as a browser does; returns the redirect response."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post(
        "/login",
        data={"name": name, "password": password, "next": next_url, "csrf_token": token},
        follow_redirects=False,
    )
