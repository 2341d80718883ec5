"""Participants are anonymous: no event, read model or export has a field for a person's name, birth date,
phone or address (issue 20, must-show 4). Mail orders carry a carrier and a tracking reference only; partners
are organisations with a contact's role.

Every event class of every aggregate is read from the domain (so a new one is checked without being listed),
every read model's columns from its DDL, and the exports' headers from workbooks written from a log that has
a visit, a tally, a partner issue, a report back and a mail order. Fields named `name` or `email` are
allowed only where they name a thing or a member of staff, listed below with why.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import Aggregate, DomainEvent
from openpyxl import load_workbook

import inventory.domain
from exports.reports import Source, distribution_log, grant_report
from inventory.application import InventoryApplication
from inventory.projections import all_projections
from inventory.projections.runner import Projector
from inventory.projections.store import read_store_for
from tests.conftest import ADMIN, seed_catalog

PERSONAL = re.compile(
    r"(?i)(^|_)(name|first_?name|last_?name|surname|full_?name|birth|dob|born|age|phone|cell_?phone|telephone|"
    r"address|street|city|postcode|postal|zip|email|e_?mail|gender|sex|ssn|health_?card|photo)($|_)"
)
# Fields that match the pattern but name a thing, an organisation, or a member of staff: never a participant.
ALLOWED_EVENT_FIELDS = {
    ("Item.Registered", "name"),  # the product
    ("Site.Registered", "name"),  # the place
    ("FundingSource.Registered", "name"),  # the grant or donor
    ("Partner.Registered", "name"),  # the organisation (its contact is a role)
    ("Partner.Changed", "name"),
    ("RecipientType.Registered", "name"),  # the label of a kind of recipient
    ("User.Registered", "email"),  # staff accounts, never participants
}
ALLOWED_COLUMNS = {
    ("items", "name"),
    ("sites", "name"),
    ("funding_sources", "name"),
    ("partners", "name"),
    ("recipient_types", "name"),
    ("suppliers", "name"),  # a company the program buys from
    ("staff", "email"),
    ("staff_tokens", "email"),
    ("alert_deliveries", "email"),
}
# Cells that match the pattern: a product's, an organisation's or a grant's name (never a person's), and the
# staff account that recorded or asked (an email, as every audit needs).
ALLOWED = {"Harbour Shelter", "State harm reduction fund", "State Opioid Response (federal)", "Naloxone 4 mg nasal",
           "Syringe 1 mL", ADMIN}  # fmt: skip
NOW = datetime(2026, 5, 12, 18, 30, tzinfo=UTC)
pytestmark = pytest.mark.clock(NOW)


def event_classes() -> Iterator[type[DomainEvent]]:
    for found in pkgutil.iter_modules(inventory.domain.__path__):
        module = importlib.import_module(f"inventory.domain.{found.name}")
        for aggregate in vars(module).values():
            if (
                inspect.isclass(aggregate)
                and issubclass(aggregate, Aggregate)
                and aggregate.__module__ == module.__name__
            ):
                for member in vars(aggregate).values():
                    if inspect.isclass(member) and issubclass(member, DomainEvent):
                        yield member


def fields_of(event_class: type[DomainEvent]) -> set[str]:
    return {name for klass in event_class.__mro__ for name in getattr(klass, "__annotations__", {})}


def test_no_event_has_a_field_for_a_persons_details() -> None:
    classes = list(event_classes())
    names = {c.__qualname__ for c in classes}
    assert {"MailOrder.Sent", "Partner.Registered", "PartnerIssue.Recorded", "Encounter.Recorded"} <= names
    found = {
        (c.__qualname__, field)
        for c in classes
        for field in fields_of(c)
        if PERSONAL.search(field) and field != "originator_id_type"
    }
    assert found <= ALLOWED_EVENT_FIELDS, sorted(found - ALLOWED_EVENT_FIELDS)
    assert fields_of(inventory.domain.MailOrder.Sent) >= {"carrier", "tracking", "recipient"}


def test_no_read_model_has_a_column_for_a_persons_details() -> None:
    projections = all_projections(ZoneInfo("UTC"), b"k")
    found = set()
    for projection in projections:
        for ddl in projection.ddl:
            table = re.search(r"CREATE TABLE IF NOT EXISTS (\w+)", ddl)
            if table is None:
                continue
            body = ddl[ddl.index("(") + 1 :]
            for column in re.findall(r"(?:^|,)\s*(\w+)\s+(?:TEXT|BIGINT|INTEGER)", body):
                if PERSONAL.search(column):
                    found.add((table.group(1), column))
    assert found <= ALLOWED_COLUMNS, sorted(found - ALLOWED_COLUMNS)
    assert ("mail_orders", "tracking") not in found


@pytest.fixture
def program(sqlite_app: InventoryApplication, sqlite_url: str) -> Iterator[Source]:
    """A van's month: a visit, an issue to a shelter, a parcel, and the shelter's report back."""
    app = sqlite_app
    seed_catalog(app)
    app.receive_stock(site="VAN-1", sku="NALOX-4MG", lot="N-1", quantity=50, expires_on="2028-01-31",
                      funding_source="STATE", actor=ADMIN, occurred_at=NOW - timedelta(days=5))  # fmt: skip
    app.register_partner(code="SHELTER-1", name="Harbour Shelter", kind="shelter", contact_role="Shelter manager",
                         actor=ADMIN)  # fmt: skip
    app.record_encounter(key="privacy-visit-1", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 2}],
                         participant_code="K7QX2M", recipient="friend_or_family", for_others=3, actor=ADMIN,
                         occurred_at=NOW - timedelta(days=2))  # fmt: skip
    app.issue_to_partner(key="privacy-issue-1", site="VAN-1", partner="SHELTER-1",
                         lines=[{"sku": "NALOX-4MG", "quantity": 10}], actor=ADMIN,
                         occurred_at=NOW - timedelta(days=2))  # fmt: skip
    app.send_mail_order(key="privacy-mail-1", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 1}],
                        carrier="Canada Post", tracking="RR123456789CA", actor=ADMIN,
                        occurred_at=NOW - timedelta(days=1))  # fmt: skip
    app.report_back(partner="SHELTER-1", starts_on=date(2026, 5, 1), ends_on=date(2026, 5, 11), kits_distributed=6,
                    actor=ADMIN)  # fmt: skip
    store = read_store_for(sqlite_url)
    try:
        Projector(app, store, all_projections(app.zone, b"privacy")).catch_up()
        yield Source(app, store, app.zone)
    finally:
        store.close()


def cells(data: bytes) -> set[str]:
    """Every short text cell of a workbook (headings and labels; long sentences are explanations)."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    found: set[str] = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            found |= {value for value in row if isinstance(value, str) and len(value) < 60}
    return found


def test_no_export_has_a_column_for_a_persons_details_nor_a_parcels_tracking(program: Source, tmp_path: Path) -> None:
    start, end = date(2026, 5, 1), date(2026, 5, 31)
    log, grant = tmp_path / "log.xlsx", tmp_path / "grant.xlsx"
    distribution_log(program, str(log), start=start, end=end, who=ADMIN, participant_codes=True)
    grant_report(program, str(grant), funding_source=None, start=start, end=end, who=ADMIN)
    for path in (log, grant):
        text = cells(path.read_bytes())
        assert "RR123456789CA" not in text  # the carrier can tell who a parcel went to
        personal = {value for value in text if PERSONAL.search(value.replace(" ", "_")) and value not in ALLOWED}
        assert not personal, sorted(personal)
    sheets = load_workbook(log, read_only=True).sheetnames
    assert {"Recipient type", "Channel"} <= cells(log.read_bytes())
    assert {"Issued to partners", "Mail orders"} <= set(sheets)
