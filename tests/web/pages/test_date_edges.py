"""The pages refuse dates outside the range the service takes, in words, never with a crash (issue 16, defect 11)."""

from __future__ import annotations

from tests.web.pages.conftest import Person


def test_the_pages_refuse_dates_at_the_edges_in_words(people: dict[str, Person]) -> None:
    auditor, coordinator = people["auditor"], people["coordinator"]
    for start, end in (("0001-01-01", "9999-12-31"), ("9999-12-31", "9999-12-31"), ("1899-01-01", "2026-01-01")):
        page = auditor.get("/audit", start=start, end=end)
        assert page.status_code in (200, 422), page.status_code
        assert "Enter a date from 2000-01-01 to 2100-12-31." in page.get_data(as_text=True)
    answer = auditor.get("/audit/stock-at", as_of="9999-12-31", site="VAN-1")
    assert answer.status_code < 500 and "2000-01-01 to 2100-12-31" in answer.get_data(as_text=True)
    tally = coordinator.post(
        "/sites/VAN-1/tally",
        {"shift_date": "9999-12-31", "starts_at": "21:00", "ends_at": "02:00", "visits": "3"},
        token_from="/sites/VAN-1/tally",
    )
    assert tally.status_code == 422 and "2000-01-01 to 2100-12-31" in tally.get_data(as_text=True)
