"""In a real browser on a phone, in a van without signal: visits are kept on the device and sent once.

The coordinator signs in online and opens Record a visit (the service worker keeps the page); then
the browser goes offline (Playwright's `set_offline`, which Chromium applies to the page and its
service worker). Checks are made on the server: by each visit's key, and by counting encounters.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from inventory.application.demo import DEMO_PASSWORD
from tests.browser.conftest import ADMIN, COORDINATOR, VIEWPORTS, Live, Screen

FORM = "/sites/VAN-1/encounters/new"
GRANT_MANAGER = "grants@demo.example.org"
# Read without opening a cache that does not exist yet (an open from the page would make one, racing the
# worker's own).
PAGES = "caches.has('visit-pages-v3').then(made => made ? caches.open('visit-pages-v3') : null)"
KEPT_PAGE = f"{PAGES}.then(c => c && c.match('{FORM}')).then(Boolean)"
QUEUE = "() => VisitQueue.all()"
# How many visits the device keeps, read straight from IndexedDB (on any page of the site).
KEPT_COUNT = """() => new Promise((resolve, reject) => {
  const opening = indexedDB.open('inventory-offline');
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const db = opening.result;
    if (!db.objectStoreNames.contains('visits')) return resolve(0);
    const counting = db.transaction('visits').objectStore('visits').count();
    counting.onsuccess = () => resolve(counting.result);
  };
})"""


@pytest.fixture
def van(request: pytest.FixtureRequest, chromium: Browser, live: Live) -> Iterator[Screen]:
    """A phone with its own storage (service worker, IndexedDB), signed in online on Record a visit."""
    phone = VIEWPORTS["phone"]
    context = chromium.new_context(viewport=phone, is_mobile=True, has_touch=True, service_workers="allow")  # type: ignore[arg-type]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    screen = Screen(page, live.url, "phone", request.node.originalname, errors)
    try:
        screen.sign_in(COORDINATOR)
        open_form(screen)
        yield screen
    finally:
        context.close()


def open_form(screen: Screen) -> Page:
    """Record a visit, once the service worker runs and has kept the page on the device."""
    page = screen.go(FORM)
    worker_ready(page)
    page.wait_for_function(f"() => {KEPT_PAGE}")
    return page


def worker_ready(page: Page) -> None:
    assert page.evaluate("navigator.serviceWorker.ready.then(registration => !!registration.active)") is True


def context_of(screen: Screen) -> BrowserContext:
    return screen.page.context


def record(page: Page, pick: str = "1 naloxone kit", **quantities: int) -> None:
    """A quick pick (and any quantities by SKU), then Record visit."""
    page.get_by_role("button", name=pick, exact=True).click()
    for sku, quantity in quantities.items():
        page.locator(f"input[data-item='{sku}']").fill(str(quantity))
    page.locator(".record-bar button[type=submit]").click()


def waiting(page: Page) -> Any:
    return expect(page.locator("#offline-panel"))


def encounters_by(live: Live, actor: str) -> int:
    live.services.projector.catch_up()
    rows = live.services.store.fetchall("SELECT COUNT(*) FROM encounters WHERE actor = ?", (actor,))
    return int(rows[0][0])


def recorded(live: Live, key: str) -> dict[str, Any]:
    found: dict[str, Any] = live.services.app.encounter(key, COORDINATOR)
    return found


def moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_five_visits_recorded_offline_survive_a_reload_and_reach_the_server_once_with_their_time(
    van: Screen, live: Live
) -> None:
    page = van.page
    before = encounters_by(live, COORDINATOR)
    context_of(van).set_offline(True)
    for n in range(1, 5):
        record(page)
        waiting(page).to_have_attribute("data-waiting", str(n))
    # The fifth carries the participant's own code: a code that reads as a date is refused on the phone.
    page.locator("summary", has_text="More about this visit").click()
    page.get_by_label("Participant code").fill("AB19900101")
    record(page)
    expect(page.locator("#queue-alert")).to_contain_text("must not contain a date")
    waiting(page).to_have_attribute("data-waiting", "4")
    page.get_by_label("Participant code").fill("k7qx29")
    record(page)
    waiting(page).to_have_attribute("data-waiting", "5")
    expect(page.locator("#queue-alert")).to_have_text("")
    expect(page.locator("#queue-status")).to_contain_text("5 visits waiting to be sent, safe on this device")
    van.shot("five-waiting")

    reloaded = page.reload()  # still offline: the kept page opens, and the visits are still there
    assert reloaded is not None and reloaded.headers.get("x-offline-copy") == "kept on this device"
    expect(page.get_by_role("heading", name="Record a visit")).to_be_visible()
    expect(page.locator("#queue-status")).to_contain_text("5 visits waiting")
    van.shot("reloaded-offline")
    queued = page.evaluate(QUEUE)
    assert len(queued) == 5 and len({item["key"] for item in queued}) == 5
    assert all(
        set(item["body"])
        == {
            "site",
            "lines",
            "participant_code",
            "reversals_reported",
            "syringes_collected",
            "refill_reason",
            "recipient",
            "for_others",
            "channel",
            "occurred_at",
        }
        for item in queued
    )
    assert encounters_by(live, COORDINATOR) == before

    went_online = datetime.now(UTC)
    context_of(van).set_offline(False)
    expect(page.locator("#queue-status")).to_contain_text("Nothing waiting on this device")
    expect(page.locator("#queue-sent li")).to_have_count(5)
    van.shot("synced")
    assert encounters_by(live, COORDINATOR) == before + 5
    assert [item["body"]["participant_code"] for item in queued] == [None, None, None, None, "K7QX29"]
    assert recorded(live, queued[-1]["key"])["participant_code"] == "K7QX29"
    for item in queued:
        on_server = recorded(live, item["key"])
        assert on_server["occurred_at"] == moment(item["body"]["occurred_at"])
        assert on_server["occurred_at"] < went_online < on_server["recorded_at"]
    assert van.console_errors == []


def test_an_answer_lost_on_the_way_back_does_not_record_the_visit_twice(van: Screen, live: Live) -> None:
    page = van.page
    before = encounters_by(live, COORDINATOR)
    context_of(van).set_offline(True)
    record(page)
    record(page, "2 naloxone kits + 10 syringes")
    waiting(page).to_have_attribute("data-waiting", "2")
    keys = [item["key"] for item in page.evaluate(QUEUE)]

    lost: list[str] = []

    def drop_the_answer(route: Route) -> None:
        """The server gets the first visit and records it; its answer never reaches the phone."""
        if not lost:
            route.fetch()
            lost.append(route.request.headers["idempotency-key"])
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/encounters", drop_the_answer)
    context_of(van).set_offline(False)
    expect(page.locator("#queue-status")).to_contain_text("Nothing waiting on this device", timeout=15_000)
    assert lost == [keys[0]]
    assert encounters_by(live, COORDINATOR) == before + 2
    assert [recorded(live, key)["lines"][0]["quantity"] for key in keys] == [1, 2]


SCARCE = itertools.count(1)


@pytest.fixture
def scarce_item(live: Live) -> str:
    """An item of which VAN-1 has 3, for a visit that will no longer be filled."""
    app = live.services.app
    sku = f"OFFLINE-KIT-{next(SCARCE)}"  # one per test: the live server outlives a test
    app.register_item(
        sku=sku,
        name="Wound care kit (offline test)",
        category="wound_care",
        unit="kit",
        tracks_expiry=False,
        actor=ADMIN,
    )
    # On the shelf since an hour ago: a visit recorded as a one-minute shift tally takes stock from the
    # start of its minute, when the stock must already be there.
    app.receive_stock(
        site="VAN-1", sku=sku, lot="OFF-1", quantity=3, expires_on=None, funding_source="STATE-HR", actor=ADMIN,
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
    )  # fmt: skip
    live.services.projector.catch_up()
    return sku


def test_a_visit_the_stock_can_no_longer_fill_is_kept_with_the_reason_until_the_coordinator_chooses(
    scarce_item: str, van: Screen, live: Live
) -> None:
    page = open_form(van)  # again: the form now has the new item
    context_of(van).set_offline(True)
    record(page, **{scarce_item: 3})  # A: 1 naloxone kit and 3 of the 3 kits
    record(page, "Syringes 10", **{scarce_item: 2})  # B: 10 syringes and 2 kits
    waiting(page).to_have_attribute("data-waiting", "2")
    first, second = page.evaluate(QUEUE)
    # Meanwhile two kits were damaged: only 1 is left.
    live.services.app.adjust_stock(
        site="VAN-1", sku=scarce_item, lot="OFF-1", quantity=-2, reason="damaged", actor=ADMIN
    )
    live.services.projector.catch_up()  # as the API does before it answers

    context_of(van).set_offline(False)
    attention = page.locator("#queue-attention")
    expect(attention.locator("li")).to_have_count(2)
    expect(attention.locator("li").first).to_contain_text("Only 1")
    expect(attention.locator("li").first).to_contain_text(scarce_item)
    van.shot("needs-a-choice")
    assert van.axe() == []

    record_a = attention.locator(f"li[data-key='{first['key']}'] [data-choice=available]")
    expect(record_a).to_contain_text("Record what was available")
    expect(record_a).to_contain_text("Wound care kit (offline test): 1")
    record_a.click()
    expect(attention.locator("li")).to_have_count(1)
    on_server = recorded(live, first["key"])
    lines = sorted((line["sku"], line["quantity"]) for line in on_server["lines"])
    assert lines == [("NALOX-4MG", 1), (scarce_item, 1)]
    assert on_server["occurred_at"] == moment(first["body"]["occurred_at"])

    # B: no kit is left; its 10 syringes still could be recorded, or it is discarded with a reason.
    only_b = attention.locator(f"li[data-key='{second['key']}']")
    expect(only_b.locator("[data-choice=available]")).to_contain_text("Syringe")
    only_b.locator("[data-choice=discard]").click()
    expect(only_b.locator("[data-part=problem]")).to_contain_text("Choose why")
    only_b.get_by_label("Or discard it, because").select_option("entered_by_mistake")
    only_b.locator("[data-choice=discard]").click()
    expect(attention).to_be_hidden()
    expect(page.locator("#queue-sent")).to_contain_text("Discarded (It was entered by mistake)")
    with pytest.raises(Exception, match="No encounter was recorded"):
        recorded(live, second["key"])
    assert page.evaluate(QUEUE) == []
    # The discard is in the log, for the auditor: what was asked, why refused, why discarded; no code.
    assert discards(live) == [
        (COORDINATOR, "VAN-1", "Visit kept offline at VAN-1 discarded, refused as insufficient stock: "
         f"It was entered by mistake (asked for SYR-1ML x10, {scarce_item} x2)")
    ]  # fmt: skip
    van.shot("resolved")


def discards(live: Live) -> list[tuple[str, str, str]]:
    live.services.projector.catch_up()
    rows = live.services.store.fetchall(
        "SELECT actor, site, summary FROM audit_log WHERE event_type = 'DiscardedVisit.Discarded' ORDER BY position"
    )
    return [tuple(row) for row in rows]


def test_a_visit_the_stock_can_no_longer_fill_may_be_recorded_as_a_shift_tally(
    scarce_item: str, van: Screen, live: Live
) -> None:
    page = open_form(van)
    context_of(van).set_offline(True)
    page.locator("summary", has_text="More about this visit").click()
    page.get_by_label("Participant code").fill("K7QX29")
    page.get_by_role("spinbutton", name="Used syringes collected").fill("12")
    record(page, **{scarce_item: 3})  # 1 naloxone kit and 3 kits; 12 syringes back
    waiting(page).to_have_attribute("data-waiting", "1")
    (visit,) = page.evaluate(QUEUE)
    live.services.app.adjust_stock(site="VAN-1", sku=scarce_item, lot="OFF-1", quantity=-2, reason="damaged",
                                   actor=ADMIN)  # fmt: skip
    live.services.projector.catch_up()

    context_of(van).set_offline(False)
    item = page.locator(f"#queue-attention li[data-key='{visit['key']}']")
    choice = item.locator("[data-choice=tally]")
    expect(choice).to_contain_text("Record as a shift tally")
    expect(choice).to_contain_text("1 visit, Naloxone 4 mg nasal spray kit: 1, Wound care kit (offline test): 1")
    choice.click()
    expect(page.locator("#queue-attention")).to_be_hidden()
    expect(page.locator("#queue-sent")).to_contain_text("Recorded as a shift tally")

    tally = live.services.app.shift_tally(visit["key"], COORDINATOR)
    local = moment(visit["body"]["occurred_at"]).astimezone(live.services.app.zone)
    assert (tally["site"], tally["shift_date"], tally["starts_at"]) == ("VAN-1", local.date(), local.strftime("%H:%M"))
    assert (tally["visits"], tally["syringes_collected"]) == (1, 12)
    assert sorted((line["sku"], line["quantity"]) for line in tally["lines"]) == [("NALOX-4MG", 1), (scarce_item, 1)]
    assert "K7QX29" not in str(tally)  # a tally holds counts only
    with pytest.raises(Exception, match="No encounter was recorded"):
        recorded(live, visit["key"])
    assert page.evaluate(QUEUE) == []


def test_signing_in_online_is_enough_for_record_a_visit_to_open_offline(chromium: Browser, live: Live) -> None:
    """The coordinator signs in at the office and never opens Record a visit before the van leaves."""
    context = chromium.new_context(viewport=VIEWPORTS["phone"], is_mobile=True, has_touch=True)  # type: ignore[arg-type]
    try:
        screen = Screen(context.new_page(), live.url, "phone", "kept_at_sign_in", [])
        screen.sign_in(COORDINATOR)  # lands on the dashboard
        page = screen.page
        worker_ready(page)
        page.wait_for_function(f"() => {KEPT_PAGE}")
        context.set_offline(True)
        opened = page.goto(live.url + FORM)
        assert opened is not None and opened.headers.get("x-offline-copy") == "kept on this device"
        expect(page.get_by_role("heading", name="Record a visit")).to_be_visible()
        record(page)
        waiting(page).to_have_attribute("data-waiting", "1")
        assert screen.console_errors == []
    finally:
        context.close()


def test_a_session_that_ended_offline_keeps_the_visits_until_the_coordinator_signs_in_again(
    van: Screen, live: Live
) -> None:
    page = van.page
    before = encounters_by(live, COORDINATOR)
    context_of(van).set_offline(True)
    record(page)
    record(page)
    waiting(page).to_have_attribute("data-waiting", "2")
    keys = [item["key"] for item in page.evaluate(QUEUE)]
    # While the van was out, the coordinator's password was reset: that ends their sessions.
    live.services.app.set_password(email=COORDINATOR, password=DEMO_PASSWORD, actor=ADMIN)

    context_of(van).set_offline(False)
    session = page.locator("#queue-session")
    expect(session).to_contain_text("Sign in again to send 2 visits: they stay on this device")
    waiting(page).to_have_attribute("data-waiting", "2")
    van.shot("signed-out-with-visits")
    assert encounters_by(live, COORDINATOR) == before

    session.get_by_role("button", name="Sign in again").click()
    page.get_by_label("Email").fill(COORDINATOR)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(van.base + FORM)
    expect(page.locator("#queue-status")).to_contain_text("Nothing waiting on this device")
    assert encounters_by(live, COORDINATOR) == before + 2
    assert all(recorded(live, key)["actor"] == COORDINATOR for key in keys)


def test_signing_out_asks_before_it_deletes_visits_still_waiting(van: Screen, live: Live) -> None:
    page = van.page
    context_of(van).set_offline(True)
    record(page)
    waiting(page).to_have_attribute("data-waiting", "1")
    page.route("**/api/v1/encounters", lambda route: route.abort("connectionrefused"))  # the server is away
    context_of(van).set_offline(False)

    page.get_by_text("Menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Visits are waiting on this device")).to_be_visible()
    expect(page.locator("main")).to_contain_text("1 visit is kept on this device")
    van.shot("sign-out-asks")
    page.get_by_role("button", name="Keep them: back to Record a visit").click()
    expect(page.locator("#queue-status")).to_contain_text("1 visit waiting")

    page.get_by_text("Menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign out and delete it").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate(KEPT_COUNT) == 0
    assert page.evaluate("caches.has('visit-pages-v3')") is False


def test_a_form_sent_while_the_phone_thinks_it_is_online_but_nothing_gets_through_is_kept(
    van: Screen, live: Live
) -> None:
    """A weak signal: the browser says it is online, the page sends the form as usual, the request never
    arrives. The service worker keeps the visit instead of showing the browser's error page."""
    page = van.page
    before = encounters_by(live, COORDINATOR)
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'onLine', { get: () => true })")
    page.reload()
    context_of(van).set_offline(True)
    assert page.evaluate("navigator.onLine") is True
    record(page, "2 naloxone kits + 10 syringes")
    expect(page.locator("#queue-status")).to_contain_text("1 visit waiting to be sent, safe on this device")
    kept = page.evaluate(QUEUE)
    assert [(item["email"], item["body"]["lines"]) for item in kept] == [
        (COORDINATOR, [{"sku": "NALOX-4MG", "quantity": 2}, {"sku": "SYR-1ML", "quantity": 10}])
    ]
    # Kept by the service worker with SKUs; the page names the items as its steppers do.
    assert kept[0]["label"].startswith("Naloxone") and "NALOX-4MG" not in kept[0]["label"]

    context_of(van).set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # the page's navigator.onLine was pinned above
    expect(page.locator("#queue-status")).to_contain_text("Nothing waiting on this device", timeout=10_000)
    assert encounters_by(live, COORDINATOR) == before + 1
    assert recorded(live, kept[0]["key"])["occurred_at"] == moment(kept[0]["body"]["occurred_at"])


def test_every_site_a_person_may_record_at_opens_offline_once_the_site_choice_was_seen_online(
    chromium: Browser, live: Live
) -> None:
    """An admin records at any site: the site choice keeps each site's form on the device."""
    context = chromium.new_context(viewport=VIEWPORTS["phone"], is_mobile=True, has_touch=True)  # type: ignore[arg-type]
    try:
        screen = Screen(context.new_page(), live.url, "phone", "every_site_offline", [])
        screen.sign_in(ADMIN)
        page = screen.go("/encounters")
        worker_ready(page)
        kept = f"""{PAGES}
            .then(c => c && Promise.all([c.match('/encounters'), c.match('/sites/FIX-EAST/encounters/new')]))
            .then(found => !!found && found.every(Boolean))"""
        page.wait_for_function(f"() => {kept}")
        context.set_offline(True)
        opened = page.goto(live.url + "/encounters")  # the site choice itself, kept on the way
        assert opened is not None and opened.headers.get("x-offline-copy") == "kept on this device"
        page.locator("a.site-choice", has_text="FIX-EAST").click()
        expect(page.get_by_role("heading", name="Record a visit")).to_be_visible()
        expect(page.locator(".visit-head")).to_contain_text("FIX-EAST")
        expect(page.locator("#queue-status")).to_contain_text("Offline: visits you record are kept on this device")
    finally:
        context.close()


def test_a_visit_with_an_item_retired_meanwhile_records_the_rest_when_the_coordinator_says_so(
    van: Screen, live: Live
) -> None:
    app = live.services.app
    sku = "OFFLINE-RETIRED"
    app.register_item(sku=sku, name="Old sharps bag", category="sharps", unit="bag", tracks_expiry=False, actor=ADMIN)
    app.receive_stock(
        site="VAN-1", sku=sku, lot="RET-1", quantity=5, expires_on=None, funding_source="STATE-HR", actor=ADMIN
    )
    live.services.projector.catch_up()
    page = open_form(van)
    context_of(van).set_offline(True)
    record(page, **{sku: 2})
    waiting(page).to_have_attribute("data-waiting", "1")
    (visit,) = page.evaluate(QUEUE)
    app.retire_item(sku=sku, actor=ADMIN)
    live.services.projector.catch_up()

    context_of(van).set_offline(False)
    item = page.locator(f"#queue-attention li[data-key='{visit['key']}']")
    expect(item).to_contain_text("is retired and can no longer be stocked or issued")
    choice = item.locator("[data-choice=available]")
    expect(choice).to_have_text("Record what was available: Naloxone 4 mg nasal spray kit: 1")
    choice.click()
    expect(page.locator("#queue-attention")).to_be_hidden()
    expect(page.locator("#queue-sent")).to_contain_text("Recorded what was available: Naloxone 4 mg nasal spray kit: 1")
    lines = [(line["sku"], line["quantity"]) for line in recorded(live, visit["key"])["lines"]]
    assert lines == [("NALOX-4MG", 1)]


def test_a_visit_kept_offline_and_sent_after_a_count_of_its_lot_is_handed_out_on_its_time(
    van: Screen, live: Live
) -> None:
    """Issue 18's sequence: the visit waits on the phone; the lot is counted (it already lacks the kit);
    then the phone sends the visit. It is recorded as handed out at its own time, nothing is discarded,
    and the count's variance is restated (from -1 to 0): the kit is not lost as count variance."""
    page = van.page
    app = live.services.app
    context_of(van).set_offline(True)
    record(page)  # 1 naloxone kit, first expiry first out
    waiting(page).to_have_attribute("data-waiting", "1")
    (visit,) = page.evaluate(QUEUE)
    lots = app.stock("VAN-1", "NALOX-4MG")["lots"]
    usable = [lot for lot in lots if lot["quantity"] > 0 and lot["expires_on"] >= app.business_day(datetime.now(UTC))]
    first = min(usable, key=lambda lot: (lot["expires_on"], lot["lot"]))
    # On another device, a minute later, the lot is counted: one kit fewer than the ledger knows.
    counted = app.count_stock(site="VAN-1", sku="NALOX-4MG", lot=first["lot"], counted=first["quantity"] - 1,
                              actor=ADMIN)  # fmt: skip
    assert counted["variance"] == -1

    context_of(van).set_offline(False)
    expect(page.locator("#queue-status")).to_contain_text("Nothing waiting on this device")
    expect(page.locator("#queue-sent li")).to_have_count(1)
    expect(page.locator("#queue-attention")).to_be_hidden()
    van.shot("sent-after-the-count")

    on_server = recorded(live, visit["key"])
    assert on_server["occurred_at"] == moment(visit["body"]["occurred_at"])
    assert [(pick["lot"], pick["quantity"]) for line in on_server["lines"] for pick in line["lots"]] == [
        (first["lot"], 1)
    ]
    assert (
        next(lot for lot in app.stock("VAN-1", "NALOX-4MG")["lots"] if lot["lot"] == first["lot"])["quantity"]
        == first["quantity"] - 1
    )  # what the count saw
    live.services.projector.catch_up()
    restated = live.services.store.fetchall(
        "SELECT reference FROM stock_movements WHERE reason = 'count_restated' AND lot = ?", (first["lot"],)
    )
    assert [row[0] for row in restated] == ["-1 to +0"]
    assert page.evaluate(QUEUE) == []
    assert van.console_errors == []


def test_visits_kept_on_the_phone_are_counted_and_sent_from_any_page(van: Screen, live: Live) -> None:
    """The coordinator records two visits offline, closes Record a visit, and opens the dashboard once
    the van has signal again: the dashboard sends them and says so."""
    page = van.page
    before = encounters_by(live, COORDINATOR)
    context_of(van).set_offline(True)
    record(page)
    record(page)
    waiting(page).to_have_attribute("data-waiting", "2")
    keys = [item["key"] for item in page.evaluate(QUEUE)]
    other = context_of(van).new_page()  # Record a visit is closed; the phone is back online
    page.close()
    context_of(van).set_offline(False)
    other.goto(live.url + "/")
    banner = other.locator("#queue-banner")
    expect(banner).to_contain_text("2 visits kept on this phone sent.")
    expect(banner).to_have_attribute("data-waiting", "0")
    assert encounters_by(live, COORDINATOR) == before + 2
    assert [recorded(live, key)["lines"][0]["quantity"] for key in keys] == [1, 1]
    assert other.evaluate(QUEUE) == []


def test_a_refused_visit_sent_from_another_page_is_kept_and_points_to_the_choices(
    scarce_item: str, van: Screen, live: Live
) -> None:
    page = van.page
    context_of(van).set_offline(True)
    record(page, **{scarce_item: 3})
    waiting(page).to_have_attribute("data-waiting", "1")
    live.services.app.adjust_stock(site="VAN-1", sku=scarce_item, lot="OFF-1", quantity=-2, reason="damaged",
                                   actor=ADMIN)  # fmt: skip
    other = context_of(van).new_page()
    page.close()
    context_of(van).set_offline(False)
    other.goto(live.url + "/")
    banner = other.locator("#queue-banner")
    expect(banner).to_contain_text("1 visit could not be recorded as entered and need your choice.")
    expect(banner.get_by_role("link", name="Open Record a visit")).to_be_visible()
    [kept] = other.evaluate(QUEUE)
    assert kept["state"] == "attention" and "Only 1" in kept["reason"]


def test_the_home_and_stock_pages_open_offline_with_their_last_figures_and_when_they_were_read(
    chromium: Browser, live: Live
) -> None:
    """A grant manager (who records nothing) reads the stock at the office, then opens it again with no signal."""
    context = chromium.new_context(viewport=VIEWPORTS["phone"], is_mobile=True, has_touch=True)  # type: ignore[arg-type]
    try:
        screen = Screen(context.new_page(), live.url, "phone", "read_pages_offline", [])
        screen.sign_in(GRANT_MANAGER)  # the home page, read online
        page = screen.page
        worker_ready(page)
        page.goto(live.url + "/sites/VAN-1/stock")  # now read through the worker, and kept
        online = page.locator("main table").first.inner_text()
        page.wait_for_function(f"() => {PAGES}.then(c => c && c.match('/sites/VAN-1/stock')).then(Boolean)")
        page.goto(live.url + "/")
        page.wait_for_function(f"() => {PAGES}.then(c => c && c.match('/')).then(Boolean)")
        context.set_offline(True)
        for path, heading in (("/sites/VAN-1/stock", "Stock at VAN-1"), ("/", "Dashboard")):
            opened = page.goto(live.url + path)
            assert opened is not None and opened.headers.get("x-offline-copy") == "kept on this device"
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            expect(page.locator(".offline-copy")).to_contain_text("Offline. These figures were read on")
            if path != "/":
                assert page.locator("main table").first.inner_text() == online  # the figures as they were read
        screen.shot("stock-offline")
        # A page never read here is not made up.
        never = page.goto(live.url + "/sites/WH/stock")
        assert never is not None
        expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    finally:
        context.close()
