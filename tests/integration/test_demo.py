"""The demo program loads cleanly, is the same every time, and its read models add up."""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from inventory.application import InventoryApplication
from inventory.application.demo import DEMO_USERS, _participant_code, seed_demo
from inventory.cli import main
from inventory.domain.alerts import AlertKind
from inventory.domain.participant import check_participant_code
from inventory.projections import all_projections, queries
from inventory.projections.alerts import open_alerts
from inventory.projections.runner import Projector
from inventory.projections.seal import verify
from inventory.projections.store import read_store_for

END = date(2026, 3, 10)  # 40 days back from here cross two month-ends (counts) and a DST change
START = END - timedelta(days=39)
ZONE = ZoneInfo("America/New_York")


def load(folder: Path) -> tuple[InventoryApplication, list[str]]:
    url = f"sqlite:///{folder}/inventory.db"
    app = InventoryApplication(url, timezone_name="America/New_York")
    summary = seed_demo(app, days=40, end=END, seed=7)
    assert summary.encounters > 1000
    assert summary.skipped_for_stock == 0
    assert summary.counts > 0 and summary.transfers > 0 and summary.receipts > 0
    store = read_store_for(url)
    projector = Projector(app, store, all_projections(app.zone, b"demo-seal"))
    projector.catch_up()
    for row in queries.stock_levels(store):
        assert row["on_hand"] == app.stock(row["site"], row["sku"])["on_hand"]
    assert verify(app.recorder, store, b"demo-seal").ok
    summaries = [row[0] for row in store.fetchall("SELECT summary FROM audit_log ORDER BY position")]
    # Whoever the log says did something is someone who can sign in to the demo.
    actors = {row[0] for row in store.fetchall("SELECT DISTINCT actor FROM audit_log")}
    assert actors <= {email for email, _, _ in DEMO_USERS} | {"system"}, actors
    store.close()
    return app, summaries


def test_the_demo_loads_without_refusals_and_its_read_models_match_the_ledgers(tmp_path: Path) -> None:
    app, summaries = load(tmp_path)
    app.close()
    # The week's mistakes are there to be seen: a visit undone, a delivery corrected, a transfer voided.
    assert any(s.startswith("Visit voided") for s in summaries)
    assert any(s.startswith("Transfer voided: Recorded at the wrong site") for s in summaries), [
        s for s in summaries if "voided" in s.lower()
    ]


def test_the_demo_records_the_same_history_every_time(tmp_path: Path) -> None:
    first, first_log = load(tmp_path / "one")
    second, second_log = load(tmp_path / "two")
    first.close()
    second.close()
    assert first_log == second_log


def test_the_demo_as_the_first_command_loads_it_records_every_visit(tmp_path: Path) -> None:
    """`python3 dev.py run` loads 90 days with the default seed, ending yesterday: every visit it makes up
    is taken, including its participant codes (one of those once read as a date and stopped the demo)."""
    app = InventoryApplication(f"sqlite:///{tmp_path}/inventory.db")
    try:
        summary = seed_demo(app, days=90)
        assert summary.encounters > 2000 and summary.skipped_for_stock == 0
    finally:
        app.close()


def test_every_participant_code_the_demo_makes_up_is_one_the_rule_takes() -> None:
    rng = random.Random(20261123)
    codes = [_participant_code(rng) for _ in range(20_000)]
    assert all(check_participant_code(code) == code for code in codes)
    assert len(set(codes)) > 19_000


def test_the_demo_is_recorded_as_it_happened_so_the_log_knew_each_day_what_the_program_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each event is stamped at its moment of the story (not at load time): `inventory audit replay --until`
    a day inside the demo gives the stock the demo held at the end of that day, and nothing before it began."""
    app, _ = load(tmp_path)
    app.close()
    url = f"sqlite:///{tmp_path}/inventory.db"
    store = read_store_for(url)
    recorded = [row[0] for row in store.fetchall("SELECT recorded_at FROM audit_log ORDER BY position")]
    assert recorded == sorted(recorded), "a later position was stamped earlier"
    first, last = (datetime.fromisoformat(moment).astimezone(ZONE) for moment in (recorded[0], recorded[-1]))
    assert first.date() == START and last.date() == END
    day = END - timedelta(days=17)
    held_then = queries.stock_as_of(store, day)
    store.close()

    monkeypatch.setenv("INVENTORY_DATABASE_URL", url)
    monkeypatch.setenv("INVENTORY_TIMEZONE", "America/New_York")
    monkeypatch.setenv("INVENTORY_SEAL_KEY", "demo-seal")
    out, before = tmp_path / "then.csv", tmp_path / "before.csv"
    replayed = CliRunner().invoke(main, ["audit", "replay", "--until", day.isoformat(), "-o", str(out)])
    empty = CliRunner().invoke(main, ["audit", "replay", "--until", (START - timedelta(days=1)).isoformat(),
                                      "-o", str(before)])  # fmt: skip
    assert replayed.exit_code == 0 and empty.exit_code == 0, replayed.output + empty.output
    with out.open() as handle:
        rows = [(r["site"], r["sku"], r["lot"], int(r["quantity"])) for r in csv.DictReader(handle)]
    assert len(rows) > 20
    assert rows == [(r["site"], r["sku"], r["lot"], r["quantity"]) for r in held_then]
    assert "0 lots written" in empty.output


def test_the_demo_leaves_each_role_something_to_act_on(tmp_path: Path) -> None:
    """Orders in every state, alerts of each stock kind and a lot expiring within the horizon, and the
    late entries stamped when they were entered, not when they happened."""
    app, _ = load(tmp_path)
    url = f"sqlite:///{tmp_path}/inventory.db"
    store = read_store_for(url)
    try:
        projector = Projector(app, store, all_projections(app.zone, b"demo-seal"))
        morning_after = datetime.combine(END + timedelta(days=1), time(7), tzinfo=ZONE)
        app.check_alerts(END + timedelta(days=1), morning_after, store=store)
        projector.catch_up()
        kinds = {(row["kind"], row["site"], row["sku"]) for row in open_alerts(store)}
        statuses = {row[0] for row in store.fetchall("SELECT status FROM purchase_orders")}
        moments = store.fetchall("SELECT DISTINCT position, site, occurred_at, recorded_at FROM stock_movements")
    finally:
        store.close()
        app.close()
    assert {(AlertKind.OUT_OF_STOCK, "VAN-1", "XTS"), (AlertKind.BELOW_REORDER_POINT, "VAN-1", "XTS")} <= kinds
    assert (AlertKind.EXPIRING_SOON, "FIX-EAST", "NALOX-INJ") in kinds
    assert statuses == {"draft", "submitted", "partly_received", "closed"}
    late = sorted(
        (site, (datetime.fromisoformat(recorded) - datetime.fromisoformat(occurred)).total_seconds() // 60)
        for _, site, occurred, recorded in moments
        if datetime.fromisoformat(recorded) - datetime.fromisoformat(occurred) > timedelta(minutes=1)
    )
    # The visit written on paper, entered the next morning (across the spring-forward night: 18 h 10 min);
    # the visit sent from the van after its count, and the count's restatement (on the count's time, five
    # minutes later); the wrong van voided, the typo corrected, the visit entered twice undone, each
    # stamped minutes after the entry it puts right.
    expected = [("FIX-DT", 4), ("FIX-DT", 18 * 60 + 10), ("FIX-EAST", 25), ("VAN-1", 5), ("VAN-1", 80), ("WH", 10)]
    assert late == expected, late
