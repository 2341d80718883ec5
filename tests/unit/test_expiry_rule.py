"""One rule for "expired" and "expiring soon": the ledger, the stock page and the alerts agree on every day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from inventory.domain.expiry import SOON_DAYS, expired_on, expires_soon
from inventory.domain.values import Lot
from inventory.web.pages.stock import expiry_label

EXPIRES = date(2027, 6, 30)


@pytest.mark.parametrize(
    ("day", "expired", "soon"),
    [
        (EXPIRES + timedelta(days=1), True, False),  # the day after: expired
        (EXPIRES, False, True),  # its last day: may still be handed out
        (EXPIRES - timedelta(days=SOON_DAYS), False, True),  # exactly the warning's reach
        (EXPIRES - timedelta(days=SOON_DAYS + 1), False, False),  # one day beyond it
    ],
)
def test_expired_and_soon_on_either_side_of_each_boundary(day: date, expired: bool, soon: bool) -> None:
    for written in (EXPIRES, EXPIRES.isoformat()):  # the ledger's date, a read model's text
        assert expired_on(written, day) is expired
        assert expires_soon(written, day) is soon
    assert Lot("A1", 5, EXPIRES, None).is_expired_on(day) is expired
    assert expiry_label(EXPIRES.isoformat(), day) == ("expired" if expired else "soon" if soon else None)


def test_a_lot_without_an_expiry_date_never_expires() -> None:
    far = date(2100, 12, 31)
    assert not expired_on(None, far) and not expires_soon(None, far)
    assert not expired_on("", far) and expiry_label(None, far) is None
    assert not Lot("A1", 5, None, None).is_expired_on(far)
