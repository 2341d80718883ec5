"""Verbs for reference data: items, sites with their stock levels, funding sources, recipient types."""

from __future__ import annotations

from typing import Any

from inventory.application import rules as check
from inventory.application.core import InventoryCore
from inventory.domain import (
    FundingSource,
    Item,
    RecipientType,
    Site,
)
from inventory.domain.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
)
from inventory.domain.reach import RECIPIENTS, UNKNOWN
from inventory.domain.text import NAME_LENGTH, clean_code, clean_text
from inventory.domain.values import (
    Category,
    Restriction,
    SiteKind,
    parse_enum,
)


class CatalogVerbs(InventoryCore):
    """Register and change items, sites and funding sources."""

    def register_item(
        self,
        *,
        sku: str,
        name: str,
        category: str,
        unit: str,
        tracks_expiry: bool,
        pack_size: int = 1,
        packs: list[dict[str, Any]] | None = None,
        doses_per_unit: int | None = None,
        actor: str,
    ) -> dict[str, Any]:
        """Add an item to the catalog: sold singly, in one pack of `pack_size`, or in the `packs` named."""
        sku = clean_code(sku, "sku")
        pack_size = check.PACK_SIZE.check(pack_size, "pack_size")
        name = clean_text(name, "name", max_length=NAME_LENGTH)
        category = parse_enum(Category, category, "category")
        unit = clean_text(unit, "unit", max_length=30)
        named = None if packs is None else check.packs(packs, unit)
        doses = check.doses_per_unit(doses_per_unit)
        if named is not None and pack_size != 1:
            raise InvalidInput("Give the item's packs, or its pack_size, not both.", field="pack_size")
        item = Item(
            sku=sku,
            name=name,
            category=category,
            unit=unit,
            tracks_expiry=bool(tracks_expiry),
            pack_size=named[0].units if named else pack_size,
            actor=actor,
        )
        if (named is not None and named != item.packs) or doses is not None:  # saved with it, in one go
            item.change_units(
                packs=[pack.as_dict() for pack in (item.packs if named is None else named)],
                doses_per_unit=doses,
                actor=actor,
            )
        self._create(item, f"An item with SKU {sku}", "sku")
        return self.item(sku)

    def change_item_units(
        self, *, sku: str, packs: list[dict[str, Any]], doses_per_unit: int | None, actor: str
    ) -> dict[str, Any]:
        """Set the packs an item comes in (the supplier's first: orders round up to it) and its doses per unit."""
        the_id = Item.create_id(clean_code(sku, "sku"))
        doses = check.doses_per_unit(doses_per_unit)

        def attempt() -> dict[str, Any]:
            item = self._item(sku)
            named = check.packs(packs, item.unit)
            if named != item.packs or doses != item.doses_per_unit:
                item.change_units(packs=[pack.as_dict() for pack in named], doses_per_unit=doses, actor=actor)
                self.save(item)
            return self.item(item.sku)

        return self._retrying([the_id], attempt)

    def retire_item(self, *, sku: str, actor: str) -> dict[str, Any]:
        """Stop stocking and issuing an item; its history stays."""
        the_id = Item.create_id(clean_code(sku, "sku"))

        def attempt() -> dict[str, Any]:
            item = self._item(sku, must_be_active=False)
            if not item.retired:
                item.retire(actor=actor)
                self.save(item)
            return self.item(item.sku)

        return self._retrying([the_id], attempt)

    def item(self, sku: str) -> dict[str, Any]:
        """An item's catalog entry."""
        item = self._item(sku, must_be_active=False)
        return {
            "id": str(item.id),
            "sku": item.sku,
            "name": item.name,
            "category": item.category,
            "unit": item.unit,
            "tracks_expiry": item.tracks_expiry,
            "pack_size": item.pack_size,
            "packs": [pack.as_dict() for pack in item.packs],
            "doses_per_unit": item.doses_per_unit,
            "retired": item.retired,
        }

    def register_site(self, *, code: str, name: str, kind: str, actor: str) -> dict[str, Any]:
        """Add a warehouse, fixed site or mobile van."""
        code = clean_code(code, "code")
        site = Site(
            code=code,
            name=clean_text(name, "name", max_length=NAME_LENGTH),
            kind=parse_enum(SiteKind, kind, "kind"),
            actor=actor,
        )
        self._create(site, f"A site with code {code}", "code")
        return self.site(code)

    def site(self, code: str) -> dict[str, Any]:
        """A site with its stock levels."""
        site = self._site(code, field="code", must_be_open=False)
        return {
            "id": str(site.id),
            "code": site.code,
            "name": site.name,
            "kind": site.kind,
            "open": site.is_open,
            "levels": {sku: dict(level) for sku, level in site.levels.items()},
        }

    def close_site(self, *, code: str, actor: str) -> dict[str, Any]:
        """Close a site: no stock can be recorded there until it reopens."""
        the_id = Site.create_id(clean_code(code, "code"))

        def attempt() -> dict[str, Any]:
            site = self._site(code, field="code", must_be_open=False)
            if site.is_open:
                site.close(actor=actor)
                self.save(site)
            return self.site(site.code)

        return self._retrying([the_id], attempt)

    def reopen_site(self, *, code: str, actor: str) -> dict[str, Any]:
        """Reopen a closed site."""
        the_id = Site.create_id(clean_code(code, "code"))

        def attempt() -> dict[str, Any]:
            site = self._site(code, field="code", must_be_open=False)
            if not site.is_open:
                site.reopen(actor=actor)
                self.save(site)
            return self.site(site.code)

        return self._retrying([the_id], attempt)

    def set_stock_level(
        self, *, site: str, sku: str, reorder_point: int, par_level: int, lead_time_days: int, actor: str
    ) -> dict[str, Any]:
        """Set when to reorder an item at a site, how much to hold, and how long delivery takes."""
        check.LEVEL.check(reorder_point, "reorder_point")
        check.LEVEL.check(par_level, "par_level")
        check.LEAD_TIME_DAYS.check(lead_time_days, "lead_time_days")
        if par_level < reorder_point:
            raise InvalidInput(
                f"par_level ({par_level}) must be at least the reorder_point ({reorder_point}).", field="par_level"
            )
        item = self._item(sku)

        def attempt() -> dict[str, Any]:
            place = self._site(site, must_be_open=False)
            place.set_level(
                sku=item.sku,
                reorder_point=reorder_point,
                par_level=par_level,
                lead_time_days=lead_time_days,
                actor=actor,
            )
            self.save(place)
            return dict(place.levels[item.sku], site=place.code, sku=item.sku)

        return self._retrying([Site.create_id(clean_code(site, "site"))], attempt)

    def register_funding_source(
        self,
        *,
        code: str,
        name: str,
        federal: bool,
        restrictions: list[dict[str, Any]] | None = None,
        actor: str,
    ) -> dict[str, Any]:
        """Add a grant or donor, with the categories it may not pay for."""
        code = clean_code(code, "code")
        source = FundingSource(
            code=code,
            name=clean_text(name, "name", max_length=NAME_LENGTH),
            federal=bool(federal),
            restrictions=self._restrictions(restrictions or []),
            actor=actor,
        )
        self._create(source, f"A funding source with code {code}", "code")
        return self.funding_source(code)

    def change_restrictions(self, *, code: str, restrictions: list[dict[str, Any]], actor: str) -> dict[str, Any]:
        """Replace a funding source's rules (each with its own start and end date)."""
        rules = self._restrictions(restrictions)

        def attempt() -> dict[str, Any]:
            source = self._funding(code, field="code")
            source.change_restrictions(restrictions=rules, actor=actor)
            self.save(source)
            return self.funding_source(source.code)

        return self._retrying([FundingSource.create_id(clean_code(code, "code"))], attempt)

    @staticmethod
    def _restrictions(rows: list[dict[str, Any]]) -> list[Restriction]:
        rules = []
        for index, row in enumerate(rows):
            prefix = f"restrictions[{index}]"
            category = parse_enum(Category, str(row.get("category")), f"{prefix}.category")
            starts_on = check.a_date(row.get("starts_on"), f"{prefix}.starts_on", required=True)
            ends_on = check.a_date(row.get("ends_on"), f"{prefix}.ends_on")
            assert starts_on is not None
            if ends_on is not None and ends_on < starts_on:
                raise InvalidInput(f"{prefix}.ends_on must not be before starts_on.", field=f"{prefix}.ends_on")
            rules.append(Restriction(category, starts_on, ends_on))
        return rules

    def funding_source(self, code: str) -> dict[str, Any]:
        """A funding source with its restrictions."""
        source = self._funding(code, field="code")
        return {
            "id": str(source.id),
            "code": source.code,
            "name": source.name,
            "federal": source.federal,
            "restrictions": [
                {"category": r.category, "starts_on": r.starts_on, "ends_on": r.ends_on} for r in source.restrictions
            ],
        }

    def add_recipient_type(self, *, code: str, name: str, actor: str) -> dict[str, Any]:
        """Add a kind of recipient to the built-in ones (inventory.domain.reach.RECIPIENTS)."""
        code = check.recipient_code(code, "code")
        if code in RECIPIENTS or code == UNKNOWN:
            raise AlreadyExists(f"{code} is one of the built-in recipient types already.", field="code")
        kind = RecipientType(code=code, name=clean_text(name, "name", max_length=NAME_LENGTH), actor=actor)
        self._create(kind, f"A recipient type with code {code}", "code")
        return {"code": kind.code, "name": kind.name, "retired": False}

    def retire_recipient_type(self, *, code: str, actor: str) -> dict[str, Any]:
        """Stop offering a recipient type an admin added; what was recorded with it keeps it."""
        code = check.recipient_code(code, "code")
        the_id = RecipientType.create_id(code)

        def attempt() -> dict[str, Any]:
            kind = self._get(RecipientType, the_id)
            if kind is None:
                raise NotFound(
                    f"No recipient type {code} was added (the built-in ones cannot be retired).", field="code"
                )
            if not kind.retired:
                kind.retire(actor=actor)
                self.save(kind)
            return {"code": kind.code, "name": kind.name, "retired": True}

        return self._retrying([the_id], attempt)
