"""What checking a staff API token costs per request: the argon2id verification every
request would pay, against the memo that skips it for a secret this process verified
already (the credential row is still read from the database each time, so revocation
stays immediate).

    python bench/bench_staff_auth.py [requests]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from geodata import accounts
from geodata.account_records import Role
from geodata.store import open_store


def main(n: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        _, token = accounts.create_account(store, "bench", Role.FACILITATOR)

        def cold() -> None:
            accounts._verified = accounts._VerifiedSecrets()  # forget: argon2 every time
            accounts.authenticate(store, token, accounts.TOKEN)

        def warm() -> None:
            accounts.authenticate(store, token, accounts.TOKEN)

        timings = {}
        for name, check in (("argon2id on every request (baseline)", cold), ("memoised", warm)):
            check()
            start = time.perf_counter()
            for _ in range(n):
                check()
            timings[name] = (time.perf_counter() - start) / n
        baseline = timings["argon2id on every request (baseline)"]
        for name, seconds in timings.items():
            print(f"{name:40s} {seconds * 1000:8.3f} ms/request  x{baseline / seconds:,.1f}")
        store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
