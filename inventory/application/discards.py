"""Discarding a visit kept offline that the server refused: recorded, so nothing vanishes unseen."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from inventory.application import rules as check
from inventory.application.core import InventoryCore
from inventory.domain import DISCARD_REASONS, DiscardedVisit, Encounter, discarded_visit_id, encounter_id
from inventory.domain.errors import Conflict, IdempotencyConflict, InvalidInput
from inventory.domain.text import clean_code
from inventory.domain.time_words import moment_in_words

# An error code as the API gives it (insufficient_stock, item_retired, ...): never a message.
_ERROR_CODE = re.compile(r"^[a-z][a-z_]{0,39}$")


def discard_view(discard: DiscardedVisit) -> dict[str, Any]:
    return {
        "id": str(discard.id),
        "key": discard.key,
        "site": discard.site,
        "lines": [dict(line) for line in discard.lines],
        "reason": discard.reason,
        "refused_because": discard.refused_because,
        "actor": discard.actor,
        "occurred_at": discard.occurred_at,
        "recorded_at": discard.created_on,
    }


class DiscardVerbs(InventoryCore):
    """Discard an offline visit, with a reason from a fixed list."""

    def discard_offline_visit(
        self,
        *,
        key: str,
        site: str,
        lines: list[dict[str, Any]],
        reason: str,
        refused_because: str,
        actor: str,
        occurred_at: datetime,
    ) -> dict[str, Any]:
        """Record that the visit this person kept with this key will not be recorded, and why.

        Refused when the visit was recorded after all: a visit is recorded or discarded, never both.
        A repeat of the same key returns the first result.
        """
        key = check.client_key(key)
        site_code = clean_code(site, "site")
        if reason not in DISCARD_REASONS:
            choices = ", ".join(DISCARD_REASONS)
            raise InvalidInput(f"reason must be one of: {choices}.", field="reason")
        refusal = (refused_because or "").strip().lower()
        if not _ERROR_CODE.match(refusal):
            raise InvalidInput(
                "refused_because must be the error code the server gave, such as insufficient_stock.",
                field="refused_because",
            )
        # What was asked for, as the phone kept it (no lots: none were picked).
        asked = [{"sku": line.sku, "quantity": line.quantity} for line in check.issue_lines(lines)] if lines else []
        moment = check.when(occurred_at, zone=self.zone)
        digest = check.fingerprint(
            {"site": site_code, "lines": asked, "reason": reason, "refusal": refusal, "occurred_at": moment}
        )
        the_id = discarded_visit_id(actor, key)
        visit_id = encounter_id(actor, key)

        def attempt() -> dict[str, Any]:
            earlier = self._get(DiscardedVisit, the_id)
            if earlier is not None:
                if earlier.fingerprint != digest:
                    raise IdempotencyConflict(
                        "This visit was already discarded with a different reason or content.", field="key"
                    )
                return discard_view(earlier)
            recorded = self._get(Encounter, visit_id)
            if recorded is not None:
                raise Conflict(
                    "This visit was recorded after all (on "
                    f"{moment_in_words(recorded.created_on, self.zone, datetime.now(self.zone).year)}), so it "
                    "cannot be discarded.",
                    field="key",
                )
            self._site(site_code, must_be_open=False)
            discard = DiscardedVisit(
                key=key,
                fingerprint=digest,
                site=site_code,
                lines=asked,
                reason=reason,
                refused_because=refusal,
                actor=actor,
                occurred_at=moment,
            )
            self.save(discard)
            return discard_view(discard)

        return self._retrying([visit_id, the_id], attempt)
