"""GET /healthz touches neither the database nor any lock, so it answers while both are stuck."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from inventory.adapters.locks import STRIPES
from inventory.web import create_app
from tests.threads import Worker

ENOUGH = 10.0


def test_healthz_answers_with_every_stripe_held_and_the_database_gone(sqlite_url: str) -> None:
    web = create_app({"INVENTORY_DATABASE_URL": sqlite_url, "TESTING": True}, web_only=True)
    found = web.extensions["inventory"]
    let_go, holding = threading.Event(), threading.Event()
    holder, client = Worker("holder"), Worker("client")

    def hold_every_stripe() -> None:
        with found.app.locks.holding([uuid.UUID(int=stripe) for stripe in range(STRIPES)]):
            holding.set()
            let_go.wait(60)

    try:
        holder.submit(hold_every_stripe)
        assert holding.wait(ENOUGH)
        found.close()
        for file in Path(sqlite_url.removeprefix("sqlite:///")).parent.glob("inventory*.db*"):
            file.rename(file.with_name(f"gone-{file.name}"))  # a read would now find no tables: a 503
        answer = client.run(lambda: web.test_client().get("/healthz"), ENOUGH)
        assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}
    finally:
        let_go.set()
        holder.close()
        client.close()
