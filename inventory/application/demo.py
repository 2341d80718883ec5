"""A realistic demo program: a warehouse, two fixed sites and a van, about 90 days of activity.

Deterministic: the same seed and end date record the same events.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from inventory.application import InventoryApplication
from inventory.domain.errors import InsufficientStock, InvalidInput
from inventory.domain.participant import check_participant_code

ADMIN = "admin@demo.example.org"
PURCHASING = "purchasing@demo.example.org"
COORDINATORS = {
    "WH": "warehouse@demo.example.org",
    "FIX-DT": "downtown@demo.example.org",
    "FIX-EAST": "eastside@demo.example.org",
    "VAN-1": "van@demo.example.org",
}

SITES = [
    ("WH", "Central warehouse", "warehouse"),
    ("FIX-DT", "Downtown drop-in", "fixed"),
    ("FIX-EAST", "Eastside health hub", "fixed"),
    ("VAN-1", "Outreach van", "mobile"),
]

ITEMS = [
    # sku, name, category, unit, tracks expiry, pack size
    ("NALOX-4MG", "Naloxone 4 mg nasal spray kit", "naloxone", "kit", True, 12),
    ("NALOX-INJ", "Naloxone 0.4 mg/mL injectable kit", "naloxone", "kit", True, 10),
    ("SYR-1ML", "Syringe 1 mL 29G", "syringe", "syringe", False, 100),
    ("FTS", "Fentanyl test strip", "test_strip", "strip", True, 100),
    ("XTS", "Xylazine test strip", "test_strip", "strip", True, 100),
    ("SHARPS-1QT", "Sharps container 1 qt", "sharps", "container", False, 24),
]

FUNDING = [
    ("SOR", "State Opioid Response grant (federal)", True, [{"category": "syringe", "starts_on": "2018-01-01"}]),
    ("STATE-HR", "State harm reduction fund", False, []),
    ("DONATIONS", "Private donations", False, []),
]

# What each item is paid from, and the warehouse's monthly delivery.
SUPPLY = {
    "NALOX-4MG": ("SOR", 1500, "41.00", 540),
    "NALOX-INJ": ("SOR", 150, "18.50", 400),
    "SYR-1ML": ("STATE-HR", 20000, "0.11", None),
    "FTS": ("SOR", 3000, "1.00", 365),
    "XTS": ("STATE-HR", 1500, "1.95", 300),
    "SHARPS-1QT": ("DONATIONS", 400, "2.40", None),
}

# Lot numbers as the manufacturers print them: a prefix, then year, month and a sequence.
LOT_PREFIX = {"NALOX-4MG": "NX4", "NALOX-INJ": "NXI", "SYR-1ML": "BD", "FTS": "FTS", "XTS": "XTS", "SHARPS-1QT": "SC"}

# reorder point, par level at each kind of site
LEVELS = {
    "warehouse": {
        "NALOX-4MG": (300, 900),
        "NALOX-INJ": (60, 200),
        "SYR-1ML": (8000, 25000),
        "FTS": (1200, 4000),
        "XTS": (600, 2000),
        "SHARPS-1QT": (150, 500),
    },
    "fixed": {
        "NALOX-4MG": (40, 120),
        "NALOX-INJ": (10, 30),
        "SYR-1ML": (1500, 4000),
        "FTS": (150, 500),
        "XTS": (80, 250),
        "SHARPS-1QT": (20, 60),
    },
    "mobile": {
        "NALOX-4MG": (25, 80),
        "NALOX-INJ": (6, 20),
        "SYR-1ML": (800, 2500),
        "FTS": (100, 300),
        "XTS": (50, 150),
        "SHARPS-1QT": (10, 40),
    },
}

# Bundles handed out, with their weights: what a visit typically looks like.
BUNDLES: list[tuple[dict[str, int], int]] = [
    ({"NALOX-4MG": 2}, 20),
    ({"NALOX-4MG": 2, "SYR-1ML": 10}, 25),
    ({"SYR-1ML": 20, "SHARPS-1QT": 1}, 15),
    ({"SYR-1ML": 10, "FTS": 5}, 15),
    ({"FTS": 5, "XTS": 5}, 10),
    ({"NALOX-INJ": 1, "SYR-1ML": 10}, 5),
    ({"NALOX-4MG": 1, "FTS": 3}, 10),
]


@dataclass
class DemoSummary:
    days: int
    encounters: int = 0
    skipped_for_stock: int = 0
    receipts: int = 0
    transfers: int = 0
    adjustments: int = 0
    counts: int = 0
    events: int = 0
    notes: list[str] = field(default_factory=list)


def already_loaded(app: InventoryApplication) -> bool:
    """True when the demo (or any data) is already in the log."""
    return bool(app.recorder.max_notification_id())


def seed_demo(
    app: InventoryApplication,
    *,
    days: int = 90,
    end: date | None = None,
    seed: int = 20261123,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Record the demo program's catalog and `days` days of activity ending on `end` (yesterday)."""
    rng = random.Random(seed)
    end = end or (datetime.now(app.zone).date() - timedelta(days=1))
    start = end - timedelta(days=days - 1)
    summary = DemoSummary(days=days)
    _catalog(app, start)
    for offset in range(days):
        day = start + timedelta(days=offset)
        _one_day(app, rng, day, offset, summary)
        if progress:
            progress(1)
    _mistakes_and_late_entries(app, end, summary)
    summary.events = app.recorder.max_notification_id() or 0
    return summary


def _at(app: InventoryApplication, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=app.zone)


# Demo sign-ins: public on purpose, for trying the product. Never load the demo into real use.
DEMO_PASSWORD = "demo-password"
DEMO_USERS = [
    (ADMIN, "admin", []),
    (PURCHASING, "purchasing", []),
    ("grants@demo.example.org", "grant_manager", []),
    ("auditor@demo.example.org", "auditor", []),
    # Every actor in the demo's log is an account (the warehouse lead sends the van runs).
    *((email, "coordinator", [site]) for site, email in COORDINATORS.items()),
]


def _catalog(app: InventoryApplication, start: date) -> None:
    for code, name, kind in SITES:
        app.register_site(code=code, name=name, kind=kind, actor=ADMIN)
    for email, role, sites in DEMO_USERS:
        app.register_user(email=email, role=role, sites=sites, password=DEMO_PASSWORD, actor=ADMIN)
    for sku, name, category, unit, tracks, pack in ITEMS:
        app.register_item(
            sku=sku, name=name, category=category, unit=unit, tracks_expiry=tracks, pack_size=pack, actor=ADMIN
        )
    for code, name, federal, rules in FUNDING:
        app.register_funding_source(code=code, name=name, federal=federal, restrictions=rules, actor=ADMIN)
    for code, _name, kind in SITES:
        for sku, (reorder, par) in LEVELS[kind].items():
            lead = 14 if kind == "warehouse" else 3
            app.set_stock_level(
                site=code, sku=sku, reorder_point=reorder, par_level=par, lead_time_days=lead, actor=ADMIN
            )


def _receive_month(app: InventoryApplication, day: date, month: int, summary: DemoSummary) -> None:
    for sku, (funding, quantity, cost, shelf_days) in SUPPLY.items():
        expiry = day + timedelta(days=shelf_days) if shelf_days else None
        app.receive_stock(
            site="WH",
            sku=sku,
            lot=f"{sku[:3]}-{day:%y%m}-{month}",
            quantity=quantity,
            expires_on=expiry,
            funding_source=funding,
            unit_cost=cost,
            reference=f"Delivery note {day:%Y%m%d}-{sku}",
            actor=PURCHASING,
            occurred_at=_at(app, day, 7),  # before the 08:00 van run, which may send it on
        )
        summary.receipts += 1


def _restock(app: InventoryApplication, day: date, summary: DemoSummary) -> None:
    """Weekly van run from the warehouse: bring each site up to par."""
    for code, _name, kind in SITES[1:]:
        lines = []
        for sku, (_reorder, par) in LEVELS[kind].items():
            wanted = par - app.stock(code, sku)["on_hand"]
            available = app.stock("WH", sku)["on_hand"]
            quantity = min(wanted, available)
            if quantity > 0:
                lines.append({"sku": sku, "quantity": quantity})
        if not lines:
            continue
        sent = app.dispatch_transfer(
            from_site="WH", to_site=code, lines=lines, actor=COORDINATORS["WH"], occurred_at=_at(app, day, 8)
        )
        received: list[dict[str, Any]] | None = None
        if day.day % 17 == 0:  # now and then a box goes missing on the way
            received = [dict(line) for line in sent["lines"]]
            received[0]["quantity"] -= 1
        app.receive_transfer(
            # Unloaded at 08:40, before the fixed sites open at 09:00 (visits then draw on it).
            transfer_id=sent["id"],
            received=received,
            actor=COORDINATORS[code],
            occurred_at=_at(app, day, 8, 40),
        )
        summary.transfers += 1


def _one_day(app: InventoryApplication, rng: random.Random, day: date, offset: int, summary: DemoSummary) -> None:
    if offset % 30 == 0:
        _receive_month(app, day, offset // 30 + 1, summary)
    if day.day == 1:
        # The month-end count happens first thing, before the day's van run and visits.
        _month_end_count(app, rng, day, summary)
    if day.weekday() in (0, 3) or offset == 0:
        _restock(app, day, summary)
    visits = {"FIX-DT": rng.randint(14, 26), "FIX-EAST": rng.randint(8, 16)}
    if day.weekday() < 5:
        visits["VAN-1"] = rng.randint(10, 20)
    bundles, weights = zip(*BUNDLES, strict=True)
    for code, count in visits.items():
        opening, hours = (17, 4) if code == "VAN-1" else (9, 8)
        for number in range(count):
            bundle = rng.choices(bundles, weights)[0]
            minute = rng.randint(0, hours * 60 - 1)
            try:
                app.record_encounter(
                    key=f"demo-{code}-{day.isoformat()}-{number:03d}",
                    site=code,
                    lines=[{"sku": sku, "quantity": q} for sku, q in bundle.items()],
                    participant_code=_participant_code(rng) if rng.random() < 0.3 else None,
                    reversals_reported=1 if rng.random() < 0.04 else 0,
                    syringes_collected=rng.choice([0, 0, 5, 10, 20]) if "SYR-1ML" in bundle else 0,
                    refill_reason=rng.choice(["used_on_overdose", "lost", "first_kit"])
                    if "NALOX-4MG" in bundle
                    else None,
                    actor=COORDINATORS[code],
                    occurred_at=_at(app, day, opening + minute // 60, minute % 60),
                )
                summary.encounters += 1
            except InsufficientStock:
                summary.skipped_for_stock += 1
    if rng.random() < 0.08:
        _damage(app, rng, day, summary)


def _participant_code(rng: random.Random) -> str:
    """A random code of six, drawn again whenever it happens to read as a date (JUN12, 311299): the
    demo takes the same rule as everyone (inventory.domain.participant)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        code = "".join(rng.choice(alphabet) for _ in range(6))
        try:
            return check_participant_code(code) or code
        except InvalidInput:
            continue


def _damage(app: InventoryApplication, rng: random.Random, day: date, summary: DemoSummary) -> None:
    code = rng.choice(["FIX-DT", "FIX-EAST", "VAN-1"])
    stock = app.stock(code, "NALOX-4MG")
    if not stock["lots"]:
        return
    lot = stock["lots"][0]
    app.adjust_stock(
        site=code,
        sku="NALOX-4MG",
        lot=lot["lot"],
        quantity=-1,
        reason=rng.choice(["damaged", "lost"]),
        note="Box crushed in transit" if code == "VAN-1" else "",
        actor=COORDINATORS[code],
        occurred_at=_at(app, day, 17),
    )
    summary.adjustments += 1


def _mistakes_and_late_entries(app: InventoryApplication, end: date, summary: DemoSummary) -> None:
    """What a real week holds, on its last van night: a visit kept on the phone offline and sent after
    the end-of-night count (the count is restated, the kits count as handed out); a visit recorded
    twice and undone; a delivery typed 1000 for 100 and corrected; a transfer entered for the wrong van
    and voided."""
    night = end  # the count comes after the night's last visit, so it is compared with the stock now
    van = app.stock("VAN-1", "NALOX-4MG")
    lots = [lot for lot in van["lots"] if lot["quantity"] >= 4 and (lot["expires_on"] or night) >= night]
    if lots:
        first = min(lots, key=lambda lot: (lot["expires_on"] or date.max, lot["lot"]))
        app.count_stock(site="VAN-1", sku="NALOX-4MG", lot=first["lot"], counted=first["quantity"] - 2,
                        actor=COORDINATORS["VAN-1"], occurred_at=_at(app, night, 22, 10))  # fmt: skip
        app.record_encounter(key="demo-offline-visit-sent-late", site="VAN-1",
                             lines=[{"sku": "NALOX-4MG", "quantity": 2, "lot": first["lot"]}],
                             actor=COORDINATORS["VAN-1"], occurred_at=_at(app, night, 20, 55))  # fmt: skip
        summary.counts += 1
        summary.encounters += 1
        summary.notes.append("a visit sent from a phone after the count of its lot: the count is restated")
    twice = app.record_encounter(key="demo-entered-twice", site="FIX-DT", lines=[{"sku": "FTS", "quantity": 5}],
                                 actor=COORDINATORS["FIX-DT"], occurred_at=_at(app, end, 11, 5))  # fmt: skip
    app.void_visit(visit_id=twice["id"], reason="entered_twice", actor=COORDINATORS["FIX-DT"])
    typed = app.receive_stock(site="FIX-EAST", sku="SYR-1ML", lot="SYR-DEMO-TYPO", quantity=1000, expires_on=None,
                              funding_source="STATE-HR", actor=COORDINATORS["FIX-EAST"],
                              occurred_at=_at(app, end, 9, 30))  # fmt: skip
    app.correct_entry(position=typed["position"], quantity=100, reason="wrong_quantity", actor=ADMIN)
    summary.receipts += 1
    summary.notes.append("a visit entered twice and undone; a delivery typed 1000 for 100, corrected")
    if app.stock("WH", "FTS")["on_hand"] >= 20:
        wrong_van = app.dispatch_transfer(from_site="WH", to_site="VAN-1", lines=[{"sku": "FTS", "quantity": 20}],
                                          actor=COORDINATORS["WH"], occurred_at=_at(app, end, 8, 15))  # fmt: skip
        app.void_transfer(transfer_id=wrong_van["id"], reason="wrong_site", actor=COORDINATORS["WH"])
        summary.transfers += 1
        summary.notes.append("a transfer entered for the wrong van, voided: the strips never left the warehouse")


def _month_end_count(app: InventoryApplication, rng: random.Random, day: date, summary: DemoSummary) -> None:
    for code in ("FIX-DT", "FIX-EAST", "VAN-1"):
        for sku in ("NALOX-4MG", "FTS"):
            for lot in app.stock(code, sku)["lots"]:
                counted = max(lot["quantity"] + rng.choice([0, 0, 0, -1, -2, 1]), 0)
                app.count_stock(
                    site=code,
                    sku=sku,
                    lot=lot["lot"],
                    counted=counted,
                    actor=COORDINATORS[code],
                    occurred_at=_at(app, day, 8, 30),
                )
                summary.counts += 1
