"""The Account page lists where a person is signed in and their API tokens, and ends any of them at once;
an admin does the same for anyone from the account's admin page."""

from __future__ import annotations

import re

from flask import Flask

from inventory.application import InventoryApplication
from tests.web.conftest import STAFF, Caller
from tests.web.pages.conftest import HTTPS, Person, person

COORDINATOR = STAFF["coordinator"]
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
END_SESSION = re.compile(r'action="([^"]+/sessions/([0-9a-f]{16})/end)"')


def on(app: Flask, email: str, user_agent: str) -> Person:
    """`email` signed in on a browser that says it is `user_agent`."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    found = Person(email, client)
    assert found.sign_in().status_code == 302
    return found


def items(html: str, kind: str) -> list[str]:
    """The list items of devices (`session`) or tokens (`token`) on a page, as text."""
    found = re.findall(rf'<li data-{kind}="[^"]+">(.*?)</li>', html, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in found]


def test_the_account_page_lists_devices_and_tokens_and_is_in_everyones_menu(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    phone = on(flask_app, COORDINATOR, ANDROID)
    on(flask_app, COORDINATOR, WINDOWS)
    laptop = inventory.issue_token(email=COORDINATOR, label="Laptop script", actor=COORDINATOR)

    page = phone.get("/account")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Signed-in devices" in html and "API tokens" in html
    devices = items(html, "session")
    assert len(devices) == 3  # this phone, the Windows computer, and the test's own browser
    assert devices[0].startswith("Chrome on Android This phone Signed in ") and "last used now" in devices[0]
    assert any(d.startswith("Firefox on Windows Signed in ") for d in devices)
    assert html.count(">End this session</button>") == 3
    assert items(html, "token") == [
        f"tests Token {token_labelled(inventory, 'tests')} Revoke this token",
        f"Laptop script Token {laptop.split('_')[2]} Revoke this token",
    ]
    for role, who in people.items():
        assert 'href="/account"' in who.get("/").get_data(as_text=True), role
        assert who.get("/account").status_code == 200, role


def token_labelled(inventory: InventoryApplication, label: str) -> str:
    """The id of the coordinator's token with this label (the `staff` fixture's is "tests")."""
    return next(t["id"] for t in inventory.user(COORDINATOR)["tokens"] if t["label"] == label)


def test_ending_a_session_signs_that_browser_out_at_once(flask_app: Flask, people: dict[str, Person]) -> None:
    phone = on(flask_app, COORDINATOR, ANDROID)
    lost = on(flask_app, COORDINATOR, WINDOWS)
    end = f"/account/sessions/{lost_ref(phone.get('/account').get_data(as_text=True))}/end"

    done = phone.post(end, {}, token_from="/account")

    assert done.status_code == 302 and done.headers["Location"] == "/account"
    assert "Signed out Firefox on Windows" in phone.get("/account").get_data(as_text=True)
    refused = lost.get("/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/sign-in")
    assert lost.client.get("/api/v1/sites", base_url=HTTPS).status_code == 401
    assert phone.get("/").status_code == 200 and people["coordinator"].get("/").status_code == 200
    assert "Firefox on Windows" not in phone.get("/account").get_data(as_text=True)


def lost_ref(html: str) -> str:
    """The ref of the Windows computer's session on an Account page."""
    found = re.search(r'<li data-session="([0-9a-f]{16})">\s*<div[^>]*>\s*<strong>Firefox on Windows', html)
    assert found, "no Firefox on Windows session listed"
    return found.group(1)


def test_ending_this_session_or_all_others(flask_app: Flask, people: dict[str, Person]) -> None:
    phone = on(flask_app, COORDINATOR, ANDROID)
    computer = on(flask_app, COORDINATOR, WINDOWS)

    assert phone.post("/account/sessions/end-others", {}, token_from="/account").status_code == 302

    assert computer.get("/").status_code == 302 and people["coordinator"].get("/").status_code == 302
    assert len(items(phone.get("/account").get_data(as_text=True), "session")) == 1
    (own,) = END_SESSION.findall(phone.get("/account").get_data(as_text=True))
    signed_out = phone.post(own[0], {}, token_from="/account")
    assert signed_out.status_code == 302 and signed_out.headers["Location"] == "/sign-in"
    assert phone.get("/").status_code == 302


def test_revoking_a_token_from_the_account_page_leaves_the_others_working(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person], staff: dict[str, Caller]
) -> None:
    spare = Caller(flask_app.test_client(), inventory.issue_token(email=COORDINATOR, label="spare", actor=COORDINATOR))
    assert spare.token is not None
    coordinator = people["coordinator"]

    done = coordinator.post(f"/account/tokens/{spare.token.split('_')[2]}/revoke", {}, token_from="/account")

    assert done.status_code == 302
    assert "API token “spare”" in coordinator.get("/account").get_data(as_text=True)
    assert spare.get("/api/v1/sites").status_code == 401
    assert staff["coordinator"].get("/api/v1/sites").status_code == 200
    assert "spare" not in " ".join(items(coordinator.get("/account").get_data(as_text=True), "token"))


def test_no_one_ends_another_persons_session_or_token_from_their_own_account_page(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person], staff: dict[str, Caller]
) -> None:
    coordinator_html = people["coordinator"].get("/account").get_data(as_text=True)
    (_, ref), *_ = END_SESSION.findall(coordinator_html)
    token_id = token_labelled(inventory, "tests")
    auditor = people["auditor"]

    assert auditor.post(f"/account/sessions/{ref}/end", {}, token_from="/account").status_code == 404
    assert auditor.post(f"/account/tokens/{token_id}/revoke", {}, token_from="/account").status_code == 404

    assert people["coordinator"].get("/").status_code == 200
    assert staff["coordinator"].get("/api/v1/sites").status_code == 200


def test_an_admin_ends_another_persons_sessions_and_tokens(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person], staff: dict[str, Caller]
) -> None:
    admin, page = people["admin"], f"/admin/users/{COORDINATOR}"
    lost = on(flask_app, COORDINATOR, WINDOWS)
    flask_app.extensions["inventory"].projector.catch_up()  # the staff list, for the admin pages
    html = admin.get(page).get_data(as_text=True)
    assert "Signed-in devices" in html and "Firefox on Windows" in html and "Sign them out everywhere" in html
    assert len(items(html, "token")) == 1

    ended = admin.post(f"{page}/sessions/{lost_ref(html)}/end", {}, token_from=page)
    assert ended.status_code == 302 and lost.get("/").status_code == 302
    assert people["coordinator"].get("/").status_code == 200
    assert f"{COORDINATOR} is signed out on Firefox on Windows." in admin.get(page).get_data(as_text=True)

    everywhere = admin.post(f"{page}/sessions/end", {"confirm": "yes"})
    assert everywhere.status_code == 302 and people["coordinator"].get("/").status_code == 302
    assert "Not signed in anywhere." in admin.get(page).get_data(as_text=True)

    token_id = token_labelled(inventory, "tests")
    assert admin.post(f"{page}/tokens/{token_id}/revoke", {}, token_from=page).status_code == 302
    assert staff["coordinator"].get("/api/v1/sites").status_code == 401
    assert staff["auditor"].get("/api/v1/sites").status_code == 200
    assert "No API tokens." in admin.get(page).get_data(as_text=True)
    assert f"API token {token_id} revoked" in admin.get("/audit").get_data(as_text=True)
    # The coordinator signs in again with their password: only their sessions ended.
    assert person(flask_app, COORDINATOR).get("/").status_code == 200
