"""Programs to export: the demo program, and a generated one with every kind of movement.

The generated one has receipts paid by three funding sources (some on purchase orders with unit
costs), transfers received in full, short, or cancelled, visits, an adjustment for every reason,
counts with variances, and entries backdated into earlier days.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from exports.reports import Source
from inventory.application import InventoryApplication
from inventory.application.demo import seed_demo
from inventory.domain.errors import InventoryError
from inventory.domain.values import AdjustmentReason
from inventory.projections import all_projections
from inventory.projections.runner import Projector
from inventory.projections.store import ReadStore, read_store_for
from tests.conftest import ADMIN
from tests.web.conftest import catalog, client, flask_app, inventory, root, staff  # noqa: F401  (the web fixtures)
from tests.web.pages.conftest import people, quick_hashing  # noqa: F401  (the pages' fixtures)

ZONE = ZoneInfo("America/New_York")
SEAL_KEY = b"exports-test-seal"
DEMO_END = date(2026, 3, 10)
DEMO_DAYS = 40
COORDINATOR = "coordinator@example.org"


@dataclass
class Program:
    app: InventoryApplication
    store: ReadStore
    projector: Projector
    last_day: date  # the last business date with activity

    @property
    def source(self) -> Source:
        self.projector.catch_up()
        return Source(self.app, self.store, self.app.zone)

    def close(self) -> None:
        self.app.close()
        self.store.close()


def _program(url: str) -> tuple[InventoryApplication, ReadStore, Projector]:
    app = InventoryApplication(url, timezone_name=str(ZONE))
    store = read_store_for(url)
    return app, store, Projector(app, store, all_projections(app.zone, SEAL_KEY))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Program]:
    """The demo program: 40 days to 2026-03-10 in New York (two month-ends, a DST change)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/inventory.db"
    app, store, projector = _program(url)
    seed_demo(app, days=DEMO_DAYS, end=DEMO_END, seed=7)
    projector.catch_up()
    program = Program(app, store, projector, DEMO_END)
    yield program
    program.close()


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def generate(app: InventoryApplication, today: date, days: int = 62, seed: int = 11) -> date:
    """Record a small program's `days` days ending yesterday; returns the last day."""
    rng = random.Random(seed)
    for code, name, kind in (
        ("WH", "Warehouse", "warehouse"),
        ("FIX-1", "Drop-in", "fixed"),
        ("VAN-1", "Van", "mobile"),
    ):
        app.register_site(code=code, name=name, kind=kind, actor=ADMIN)
    for sku, name, category, unit, expiry in (
        ("NALOX-4MG", "Naloxone 4 mg nasal", "naloxone", "kit", True),
        ("SYR-1ML", "Syringe 1 mL", "syringe", "syringe", False),
        ("FTS", "Fentanyl test strip", "test_strip", "strip", True),
    ):
        app.register_item(sku=sku, name=name, category=category, unit=unit, tracks_expiry=expiry, actor=ADMIN)
    app.register_funding_source(
        code="SOR",
        name="State Opioid Response",
        federal=True,
        restrictions=[{"category": "syringe", "starts_on": "2018-01-01"}],
        actor=ADMIN,
    )
    app.register_funding_source(code="STATE", name="State fund", federal=False, actor=ADMIN)
    app.register_funding_source(code="GIFTS", name="Donations", federal=False, actor=ADMIN)
    app.register_partner(code="SHELTER-1", name="Harbour Shelter", kind="shelter", contact_role="Shelter manager",
                         actor=ADMIN)  # fmt: skip
    funders = {"NALOX-4MG": ["SOR", "GIFTS"], "SYR-1ML": ["STATE", "GIFTS"], "FTS": ["SOR", "STATE"]}
    first = today - timedelta(days=days)
    reasons = [reason.value for reason in AdjustmentReason]
    lots: dict[str, list[tuple[str, str, date | None]]] = {sku: [] for sku in funders}
    for offset in range(days):
        day = first + timedelta(days=offset)
        if offset % 10 == 0:
            for sku, sources in funders.items():
                funding = sources[(offset // 10) % 2]
                lot = f"{sku[:3]}-{offset:02d}-{funding}"
                expires = day + timedelta(days=400) if sku != "SYR-1ML" else None
                if offset % 20 == 0:
                    order = app.raise_purchase_order(
                        supplier="Co-op",
                        site="WH",
                        funding_source=funding,
                        lines=[{"sku": sku, "quantity": 600, "unit_cost": f"{rng.randint(10, 400) / 100:.2f}"}],
                        actor=ADMIN,
                        occurred_at=_at(day, 6),
                    )
                    app.submit_purchase_order(order_id=order["id"], actor=ADMIN, occurred_at=_at(day, 6, 10))
                    app.receive_purchase_order(
                        order_id=order["id"],
                        lines=[{"sku": sku, "lot": lot, "quantity": 600, "expires_on": expires}],
                        actor=ADMIN,
                        occurred_at=_at(day, 7),
                    )
                else:
                    app.receive_stock(
                        site="WH",
                        sku=sku,
                        lot=lot,
                        quantity=500,
                        expires_on=expires,
                        funding_source=funding,
                        unit_cost="1.25",
                        reference=f"Delivery {day}",
                        actor=ADMIN,
                        occurred_at=_at(day, 7),
                    )
                lots[sku].append((lot, funding, expires))
        if offset % 3 == 1:
            for site in ("FIX-1", "VAN-1"):
                lines = [{"sku": sku, "quantity": rng.randint(5, 40)} for sku in funders if rng.random() < 0.8]
                if not lines:
                    continue
                try:
                    sent = app.dispatch_transfer(
                        from_site="WH", to_site=site, lines=lines, actor=ADMIN, occurred_at=_at(day, 8)
                    )
                except InventoryError:
                    continue
                fate = rng.random()
                if fate < 0.1:
                    app.cancel_transfer(
                        transfer_id=sent["id"], reason="Van broke down", actor=ADMIN, occurred_at=_at(day, 9)
                    )
                elif fate < 0.25:
                    first_line = sent["lines"][0]
                    short = [
                        {"sku": first_line["sku"], "lot": pick["lot"], "quantity": max(pick["quantity"] - 1, 0)}
                        for pick in first_line.get("lots", [])
                    ] or None
                    try:
                        app.receive_transfer(
                            transfer_id=sent["id"], received=short, actor=COORDINATOR, occurred_at=_at(day, 10)
                        )
                    except InventoryError:
                        app.receive_transfer(transfer_id=sent["id"], actor=COORDINATOR, occurred_at=_at(day, 10))
                else:
                    app.receive_transfer(transfer_id=sent["id"], actor=COORDINATOR, occurred_at=_at(day, 10))
        for visit in range(rng.randint(2, 6)):
            site = rng.choice(["FIX-1", "VAN-1"])
            lines = [{"sku": sku, "quantity": rng.randint(1, 5)} for sku in funders if rng.random() < 0.5]
            with contextlib.suppress(InventoryError):
                app.record_encounter(
                    key=f"visit-{offset}-{visit}",
                    site=site,
                    lines=lines,
                    participant_code=rng.choice([None, "K7Q2ZX"]),
                    reversals_reported=rng.choice([0, 0, 1]),
                    syringes_collected=rng.choice([0, 10, 20]),
                    actor=COORDINATOR,
                    occurred_at=_at(day, 11, visit),
                )
        if offset % 5 == 2:  # a shelter supplied in bulk from the drop-in; a parcel from the van, one in three back
            with contextlib.suppress(InventoryError):
                app.issue_to_partner(key=f"partner-{offset}", site="FIX-1", partner="SHELTER-1",
                                     lines=[{"sku": "NALOX-4MG", "quantity": rng.randint(3, 12)}], actor=COORDINATOR,
                                     occurred_at=_at(day, 12))  # fmt: skip
            with contextlib.suppress(InventoryError):
                parcel = app.send_mail_order(key=f"parcel-{offset}", site="VAN-1", carrier="Post",
                                             tracking=f"RR{100000000 + offset}CA", recipient="person_who_uses_drugs",
                                             lines=[{"sku": sku, "quantity": 2} for sku in ("NALOX-4MG", "FTS")],
                                             actor=COORDINATOR, occurred_at=_at(day, 13))  # fmt: skip
                if offset % 3 == 0:
                    app.parcel_returned(
                        mail_order=parcel["id"], actor=COORDINATOR, occurred_at=_at(day + timedelta(days=4), 9)
                    )
        if offset % 7 == 3:
            reason = reasons[(offset // 7) % len(reasons)]
            sku = rng.choice(list(funders))
            lot, funding, expires = lots[sku][-1]
            sign = 1 if reason in ("found", "returned", "correction") else -1
            with contextlib.suppress(InventoryError):
                app.adjust_stock(
                    site="WH",
                    sku=sku,
                    lot=lot,
                    quantity=sign * rng.randint(1, 4),
                    reason=reason,
                    note="shelf check",
                    actor=ADMIN,
                    occurred_at=_at(day, 15),
                )
        if offset % 9 == 5:
            sku = rng.choice(list(funders))
            lot = lots[sku][-1][0]
            on_hand = {row["lot"]: row["quantity"] for row in app.stock("WH", sku)["lots"]}
            if lot in on_hand:
                app.count_stock(
                    site="WH",
                    sku=sku,
                    lot=lot,
                    counted=max(on_hand[lot] + rng.choice([-3, -1, 2]), 0),
                    actor=ADMIN,
                    occurred_at=_at(day, 18),
                )
    # Entered late: a visit and a receipt recorded now, dated a month ago.
    backdated = today - timedelta(days=days // 2)
    app.record_encounter(
        key="paper-tally-1",
        site="VAN-1",
        lines=[{"sku": "SYR-1ML", "quantity": 3}],
        actor=COORDINATOR,
        occurred_at=_at(backdated, 21),
    )
    return today - timedelta(days=1)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Program]:
    """The generated program on SQLite, recorded once for the module."""
    yield from _generated(f"sqlite:///{tmp_path_factory.mktemp('generated')}/inventory.db")


def _generated(url: str) -> Iterator[Program]:
    app, store, projector = _program(url)
    today = datetime.now(ZONE).date()
    last = generate(app, today)
    projector.catch_up()
    program = Program(app, store, projector, last)
    yield program
    program.close()


@pytest.fixture
def generated_on(database_url: str) -> Iterator[Program]:
    """The generated program on a fresh SQLite file and a fresh PostgreSQL schema."""
    yield from _generated(database_url)


@pytest.fixture
def output(tmp_path: Path) -> Path:
    return tmp_path / "report.xlsx"
