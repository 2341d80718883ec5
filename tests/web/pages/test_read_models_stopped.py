"""A read model that cannot apply an event stops there and says so (issue 16, defect 2's second line).

On PostgreSQL the real case: an event holding NUL (written before the text rule, or by a bug) is
refused by the database on every attempt. On both databases, a read model that raises on one
chosen event. Either way: the read models stop just before that event, `inventory projections
status` names the read model, the position and the error, /readyz answers 503 at once, every page
says so, writes are refused before anything is recorded, the admins are emailed once, and the
stop clears by itself once the event applies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from flask import Flask

from inventory.adapters.scheduler import stop_notice_job
from inventory.application import InventoryApplication
from inventory.cli import main
from inventory.projections.base import Projection, Recorded
from inventory.projections.stopped import ReadModelsStopped
from inventory.projections.store import Tx
from tests.conftest import ADMIN, saved_as_before
from tests.integration.mailservers import SmtpServer, smtp_server
from tests.web.conftest import STAFF, Caller, error, ok
from tests.web.pages.conftest import Person

RECEIPT = {"site": "WH", "sku": "NALOX-4MG", "quantity": 5, "expires_on": "2030-01-31", "funding_source": "STATE"}


class Breaks(Projection):
    """A read model with a bug: it raises on any receipt of the lot `BAD-LOT` while `broken` is set."""

    name = "breaks_on_bad_lot"
    tables: ClassVar[tuple[str, ...]] = ("breaks_on_bad_lot",)
    ddl: ClassVar[tuple[str, ...]] = ("CREATE TABLE IF NOT EXISTS breaks_on_bad_lot (position BIGINT PRIMARY KEY)",)
    broken = True

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        for recorded in batch:
            if getattr(recorded.event, "lot", None) == "BAD-LOT" and self.broken:
                raise KeyError("a bug: no such lot in the table")
            tx.execute("INSERT INTO breaks_on_bad_lot (position) VALUES (?)", (recorded.position,))


def receive(inventory: InventoryApplication, lot: str) -> int:
    """A receipt recorded without catching the read models up (as a busy worker would find it)."""
    return int(inventory.receive_stock(**RECEIPT, lot=lot, actor=ADMIN)["position"])


def written_as_before(inventory: InventoryApplication, lot: str) -> int:
    """A receipt of `lot` stored as an earlier release could have (no text rule): its log position."""
    ledger = inventory.ledger_aggregate("WH", "NALOX-4MG")
    assert ledger is not None
    ledger.receive(lot=lot, quantity=5, expires_on=date(2030, 1, 31), funding_source="STATE", unit_cost=None,
                   purchase_order=None, reference=None, actor="old-release@example.org",
                   occurred_at=ledger.lots["N-1"].entries[-1].at)  # fmt: skip
    return saved_as_before(inventory, ledger)


def status(flask_app: Flask) -> Any:
    return CliRunner().invoke(main, ["projections", "status"], obj=flask_app.extensions["inventory"])


@pytest.fixture
def mail(flask_app: Flask) -> Iterator[SmtpServer]:
    """A real SMTP server the service sends to (settings as INVENTORY_SMTP_* would give)."""
    with smtp_server() as server:
        found = flask_app.extensions["inventory"]
        found.settings = replace(found.settings, smtp_host="127.0.0.1", smtp_port=server.port, smtp_security="none")
        yield server


def the_stop_shows_everywhere(
    flask_app: Flask, staff: dict[str, Caller], people: dict[str, Person], mail: SmtpServer, name: str, bad: int
) -> None:
    projector = flask_app.extensions["inventory"].projector
    with pytest.raises(ReadModelsStopped) as stopped:
        projector.catch_up()
    assert (stopped.value.stop.name, stopped.value.stop.position) == (name, bad)
    assert projector.position() == bad - 1  # everything before the event, nothing after it

    shown = status(flask_app)
    assert shown.exit_code == 1, shown.output
    assert f"STOPPED: The read model {name} cannot apply the event at log position {bad}" in shown.output

    ready = staff["admin"].client.get("/readyz")
    assert ready.status_code == 503 and f"log position {bad}" in ready.get_json()["reason"]

    head = projector.head()
    refused = staff["admin"].post("/api/v1/receipts", dict(RECEIPT, lot="N-9"))
    assert error(refused, 503, "read_models_stopped")["message"].startswith("Nothing was recorded.")
    assert refused.headers["Retry-After"]
    page = people["coordinator"].post("/sites/VAN-1/tally", {"shift_date": "2026-01-01"})
    assert page.status_code == 503 and "Nothing was recorded" in page.get_data(as_text=True)
    assert projector.head() == head

    dashboard = people["coordinator"].get("/").get_data(as_text=True)
    assert "The stock figures stopped updating" in dashboard and f"log position {bad}" not in dashboard
    assert f"log position {bad}" in people["admin"].get("/").get_data(as_text=True)

    found = flask_app.extensions["inventory"]
    stop_notice_job(found)
    stop_notice_job(found)  # told once
    assert mail.inbox.recipients() == [STAFF["admin"]]
    [message] = mail.inbox.to(STAFF["admin"])
    assert message["Subject"] == "[Inventory] The stock figures stopped updating"
    assert f"log position {bad}" in message.get_content()


def test_a_read_model_that_raises_on_an_event_stops_just_before_it_and_goes_on_once_it_applies(
    flask_app: Flask, inventory: InventoryApplication, staff: dict[str, Caller], people: dict[str, Person],
    mail: SmtpServer,
) -> None:  # fmt: skip
    projector = flask_app.extensions["inventory"].projector
    breaks = Breaks(projector.projections[0].zone)
    projector.projections.append(breaks)
    projector._ready = False  # its table is created at the next catch-up
    receive(inventory, "N-1")
    for number in range(20):  # the bad event sits in the middle of a batch
        receive(inventory, f"N-{number + 10}")
    bad = receive(inventory, "BAD-LOT")
    for number in range(20):
        receive(inventory, f"N-{number + 40}")

    the_stop_shows_everywhere(flask_app, staff, people, mail, "breaks_on_bad_lot", bad)

    breaks.broken = False  # an upgrade fixed the read model: the next attempt applies the event
    assert projector.catch_up() == projector.head()
    assert status(flask_app).exit_code == 0
    assert staff["admin"].client.get("/readyz").status_code == 200
    ok(staff["admin"].post("/api/v1/receipts", dict(RECEIPT, lot="N-99")))
    assert "stopped updating" not in people["coordinator"].get("/").get_data(as_text=True)


def test_an_entry_the_read_models_stop_on_is_answered_as_recorded_so_nobody_records_it_twice(
    flask_app: Flask, inventory: InventoryApplication, staff: dict[str, Caller]
) -> None:
    projector = flask_app.extensions["inventory"].projector
    projector.projections.append(Breaks(projector.projections[0].zone))
    projector._ready = False
    ok(staff["admin"].post("/api/v1/receipts", dict(RECEIPT, lot="N-1")))
    head = projector.head()

    answer = staff["admin"].post("/api/v1/receipts", dict(RECEIPT, lot="BAD-LOT"), key="bad-lot-receipt-1")

    found = error(answer, 503, "read_models_stopped")
    assert found["message"].startswith("This was recorded") and "Do not record it again" in found["message"]
    assert projector.head() == head + 1
    assert inventory.stock("WH", "NALOX-4MG")["on_hand"] == 10


# SQLite stores NUL in text: the tests above cover a read model that raises, on both databases.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_an_event_postgresql_cannot_store_stops_the_read_models_there(
    flask_app: Flask, inventory: InventoryApplication, staff: dict[str, Caller], people: dict[str, Person],
    mail: SmtpServer,
) -> None:  # fmt: skip
    receive(inventory, "N-1")
    bad = written_as_before(inventory, "A\x00B")
    receive(inventory, "N-2")
    the_stop_shows_everywhere(flask_app, staff, people, mail, "stock_on_hand", bad)
