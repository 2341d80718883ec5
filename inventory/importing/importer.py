"""The import itself: check every row, then record the good ones through the application's verbs.

Nothing is written while any row is bad, unless the caller asks to skip bad rows. Each thing is
recorded once: a site, item or funding source already registered with the same details is left
as it is (with other details it is a row to fix), and an opening balance already recorded for a
site, item and lot by an import is not recorded again, whichever file it came from. So importing
the same file twice records nothing the second time, and a file fixed after a partial import
records only the rows that were missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from inventory.adapters.locks import IMPORTS
from inventory.application import InventoryApplication
from inventory.domain import StockLedger, ledger_id
from inventory.domain.errors import InventoryError, UnknownFundingSource, UnknownItem, UnknownSite
from inventory.domain.values import Category, Restriction
from inventory.importing.checking import (
    FundingRow,
    ItemRow,
    OpeningRow,
    SiteRow,
    funding_row,
    item_row,
    opening_row,
    problems_of,
    site_row,
    typed,
)
from inventory.importing.reading import ImportFile, Problem, Row, file_digest
from inventory.importing.sheets import FUNDING, ITEMS, OPENING, SITES

OPENING_BALANCE = "Opening balance"
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    """What an import found and did."""

    file: str
    digest: str
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    recorded: dict[str, int] = field(default_factory=lambda: {"sites": 0, "items": 0, "funding sources": 0, "lots": 0})
    already: int = 0
    written: bool = False

    @property
    def bad_rows(self) -> int:
        return len({(p.sheet, p.row) for p in self.problems})

    @property
    def nothing_new(self) -> bool:
        return self.written and not any(self.recorded.values())

    def summary(self) -> str:
        """One sentence a coordinator can act on."""
        if not self.written:
            return (
                f"Nothing was imported: {self.bad_rows} row(s) of {self.rows} need fixing (listed below). "
                "Fix them and import the file again, or import the good rows and leave these out."
            )
        if self.nothing_new:
            left = f" {self.bad_rows} bad row(s) were left out." if self.problems else ""
            return f"Nothing new: everything in {self.file} was already recorded.{left}"
        parts = ", ".join(f"{count} {what}" for what, count in self.recorded.items() if count)
        done = f"Imported from {self.file}: {parts}."
        if self.already:
            done += f" {self.already} row(s) were already recorded and were left as they are."
        if self.problems:
            done += f" {self.bad_rows} bad row(s) were left out (listed below)."
        return done


@dataclass
class _Plan:
    """What the rows would record, and which rows of each sheet to leave out."""

    sites: list[tuple[int, SiteRow]] = field(default_factory=list)
    items: list[tuple[int, ItemRow]] = field(default_factory=list)
    funding_rows: dict[str, int] = field(default_factory=dict)  # code -> its first row
    funding: dict[str, FundingRow] = field(default_factory=dict)
    new_funding: list[str] = field(default_factory=list)
    bad_funding: set[str] = field(default_factory=set)
    opening_to_write: set[int] = field(default_factory=set)
    site_codes: dict[str, str] = field(default_factory=dict)  # code -> "" if usable, else why not
    categories: dict[str, str | None] = field(default_factory=dict)  # sku -> category, None if unusable
    tracks_expiry: dict[str, bool] = field(default_factory=dict)
    rules: dict[str, list[Restriction] | None] = field(default_factory=dict)  # funding code -> rules


class Importer:
    """Import one file as one user."""

    def __init__(
        self,
        app: InventoryApplication,
        path: Path,
        *,
        actor: str,
        name: str | None = None,
        skip_invalid: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.app = app
        self.file = ImportFile(path, name)
        self.actor = actor
        self.skip_invalid = skip_invalid
        self.progress = progress or (lambda _n: None)
        self.moment = datetime.now(UTC)
        self.day = app.business_day(self.moment)
        self.report = ImportReport(self.file.name, file_digest(path))
        self.plan = _Plan()
        self._opening: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

    def run(self) -> ImportReport:
        """Check every row; write the good ones when there is no bad one or bad ones are to be skipped."""
        sheets = self.file.sheets()
        if not sheets:
            names = ", ".join(s.name for s in (SITES, ITEMS, FUNDING, OPENING))
            self.report.problems.append(
                Problem("", 1, "", f"{self.file.name} holds none of the sheets {names}: use the import template.")
            )
            return self.report
        self.sheets = {sheet.name for sheet in sheets}
        # One import at a time, across processes: the same file sent twice at once (a double click,
        # two admins) must not record its opening balances twice. The second checks after the first
        # has written, finds them in the log, and records nothing new.
        with self.app.locks.named(IMPORTS):
            self._check()
            if self.report.problems and not self.skip_invalid:
                return self.report
            self._write()
        self.report.written = True
        return self.report

    # ----- checking -------------------------------------------------------------------------

    def _rows(self, sheet: Any) -> Any:
        if sheet.name not in self.sheets:
            return
        for row in self.file.rows(sheet):
            self.report.rows += 1
            self.progress(1)
            yield row

    def _bad(self, row: Row, column: str, message: str) -> None:
        self.report.problems.append(Problem(row.sheet, row.number, column, message, typed(row)))

    def _check(self) -> None:
        self._check_sites()
        self._check_items()
        self._check_funding()
        self._check_opening()
        self.report.problems.sort(
            key=lambda p: (
                [SITES.name, ITEMS.name, FUNDING.name, OPENING.name].index(p.sheet) if p.sheet in self.sheets else 9,
                p.row,
            )
        )

    def _check_sites(self) -> None:
        seen: dict[str, tuple[int, SiteRow]] = {}
        for row in self._rows(SITES):
            found, problems = problems_of(row, site_row)
            self.report.problems.extend(problems)
            if found is None:
                continue
            if self._duplicate(row, "code", found.code, found, seen):
                continue
            try:
                known = self.app.site(found.code)
            except UnknownSite:
                self.plan.sites.append((row.number, found))
                self.plan.site_codes[found.code] = ""
                continue
            if (known["name"], known["kind"]) != (found.name, found.kind):
                self._bad(
                    row,
                    "name",
                    f"Site {found.code} is already registered as {known['name']!r} "
                    f"({known['kind']}): make this row match, or use another code.",
                )
                continue
            self.report.already += 1

    def _duplicate(self, row: Row, column: str, key: str, found: Any, seen: dict[str, tuple[int, Any]]) -> bool:
        """Report a second row for the same code; True when this row is not to be used."""
        if key in seen:
            first, earlier = seen[key]
            if earlier == found:
                self._bad(row, column, f"Duplicate row: row {first} already has {key}. Delete this row.")
            else:
                self._bad(row, column, f"{key} is already on row {first} with other details: keep one row for it.")
            return True
        seen[key] = (row.number, found)
        return False

    def _check_items(self) -> None:
        seen: dict[str, tuple[int, ItemRow]] = {}
        for row in self._rows(ITEMS):
            found, problems = problems_of(row, item_row)
            self.report.problems.extend(problems)
            if found is None:
                continue
            if self._duplicate(row, "sku", found.sku, found, seen):
                continue
            try:
                known = self.app.item(found.sku)
            except UnknownItem:
                self.plan.items.append((row.number, found))
                self.plan.categories[found.sku] = found.category
                self.plan.tracks_expiry[found.sku] = found.tracks_expiry
                continue
            same = (known["name"], known["category"], known["unit"], known["tracks_expiry"], known["pack_size"]) == (
                found.name,
                found.category,
                found.unit,
                found.tracks_expiry,
                found.pack_size,
            )
            if not same:
                self._bad(
                    row,
                    "name",
                    f"Item {found.sku} is already registered as {known['name']!r} "
                    f"({known['category']}, {known['unit']}, tracks expiry: "
                    f"{'yes' if known['tracks_expiry'] else 'no'}, pack size {known['pack_size']}): "
                    "make this row match, or use another SKU.",
                )
                continue
            self.report.already += 1

    def _check_funding(self) -> None:
        seen_rules: dict[tuple[str, Restriction | None], int] = {}
        first_row: dict[str, int] = {}
        for row in self._rows(FUNDING):
            found, problems = problems_of(row, funding_row)
            self.report.problems.extend(problems)
            if found is None:
                continue
            source, rule = found
            if (source.code, rule) in seen_rules:
                self._bad(
                    row,
                    "code",
                    f"Duplicate row: row {seen_rules[(source.code, rule)]} already has this "
                    f"{'rule' if rule else 'funding source'} for {source.code}. Delete this row.",
                )
                continue
            seen_rules[(source.code, rule)] = row.number
            earlier = self.plan.funding.get(source.code)
            if earlier is None:
                self.plan.funding[source.code] = source
                first_row[source.code] = self.plan.funding_rows[source.code] = row.number
                earlier = source
            elif (earlier.name, earlier.federal) != (source.name, source.federal):
                self._bad(
                    row,
                    "name",
                    f"{source.code} is on row {first_row[source.code]} with another name or "
                    "federal flag: give every row of one funding source the same name and flag.",
                )
                self.plan.bad_funding.add(source.code)
                continue
            if rule is not None:
                earlier.rules.append(rule)
        for source_code, source in self.plan.funding.items():
            if source_code in self.plan.bad_funding:
                continue
            try:
                known = self.app.funding_source(source_code)
            except UnknownFundingSource:
                self.plan.new_funding.append(source_code)
                continue
            rules = set(_rules(known))
            if (known["name"], known["federal"], rules) != (source.name, source.federal, set(source.rules)):
                self.report.problems.append(
                    Problem(
                        FUNDING.name,
                        first_row[source_code],
                        "code",
                        f"Funding source {source_code} is already registered with other details or rules "
                        f"({known['name']!r}, {len(rules)} rule(s)): change it on the Funding sources page, "
                        "or make these rows match.",
                    )
                )
                self.plan.bad_funding.add(source_code)
                continue
            self.report.already += 1

    def _site_usable(self, site_code: str) -> str:
        """'' when stock can be recorded at the site, else what to fix."""
        if site_code not in self.plan.site_codes:
            try:
                known = self.app.site(site_code)
            except UnknownSite:
                why = f"There is no site {site_code}: add it to the Sites sheet, or correct the code."
            else:
                why = "" if known["open"] else f"Site {site_code} is closed: reopen it before importing its stock."
            self.plan.site_codes[site_code] = why
        return self.plan.site_codes[site_code]

    def _item_usable(self, sku: str) -> tuple[str | None, str]:
        """The item's category, or None and what to fix."""
        if sku not in self.plan.categories:
            try:
                known = self.app.item(sku)
            except UnknownItem:
                self.plan.categories[sku] = None
            else:
                self.plan.categories[sku] = None if known["retired"] else known["category"]
                self.plan.tracks_expiry[sku] = known["tracks_expiry"]
        category = self.plan.categories[sku]
        if category is None:
            return None, f"There is no item {sku} that can be stocked: add it to the Items sheet, or correct the SKU."
        return category, ""

    def _funding_rules(self, code: str) -> list[Restriction] | None:
        if code not in self.plan.rules:
            if code in self.plan.bad_funding:
                self.plan.rules[code] = None
            elif code in self.plan.funding:
                self.plan.rules[code] = self.plan.funding[code].rules
            else:
                try:
                    known = self.app.funding_source(code)
                except UnknownFundingSource:
                    self.plan.rules[code] = None
                else:
                    self.plan.rules[code] = _rules(known)
        return self.plan.rules[code]

    def _check_opening(self) -> None:
        seen: dict[int, int] = {}
        for row in self._rows(OPENING):
            found, problems = problems_of(row, opening_row)
            self.report.problems.extend(problems)
            if found is None:
                continue
            why = self._opening_problem(row, found, seen)
            if why is not None:
                self._bad(row, *why)
                continue
            earlier = self._opening_balances(found.site, found.sku).get(found.lot)
            if earlier is None:
                self.plan.opening_to_write.add(row.number)
            elif (earlier["quantity"], earlier["expires_on"], earlier["funding_source"]) == (
                found.quantity,
                found.expires_on,
                found.funding_source,
            ):
                self.report.already += 1
            else:
                self._bad(
                    row,
                    "quantity",
                    f"An opening balance for lot {found.lot} of {found.sku} at {found.site} "
                    f"was already imported ({earlier['quantity']} units, expiry "
                    f"{earlier['expires_on'] or 'none'}, funding {earlier['funding_source']}): "
                    "correct the stock with a count instead.",
                )

    def _opening_problem(self, row: Row, found: OpeningRow, seen: dict[int, int]) -> tuple[str, str] | None:
        """The column and message of what to fix in an opening stock row, or None."""
        # A 64-bit hash rather than the codes themselves keeps this small for 50,000 rows; within one
        # run, two different lots sharing one is vanishingly unlikely (about 1 in 10^10 for 50,000 rows).
        key = hash((found.site, found.sku, found.lot))
        if key in seen:
            return "lot", (
                f"Duplicate row: row {seen[key]} already has lot {found.lot} of {found.sku} at "
                f"{found.site}. Delete one, or add their quantities on one row."
            )
        seen[key] = row.number
        why = self._site_usable(found.site)
        if why:
            return "site", why
        category, why = self._item_usable(found.sku)
        if category is None:
            return "sku", why
        rules = self._funding_rules(found.funding_source)
        if rules is None:
            return "funding_source", (
                f"There is no usable funding source {found.funding_source}: add it to the "
                "Funding sources sheet, or correct the code."
            )
        if self.plan.tracks_expiry.get(found.sku) and found.expires_on is None:
            return "expires_on", f"{found.sku} tracks expiry: enter the expiry date printed on lot {found.lot}."
        for rule in rules:
            if rule.covers(category, self.day):
                label = Category(category).value
                return "funding_source", (
                    f"Funding source {found.funding_source} may not pay for {label} items "
                    f"such as {found.sku}: its rule is {rule.describe()}. Book this lot to "
                    "another funding source."
                )
        return None

    def _opening_balances(self, site: str, sku: str) -> dict[str, dict[str, Any]]:
        """Lots of one site and item whose opening balance an import recorded, read from the log."""
        key = (site, sku)
        if key not in self._opening:
            found: dict[str, dict[str, Any]] = {}
            for event in self.app.events.get(ledger_id(site, sku)):
                if isinstance(event, StockLedger.Received) and (event.reference or "").startswith(OPENING_BALANCE):
                    found.setdefault(
                        event.lot,
                        {
                            "quantity": event.quantity,
                            "expires_on": event.expires_on,
                            "funding_source": event.funding_source,
                        },
                    )
            self._opening[key] = found
        return self._opening[key]

    # ----- writing --------------------------------------------------------------------------

    def _write(self) -> None:
        app, actor, recorded = self.app, self.actor, self.report.recorded
        for number, site in self.plan.sites:
            self._written(
                SITES.name,
                number,
                "sites",
                partial(app.register_site, code=site.code, name=site.name, kind=site.kind, actor=actor),
            )
        for number, item in self.plan.items:
            self._written(
                ITEMS.name,
                number,
                "items",
                partial(
                    app.register_item,
                    sku=item.sku,
                    name=item.name,
                    category=item.category,
                    unit=item.unit,
                    tracks_expiry=item.tracks_expiry,
                    pack_size=item.pack_size,
                    actor=actor,
                ),
            )
        for code in self.plan.new_funding:
            source = self.plan.funding[code]
            rules = [{"category": r.category, "starts_on": r.starts_on, "ends_on": r.ends_on} for r in source.rules]
            self._written(
                FUNDING.name,
                self.plan.funding_rows[code],
                "funding sources",
                partial(
                    app.register_funding_source,
                    code=code,
                    name=source.name,
                    federal=source.federal,
                    restrictions=rules,
                    actor=actor,
                ),
            )
        if OPENING.name not in self.sheets or not self.plan.opening_to_write:
            return
        for row in self.file.rows(OPENING):
            self.progress(1)
            if row.number not in self.plan.opening_to_write:
                continue
            lot = opening_row(row)
            try:
                app.receive_stock(
                    site=lot.site,
                    sku=lot.sku,
                    lot=lot.lot,
                    quantity=lot.quantity,
                    expires_on=lot.expires_on,
                    funding_source=lot.funding_source,
                    unit_cost=lot.unit_cost,
                    actor=actor,
                    occurred_at=self.moment,
                    reference=self.reference(row),
                )
            except InventoryError as error:  # changed by someone else since the check
                self._bad(row, error.field or "", error.message)
                continue
            recorded["lots"] += 1

    def _written(self, sheet: str, number: int, kind: str, register: Callable[[], Any]) -> bool:
        """Register one thing; a refusal (someone registered it meanwhile) becomes a row to fix, not a crash."""
        try:
            register()
        except InventoryError as error:
            self.report.problems.append(Problem(sheet, number, error.field or "", error.message))
            return False
        self.report.recorded[kind] += 1
        return True

    def reference(self, row: Row) -> str:
        """Names the file by its content, and the row: the stock card says where each opening balance came from."""
        return f"{OPENING_BALANCE}: {self.file.name} (sha256 {self.report.digest[:12]}), {row.sheet} row {row.number}"


def import_file(
    app: InventoryApplication,
    path: Path,
    *,
    actor: str,
    name: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a template workbook or a .csv of one of its sheets; see the module's docstring."""
    return Importer(app, path, actor=actor, name=name, skip_invalid=skip_invalid, progress=progress).run()


def _rules(source: dict[str, Any]) -> list[Restriction]:
    """A registered funding source's rules, as the domain holds them."""
    return [
        Restriction(r["category"], _day(r["starts_on"]) or date.min, _day(r["ends_on"])) for r in source["restrictions"]
    ]


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
