"""A realistic demo program: a warehouse, two fixed sites and a van, about 90 days of activity.

Deterministic: the same seed and end date record the same events.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

import time_machine

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
    ("NALOX-4MG", "Naloxone 4 mg nasal spray kit", "naloxone", "kit", True, 24),
    ("NALOX-INJ", "Naloxone 0.4 mg/mL injectable kit", "naloxone", "kit", True, 10),
    ("SYR-1ML", "Syringe 1 mL 29G", "syringe", "syringe", False, 100),
    ("FTS", "Fentanyl test strip", "test_strip", "strip", True, 100),
    ("XTS", "Xylazine test strip", "test_strip", "strip", True, 100),
    ("SHARPS-1QT", "Sharps container 1 qt", "sharps", "container", False, 24),
]

# A kit the drop-in makes from what it stocks: one naloxone kit and two fentanyl test strips.
KIT = ("KIT-OR", "Overdose response kit", [{"sku": "NALOX-4MG", "quantity": 1}, {"sku": "FTS", "quantity": 2}])
KIT_SITE = "FIX-DT"

# The packs the supplier's pack is called by (others may be added), and doses per unit: a kit holds two sprays.
UNITS = {
    "NALOX-4MG": ([{"name": "case", "units": 24}], 2),
    "SYR-1ML": ([{"name": "box", "units": 100}], None),
    "FTS": ([{"name": "box", "units": 100}], None),
    "XTS": ([{"name": "box", "units": 100}], None),
}

FUNDING = [
    ("SOR", "State Opioid Response grant (federal)", True, [{"category": "syringe", "starts_on": "2018-01-01"}]),
    ("STATE-HR", "State harm reduction fund", False, []),
    ("DONATIONS", "Private donations", False, []),
]

# What each item is paid from, and the warehouse's monthly delivery.
SUPPLY = {
    "NALOX-4MG": ("SOR", 1800, "41.00", 540),
    "NALOX-INJ": ("SOR", 150, "18.50", 400),
    "SYR-1ML": ("STATE-HR", 20000, "0.11", None),
    "FTS": ("SOR", 3000, "1.00", 365),
    "XTS": ("STATE-HR", 1500, "1.95", 300),
    "SHARPS-1QT": ("DONATIONS", 400, "2.40", None),
}

# Who each grant's orders go to.
SUPPLIERS = {"SOR": "Regional naloxone distributor", "STATE-HR": "Harm reduction supply cooperative"}

# Who makes each item: a receipt records the maker and the lot number it printed (a recall names them).
MAKERS = {"NALOX-4MG": "Emergent BioSolutions", "NALOX-INJ": "Hikma", "SYR-1ML": "BD", "FTS": "BTNX", "XTS": "BTNX",
          "SHARPS-1QT": "Sharps Compliance"}  # fmt: skip
# The notice of the recall on the story's last evening (of the injectable kits' first lot).
RECALL_NOTICE = "FDA Z-0417-2027"

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

# The vending machine's slots: reorder point and par level.
VENDING_LEVELS = {"NALOX-4MG": (6, 24), "FTS": (20, 60)}
# Partner organisations supplied from the warehouse, one a week in turn; the shelter has its own account.
PARTNERS = [
    ("SHELTER-1", "Harbour Shelter", "shelter", "Shelter manager"),
    ("CLINIC-2", "Eastside Community Clinic", "clinic", "Nurse lead"),
    ("PHARM-3", "Main Street Pharmacy", "pharmacy", "Pharmacist on duty"),
]
PARTNER_ACCOUNT, ITS_PARTNER = "shelter@demo.example.org", "SHELTER-1"
VENDING = ("VEND-1", "Library vending machine", "vending_machine")
# Who visitors collect for: the recipient type (with one the program added) and its weight.
RECIPIENT_WEIGHTS = [
    ("person_who_uses_drugs", 80),
    ("friend_or_family", 11),
    ("staff_other_org", 3),
    ("peer_worker", 4),
    ("other", 2),
]
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
    purchase_orders: int = 0
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
    """Record the demo program's catalog and `days` days of activity ending on `end` (yesterday), each
    event at the moment of the story it belongs to."""
    rng = random.Random(seed)
    end = end or (datetime.now(app.zone).date() - timedelta(days=1))
    start = end - timedelta(days=days - 1)
    summary = DemoSummary(days=days)
    first = _at(app, start, 6)
    # The story's clock: this process lives at each moment the demo records (time-machine moves
    # datetime.now and time.time), so every event is stamped when it would have been recorded and the log
    # reads as the program's days, not as one load: "as known then" on a past day, the audit history and
    # the correction window see the story's times. Only `inventory demo` (its own process) and tests run it.
    with time_machine.travel(first, tick=False) as traveller:
        story = Story(app, rng, start, end, summary, traveller, first)
        _catalog(app, start)
        for offset in range(days):
            story.day(start + timedelta(days=offset), offset)
            if progress:
                progress(1)
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
    # The partner shelter's own account: its page and its report back, nothing else.
    ("shelter@demo.example.org", "partner", []),
]


def _catalog(app: InventoryApplication, start: date) -> None:
    for code, name, kind in SITES:
        app.register_site(code=code, name=name, kind=kind, actor=ADMIN)
    for code, name, kind, role in PARTNERS:
        app.register_partner(code=code, name=name, kind=kind, contact_role=role, actor=ADMIN)
    for email, role, sites in DEMO_USERS:
        app.register_user(email=email, role=role, sites=sites, password=DEMO_PASSWORD, actor=ADMIN,
                          partner=ITS_PARTNER if email == PARTNER_ACCOUNT else None)  # fmt: skip
    for sku, name, category, unit, tracks, pack in ITEMS:
        app.register_item(
            sku=sku, name=name, category=category, unit=unit, tracks_expiry=tracks, pack_size=pack, actor=ADMIN
        )
    for sku, (packs, doses) in UNITS.items():
        app.change_item_units(sku=sku, packs=packs, doses_per_unit=doses, actor=ADMIN)
    for code, name, federal, rules in FUNDING:
        app.register_funding_source(code=code, name=name, federal=federal, restrictions=rules, actor=ADMIN)
    app.register_item(sku=KIT[0], name=KIT[1], category="kit", unit="kit", tracks_expiry=True, actor=ADMIN)
    app.set_kit_recipe(kit_sku=KIT[0], components=KIT[2], effective_from=start, actor=ADMIN)
    for code, _name, kind in SITES:
        for sku, (reorder, par) in LEVELS[kind].items():
            lead = 14 if kind == "warehouse" else 3
            app.set_stock_level(
                site=code, sku=sku, reorder_point=reorder, par_level=par, lead_time_days=lead, actor=ADMIN
            )
    # Who it went to: a recipient type the program added, a vending machine (the partners are above).
    app.add_recipient_type(code="peer_worker", name="Peer worker", actor=ADMIN)
    app.register_site(code=VENDING[0], name=VENDING[1], kind=VENDING[2], actor=ADMIN)
    for sku, (reorder, par) in VENDING_LEVELS.items():
        app.set_stock_level(site=VENDING[0], sku=sku, reorder_point=reorder, par_level=par, lead_time_days=7,
                            actor=ADMIN)  # fmt: skip


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


Action = Callable[[], None]


class Story:
    """The program's days, each recorded in the order it happened, at the moment it happened."""

    def __init__(
        self,
        app: InventoryApplication,
        rng: random.Random,
        start: date,
        end: date,
        summary: DemoSummary,
        clock: time_machine.Traveller,
        now: datetime,
    ) -> None:
        self.app, self.rng, self.start, self.end, self.summary = app, rng, start, end, summary
        self.clock, self.now = clock, now.astimezone(UTC)
        self.orders: dict[tuple[int, str], str] = {}  # (delivery offset, funding source) -> order id
        # Who it went to is drawn from a generator of its own, so the rest of the story stays as it was.
        self.reach = random.Random(start.toordinal())
        self.returns: list[tuple[date, str]] = []  # (the day it comes back, the mail order)

    def at(self, moment: datetime) -> None:
        """Move the clock to `moment`; it never goes back (what is recorded later is stamped later)."""
        moment = moment.astimezone(UTC)  # (aware datetimes of one zone subtract as if naive, across DST too)
        if moment > self.now:
            self.clock.shift(moment - self.now)
            self.now = moment

    def day(self, day: date, offset: int) -> None:
        plan: list[tuple[datetime, Action]] = []
        app = self.app

        def add(hour: int, minute: int, action: Action) -> None:
            plan.append((_at(app, day, hour, minute), action))

        self._purchasing(day, offset, add)
        if offset == 0:
            add(7, 0, lambda: self._opening_stock(day))
        if day.day == 1 and offset > 0:
            add(7, 30, lambda: self._month_end_count(day))  # first thing, before the van run and the visits
        regular = day.weekday() in (0, 3) or offset == 0
        add(8, 0, lambda: self._restock(day, only_short=not regular))
        self._visits(day, add)
        self._beyond_the_sites(day, offset, add)
        if self.rng.random() < 0.08:
            code, reason = self.rng.choice(["FIX-DT", "FIX-EAST", "VAN-1"]), self.rng.choice(["damaged", "lost"])
            add(16, 45, lambda: self._damage(day, code, reason))
        if offset == 1:
            add(10, 30, lambda: self._make_kits(12))
        self._this_week(day, add)
        for moment, action in sorted(plan, key=lambda step: step[0]):
            self.at(moment)
            action()

    # The warehouse's supplies: one purchase order a month per grant, drafted twelve days before the
    # delivery, sent the next day, received at 07:00 on the day and closed; donations come straight in.

    def _purchasing(self, day: date, offset: int, add: Callable[[int, int, Action], None]) -> None:
        days = (self.end - self.start).days + 1
        deliveries = range(30, days, 30)
        for delivery in deliveries:
            for funding in ("SOR", "STATE-HR"):
                if offset == delivery - 12:
                    add(10, 0, partial(self._raise_order, delivery, funding, day))
                if offset == delivery - 11:
                    add(9, 30, partial(self._submit_order, delivery, funding))
                if offset == delivery:
                    short = delivery == deliveries[-1] and funding == "STATE-HR"
                    add(7, 0, partial(self._receive_order, delivery, funding, day, short=short))
            if offset == delivery:
                add(7, 0, partial(self._donations, day))
        # Next month's orders, still open when the story ends: the grant's is sent and on its way, the
        # state fund's drafted on the last afternoon, waiting for the budget holder's sign-off.
        if offset == days - 8:
            add(10, 0, partial(self._raise_order, days, "SOR", day))
        if offset == days - 7:
            add(9, 30, partial(self._submit_order, days, "SOR"))
        if offset == days - 1:
            add(15, 0, partial(self._raise_order, days, "STATE-HR", day))

    def _lines(self, funding: str) -> list[tuple[str, int, str, int | None]]:
        return [
            (sku, quantity, cost, shelf) for sku, (source, quantity, cost, shelf) in SUPPLY.items() if source == funding
        ]

    def _raise_order(self, delivery: int, funding: str, day: date) -> None:
        order = self.app.raise_purchase_order(
            supplier=SUPPLIERS[funding],
            site="WH",
            funding_source=funding,
            lines=[
                {"sku": sku, "quantity": quantity, "unit_cost": cost} for sku, quantity, cost, _ in self._lines(funding)
            ],
            number=f"PO-{day:%y%m%d}-{funding}",  # raised on different days: never the same number twice
            actor=PURCHASING,
        )
        self.orders[(delivery, funding)] = order["id"]
        self.summary.purchase_orders += 1

    def _submit_order(self, delivery: int, funding: str) -> None:
        self.app.submit_purchase_order(order_id=self.orders[(delivery, funding)], actor=PURCHASING)

    def _receive_order(self, delivery: int, funding: str, day: date, *, short: bool) -> None:
        """The delivery against its order; the last syringe delivery comes short (the rest on back order),
        so its order stays open, partly received."""
        lines = []
        for sku, quantity, _cost, shelf in self._lines(funding):
            arrived = quantity * 3 // 5 if short and sku == "SYR-1ML" else quantity
            lines.append({"sku": sku, "lot": _lot(sku, day, delivery), "quantity": arrived,
                          "expires_on": day + timedelta(days=shelf) if shelf else None,
                          "manufacturer": MAKERS[sku], "manufacturer_lot": _lot(sku, day, delivery)})  # fmt: skip
        the_id = self.orders[(delivery, funding)]
        self.app.receive_purchase_order(order_id=the_id, lines=lines, actor=PURCHASING)
        self.summary.receipts += len(lines)
        if not short:
            self.at(self.now + timedelta(minutes=15))
            self.app.close_purchase_order(order_id=the_id, actor=PURCHASING)
        else:
            self.summary.notes.append("a syringe delivery came short: its purchase order is partly received")

    def _opening_stock(self, day: date) -> None:
        """The stock on the shelves when the program started using the service."""
        for sku, (funding, quantity, cost, shelf) in SUPPLY.items():
            self.app.receive_stock(site="WH", sku=sku, lot=_lot(sku, day, 0), quantity=quantity,
                                   expires_on=day + timedelta(days=shelf) if shelf else None,
                                   funding_source=funding, unit_cost=cost, reference="Opening stock",
                                   manufacturer=MAKERS[sku], manufacturer_lot=_lot(sku, day, 0),
                                   actor=PURCHASING)  # fmt: skip
            self.summary.receipts += 1

    def _donations(self, day: date) -> None:
        for sku, quantity, cost, _shelf in self._lines("DONATIONS"):
            self.app.receive_stock(site="WH", sku=sku, lot=_lot(sku, day, 1), quantity=quantity, expires_on=None,
                                   funding_source="DONATIONS", unit_cost=cost,
                                   reference=f"Donation note {day:%Y%m%d}", actor=PURCHASING)  # fmt: skip
            self.summary.receipts += 1

    def _restock(self, day: date, *, only_short: bool) -> None:
        """The van run from the warehouse, twice a week: bring each site up to par. On the other days a
        site below half its par in anything asks for a top-up run that morning (a busy week never turns
        people away)."""
        app = self.app
        for code, _name, kind in SITES[1:]:
            levels = LEVELS[kind]
            if only_short and all(app.stock(code, sku)["on_hand"] >= par / 2 for sku, (_, par) in levels.items()):
                continue
            lines = []
            for sku, (_reorder, par) in levels.items():
                quantity = min(par - app.stock(code, sku)["on_hand"], app.stock("WH", sku)["on_hand"])
                if quantity > 0:
                    lines.append({"sku": sku, "quantity": quantity})
            if not lines:
                continue
            self.at(_at(app, day, 8, 0))
            sent = app.dispatch_transfer(from_site="WH", to_site=code, lines=lines, actor=COORDINATORS["WH"])
            received: list[dict[str, Any]] | None = None
            if day.day % 17 == 0:  # now and then a box goes missing on the way
                received = [dict(line) for line in sent["lines"]]
                received[0]["quantity"] -= 1
            # Unloaded at 08:40, before the fixed sites open at 09:00 (visits then draw on it).
            self.at(_at(app, day, 8, 40))
            app.receive_transfer(transfer_id=sent["id"], received=received, actor=COORDINATORS[code])
            self.summary.transfers += 1

    def _visits(self, day: date, add: Callable[[int, int, Action], None]) -> None:
        rng = self.rng
        visits = {"FIX-DT": rng.randint(14, 26), "FIX-EAST": rng.randint(8, 16)}
        if day.weekday() < 5:
            visits["VAN-1"] = rng.randint(10, 20)
        bundles, weights = zip(*BUNDLES, strict=True)
        for code, count in visits.items():
            opening, hours = (17, 4) if code == "VAN-1" else (9, 8)
            for number in range(count):
                bundle = rng.choices(bundles, weights)[0]
                minute = rng.randint(0, hours * 60 - 1)
                visit = {
                    "key": f"demo-{code}-{day.isoformat()}-{number:03d}",
                    "site": code,
                    "lines": [{"sku": sku, "quantity": q} for sku, q in bundle.items()],
                    "participant_code": _participant_code(rng) if rng.random() < 0.3 else None,
                    "reversals_reported": 1 if rng.random() < 0.04 else 0,
                    "syringes_collected": rng.choice([0, 0, 5, 10, 20]) if "SYR-1ML" in bundle else 0,
                    "refill_reason": rng.choice(["used_on_overdose", "lost", "first_kit"])
                    if "NALOX-4MG" in bundle
                    else None,
                    "actor": COORDINATORS[code],
                    **self._who(code, bundle),
                }
                add(opening + minute // 60, minute % 60, partial(self._visit, visit))

    def _who(self, code: str, bundle: dict[str, int]) -> dict[str, Any]:
        """Who a visit is for and how it left: mostly for the visitor; some collect kits for others; a third of
        the van's visits are on foot, away from the van (outreach)."""
        rng = self.reach
        recipients, weights = zip(*RECIPIENT_WEIGHTS, strict=True)
        naloxone = "NALOX-4MG" in bundle or "NALOX-INJ" in bundle
        return {
            "recipient": rng.choices(recipients, weights)[0],
            "for_others": rng.randint(1, 5) if naloxone and rng.random() < 0.15 else 0,
            "channel": "outreach" if code == "VAN-1" and rng.random() < 0.33 else None,
        }

    # Beyond the sites: a partner supplied each Wednesday, parcels on Tuesdays and Fridays, the vending
    # machine stocked on Mondays and dispensing every day, the partners' reports on the 3rd of the month.

    def _beyond_the_sites(self, day: date, offset: int, add: Callable[[int, int, Action], None]) -> None:
        if day.weekday() == 2:
            add(14, 0, partial(self._supply_partner, day, offset))
        if day.weekday() in (1, 4):
            add(15, 30, partial(self._parcel, day))
        if day.weekday() == 0 or offset == 0:
            add(8, 20, partial(self._stock_machine, day))
        if offset > 0:
            for number in range(self.reach.randint(0, 4)):
                minute = self.reach.randint(0, 12 * 60 - 1)
                add(9 + minute // 60, minute % 60, partial(self._dispense, day, number))
        if day.day == 3 and offset > 2:
            add(10, 0, partial(self._partners_report, day))

    def _supply_partner(self, day: date, offset: int) -> None:
        code = PARTNERS[(offset // 7) % len(PARTNERS)][0]
        lines = [{"sku": "NALOX-4MG", "quantity": self.reach.randint(12, 24)}, {"sku": "FTS", "quantity": 50}]
        with contextlib.suppress(InsufficientStock):
            self.app.issue_to_partner(key=f"demo-partner-{day.isoformat()}", site="WH", partner=code, lines=lines,
                                      actor=COORDINATORS["WH"])  # fmt: skip

    def _parcel(self, day: date) -> None:
        rng = self.reach
        lines = [{"sku": "NALOX-4MG", "quantity": 2}, {"sku": "FTS", "quantity": 10}]
        with contextlib.suppress(InsufficientStock):
            sent = self.app.send_mail_order(
                key=f"demo-parcel-{day.isoformat()}", site="WH", lines=lines, carrier="Canada Post",
                tracking=f"RR{rng.randint(10**8, 10**9 - 1)}CA", recipient="person_who_uses_drugs",
                for_others=rng.choice([0, 0, 1, 2]), actor=COORDINATORS["WH"],
            )  # fmt: skip
            if rng.random() < 0.15:  # now and then a parcel comes back: no one at the address
                self.returns.append((day + timedelta(days=6), sent["id"]))
        for when, parcel in [item for item in self.returns if item[0] == day]:
            self.app.parcel_returned(mail_order=parcel, actor=COORDINATORS["WH"])
            self.returns.remove((when, parcel))

    def _stock_machine(self, day: date) -> None:
        app, machine = self.app, VENDING[0]
        lines = []
        for sku, (_reorder, par) in VENDING_LEVELS.items():
            quantity = min(par - app.stock(machine, sku)["on_hand"], app.stock("WH", sku)["on_hand"])
            if quantity > 0:
                lines.append({"sku": sku, "quantity": quantity})
        if lines:
            sent = app.dispatch_transfer(from_site="WH", to_site=machine, lines=lines, actor=COORDINATORS["WH"])
            app.receive_transfer(transfer_id=sent["id"], actor=COORDINATORS["WH"])
            self.summary.transfers += 1

    def _dispense(self, day: date, number: int) -> None:
        """What the machine dispensed, as its export would say (a transaction id of its own)."""
        sku = "NALOX-4MG" if self.reach.random() < 0.6 else "FTS"
        quantity = 1 if sku == "NALOX-4MG" else 5
        if self.app.stock(VENDING[0], sku)["on_hand"] < quantity:
            return  # the slot is empty: the machine dispenses nothing
        self.app.record_dispense(site=VENDING[0], transaction=f"V1-{day:%Y%m%d}-{number:02d}", sku=sku,
                                 quantity=quantity, dispensed_at=self.now, actor=COORDINATORS["WH"])  # fmt: skip

    def _partners_report(self, day: date) -> None:
        """Each partner's report for last month: the shelter enters its own, the others' come by phone."""
        last = day.replace(day=1) - timedelta(days=1)
        first = max(last.replace(day=1), self.start)
        for code, _name, _kind, _role in PARTNERS:
            who = PARTNER_ACCOUNT if code == ITS_PARTNER else COORDINATORS["FIX-EAST"]
            rng = self.reach
            self.app.report_back(partner=code, starts_on=first, ends_on=last, kits_distributed=rng.randint(20, 60),
                                 reversals_reported=rng.randint(0, 4), kits_remaining=rng.randint(0, 15),
                                 actor=who)  # fmt: skip

    def _visit(self, visit: dict[str, Any]) -> None:
        try:
            self.app.record_encounter(**visit)
            self.summary.encounters += 1
        except InsufficientStock:
            self.summary.skipped_for_stock += 1

    def _damage(self, day: date, code: str, reason: str) -> None:
        stock = self.app.stock(code, "NALOX-4MG")
        if not stock["lots"]:
            return
        self.app.adjust_stock(site=code, sku="NALOX-4MG", lot=stock["lots"][0]["lot"], quantity=-1, reason=reason,
                              note="Box crushed in transit" if code == "VAN-1" else "",
                              actor=COORDINATORS[code])  # fmt: skip
        self.summary.adjustments += 1

    def _month_end_count(self, day: date) -> None:
        for code in ("FIX-DT", "FIX-EAST", "VAN-1"):
            for sku in ("NALOX-4MG", "FTS"):
                for lot in self.app.stock(code, sku)["lots"]:
                    counted = max(lot["quantity"] + self.rng.choice([0, 0, 0, -1, -2, 1]), 0)
                    self.app.count_stock(site=code, sku=sku, lot=lot["lot"], counted=counted,
                                         actor=COORDINATORS[code])  # fmt: skip
                    self.summary.counts += 1

    # What a real last week holds.

    def _this_week(self, day: date, add: Callable[[int, int, Action], None]) -> None:
        days_left = (self.end - day).days
        if days_left == min(20, (self.end - self.start).days - 1):  # three weeks before the end, or day two
            add(10, 15, lambda: self._short_dated_donation(day))
        if days_left == 1 and day > self.start:
            add(9, 10, lambda: self._paper_tally_entered_late(day))
        if days_left == 1 and (day - self.start).days > 1:
            add(12, 55, lambda: self._kit_visits(day))
        if days_left == 0:
            add(8, 15, lambda: self._wrong_van(day))
            add(9, 30, lambda: self._typed_1000_for_100(day))
            add(11, 5, lambda: self._entered_twice(day))
            add(20, 40, lambda: self._last_strips(day))
            add(22, 10, lambda: self._count_then_late_visit(day))
            add(22, 30, lambda: self._recall())
            add(22, 50, lambda: self._warehouse_returns_the_recalled())

    def _make_kits(self, kits: int) -> None:
        """The drop-in makes overdose response kits from its naloxone and test strips (first to expire first)."""
        self.app.assemble_kits(site=KIT_SITE, kit_sku=KIT[0], quantity=kits, actor=COORDINATORS[KIT_SITE])
        self.summary.notes.append(f"{kits} overdose response kits made at {KIT_SITE}: each part keeps its funder")

    def _kit_visits(self, day: date) -> None:
        """Two visits at the drop-in that take a kit each."""
        for number in range(2):
            self.at(_at(self.app, day, 13 + 3 * number, 5))
            self.app.record_encounter(key=f"kit-visit-{day:%Y%m%d}-{number}", site=KIT_SITE,
                                      actor=COORDINATORS[KIT_SITE], lines=[{"sku": KIT[0], "quantity": 1}])  # fmt: skip
            self.summary.encounters += 1

    def _recalled_lot(self) -> str:
        """The injectable kits' first delivery after the opening stock (the opening lot if the story is too short)."""
        deliveries = list(range(30, (self.end - self.start).days + 1, 30))
        if not deliveries:
            return _lot("NALOX-INJ", self.start, 0)
        return _lot("NALOX-INJ", self.start + timedelta(days=deliveries[0]), deliveries[0])

    def _recall(self) -> None:
        """The maker recalls an injectable kits' lot: it is held at every site at once, and each site
        holding it has an alert to pull it."""
        lot = self._recalled_lot()
        sites = [code for code, _name, _kind in SITES] + [VENDING[0]]
        self.app.announce_recall(manufacturer=MAKERS["NALOX-INJ"], manufacturer_lot=lot, notice=RECALL_NOTICE,
                                 lots=[{"sku": "NALOX-INJ", "lot": lot}], sites=sites, actor=PURCHASING)  # fmt: skip
        self.summary.notes.append(f"a recall of {MAKERS['NALOX-INJ']} lot {lot}: held wherever it is")

    def _warehouse_returns_the_recalled(self) -> None:
        """The warehouse sends its recalled kits back to the supplier the same evening; the sites have not yet."""
        lot = self._recalled_lot()
        left = next((row["quantity"] for row in self.app.stock("WH", "NALOX-INJ")["lots"] if row["lot"] == lot), 0)
        if left:
            self.app.write_off_lot(site="WH", sku="NALOX-INJ", lot=lot, quantity=left,
                                   disposition="returned_to_supplier", actor=COORDINATORS["WH"])  # fmt: skip

    def _short_dated_donation(self, day: date) -> None:
        """A partner program's short-dated injectable kits: a lot that expires within the alert horizon."""
        self.app.receive_stock(site="FIX-EAST", sku="NALOX-INJ", lot=f"NXI-DON-{day:%y%m}", quantity=24,
                               expires_on=self.end + timedelta(days=40), funding_source="DONATIONS",
                               reference="Donation from a partner program (short-dated)",
                               actor=COORDINATORS["FIX-EAST"])  # fmt: skip
        self.summary.receipts += 1
        self.summary.notes.append("a short-dated donation at FIX-EAST: its lot expires within the alert horizon")

    def _paper_tally_entered_late(self, day: date) -> None:
        """A street-outreach visit written on paper yesterday afternoon, entered this morning (backdated)."""
        before = self.summary.encounters
        self._visit({"key": "demo-backdated-outreach-visit", "site": "FIX-DT", "refill_reason": "first_kit",
                     "lines": [{"sku": "NALOX-4MG", "quantity": 2}], "actor": COORDINATORS["FIX-DT"],
                     "occurred_at": _at(self.app, day - timedelta(days=1), 15, 0)})  # fmt: skip
        if self.summary.encounters > before:
            self.summary.notes.append("a visit written on paper, entered the next morning with its own time")

    def _wrong_van(self, day: date) -> None:
        app = self.app
        if app.stock("WH", "FTS")["on_hand"] < 20:
            return
        wrong = app.dispatch_transfer(from_site="WH", to_site="VAN-1", lines=[{"sku": "FTS", "quantity": 20}],
                                      actor=COORDINATORS["WH"])  # fmt: skip
        self.at(self.now + timedelta(minutes=10))
        app.void_transfer(transfer_id=wrong["id"], reason="wrong_site", actor=COORDINATORS["WH"])
        self.summary.transfers += 1
        self.summary.notes.append("a transfer entered for the wrong van, voided: the strips never left the warehouse")

    def _typed_1000_for_100(self, day: date) -> None:
        typed = self.app.receive_stock(site="FIX-EAST", sku="SYR-1ML", lot="SYR-DEMO-TYPO", quantity=1000,
                                       expires_on=None, funding_source="STATE-HR",
                                       actor=COORDINATORS["FIX-EAST"])  # fmt: skip
        self.at(self.now + timedelta(minutes=25))
        self.app.correct_entry(position=typed["position"], quantity=100, reason="wrong_quantity", actor=ADMIN)
        self.summary.receipts += 1
        self.summary.notes.append("a delivery typed 1000 for 100, corrected")

    def _entered_twice(self, day: date) -> None:
        if self.app.stock("FIX-DT", "FTS")["on_hand"] < 5:
            return
        twice = self.app.record_encounter(key="demo-entered-twice", site="FIX-DT",
                                          lines=[{"sku": "FTS", "quantity": 5}],
                                          actor=COORDINATORS["FIX-DT"])  # fmt: skip
        self.at(self.now + timedelta(minutes=4))
        self.app.void_visit(visit_id=twice["id"], reason="entered_twice", actor=COORDINATORS["FIX-DT"])
        self.summary.notes.append("a visit entered twice and undone")

    def _last_strips(self, day: date) -> None:
        """A group at the van's last stop takes its last xylazine strips: the van is out until its next run."""
        left = self.app.stock("VAN-1", "XTS")["on_hand"]
        if left > 0:
            self._visit({"key": "demo-van-last-strips", "site": "VAN-1", "lines": [{"sku": "XTS", "quantity": left}],
                         "actor": COORDINATORS["VAN-1"]})  # fmt: skip
            self.summary.notes.append("the van handed out its last xylazine strips: out of stock until the next run")

    def _count_then_late_visit(self, day: date) -> None:
        """The van's end-of-night count, then a visit kept on a phone offline and sent after it: the count
        is restated and the kits count as handed out."""
        app = self.app
        van = app.stock("VAN-1", "NALOX-4MG")
        lots = [lot for lot in van["lots"] if lot["quantity"] >= 4 and (lot["expires_on"] or day) >= day]
        if not lots:
            return
        first = min(lots, key=lambda lot: (lot["expires_on"] or date.max, lot["lot"]))
        app.count_stock(site="VAN-1", sku="NALOX-4MG", lot=first["lot"], counted=first["quantity"] - 2,
                        actor=COORDINATORS["VAN-1"])  # fmt: skip
        self.at(self.now + timedelta(minutes=5))
        app.record_encounter(key="demo-offline-visit-sent-late", site="VAN-1",
                             lines=[{"sku": "NALOX-4MG", "quantity": 2, "lot": first["lot"]}],
                             actor=COORDINATORS["VAN-1"], occurred_at=_at(app, day, 20, 55))  # fmt: skip
        self.summary.counts += 1
        self.summary.encounters += 1
        self.summary.notes.append("a visit sent from a phone after the count of its lot: the count is restated")


def _lot(sku: str, day: date, batch: int) -> str:
    """A lot number as the manufacturer prints it: prefix, year and month, and the delivery's batch."""
    return f"{LOT_PREFIX[sku]}-{day:%y%m}-{batch}"
