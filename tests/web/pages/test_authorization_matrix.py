"""Every page route x method x role, from the app's URL map: the right answer, never another site's data.

The action each route needs is written out below, independently of the code; who may do that
action comes from the permission table in inventory/application/access.py. A route missing from the table
fails here (decide who may use it), and so does one that lets the wrong role in. The coordinator
works at VAN-1 only: every route naming WH must refuse them without showing WH's stock.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from inventory.application import InventoryApplication
from inventory.application.access import PERMISSIONS, Action
from inventory.domain.alerts import alert_id
from tests.web.conftest import ADMIN, STAFF
from tests.web.pages.conftest import Person, csrf_token, person

# What each page route needs. Admin routes about a site record (<code>) are catalog management,
# not work at that site.
NEEDS: dict[str, Action] = {
    "dashboard.home": Action.READ_STOCK,
    "stock.index": Action.READ_STOCK,
    "stock.site": Action.READ_STOCK,
    "stock.card": Action.READ_STOCK,
    "encounters.choose": Action.RECORD_ENCOUNTER,
    "encounters.new": Action.RECORD_ENCOUNTER,
    "tallies.choose": Action.RECORD_ENCOUNTER,
    "tallies.record": Action.RECORD_ENCOUNTER,
    "receiving.choose": Action.RECEIVE_STOCK,
    "receiving.new": Action.RECEIVE_STOCK,
    "order_receiving.receive": Action.RECEIVE_STOCK,
    "transfers.index": Action.TRANSFER,
    "transfers.new": Action.TRANSFER,
    "transfers.receive": Action.TRANSFER,
    "transfers.cancel": Action.TRANSFER,
    "corrections.void_transfer": Action.TRANSFER,
    "counts.choose": Action.COUNT_STOCK,
    "counts.count": Action.COUNT_STOCK,
    "counts.adjust": Action.ADJUST_STOCK,
    "alerts.index": Action.READ_ALERTS,
    "alerts.acknowledge": Action.ACKNOWLEDGE_ALERTS,
    "alerts.snooze": Action.ACKNOWLEDGE_ALERTS,
    "alerts.assign": Action.ACKNOWLEDGE_ALERTS,
    "alerts.history": Action.READ_ALERTS,
    "audit.index": Action.READ_AUDIT,
    "audit.stock_at": Action.READ_AUDIT,
    "audit.seal": Action.READ_AUDIT,
    "exports.index": Action.EXPORT,
    "exports.grant_report": Action.EXPORT,
    "exports.stock_report": Action.EXPORT,
    "exports.distribution_log": Action.EXPORT,
    "exports.job": Action.EXPORT,
    "exports.job_progress": Action.EXPORT,
    "exports.download": Action.EXPORT,
    "admin.index": Action.MANAGE_CATALOG,
    "admin.sites": Action.MANAGE_CATALOG,
    "admin.new_site": Action.MANAGE_CATALOG,
    "admin.close_site": Action.MANAGE_CATALOG,
    "admin.reopen_site": Action.MANAGE_CATALOG,
    "admin.items": Action.MANAGE_CATALOG,
    "admin.new_item": Action.MANAGE_CATALOG,
    "admin.item_units": Action.MANAGE_CATALOG,
    "admin.retire_item": Action.MANAGE_CATALOG,
    "admin.funding": Action.MANAGE_CATALOG,
    "admin.new_funding": Action.MANAGE_CATALOG,
    "admin.funding_rules": Action.MANAGE_CATALOG,
    "admin.import_page": Action.MANAGE_CATALOG,
    "admin.import_template": Action.MANAGE_CATALOG,
    "admin.levels": Action.SET_LEVELS,
    "admin.set_level": Action.SET_LEVELS,
    "admin.users": Action.MANAGE_USERS,
    "admin.new_user": Action.MANAGE_USERS,
    "admin.user": Action.MANAGE_USERS,
    "admin.user_password": Action.MANAGE_USERS,
    "admin.deactivate_user": Action.MANAGE_USERS,
    "admin.reactivate_user": Action.MANAGE_USERS,
    "admin.end_user_session": Action.MANAGE_USERS,
    "admin.end_user_sessions": Action.MANAGE_USERS,
    "admin.revoke_user_token": Action.MANAGE_USERS,
    "purchase_orders.index": Action.PURCHASE,
    "purchase_orders.new": Action.PURCHASE,
    "purchase_orders.show": Action.PURCHASE,
    "purchase_orders.printable": Action.PURCHASE,
    "purchase_orders.suppliers_page": Action.PURCHASE,
    "purchase_orders.submit": Action.PURCHASE,
    "purchase_orders.cancel": Action.PURCHASE,
    "purchase_orders.close": Action.PURCHASE,
    "partners.index": Action.SUPPLY_PARTNERS,
    "partners.issue": Action.SUPPLY_PARTNERS,
    "partners.show": Action.REPORT_FOR_PARTNER,
    "partners.new": Action.MANAGE_CATALOG,
    "mail.index": Action.RECORD_ENCOUNTER,
    "mail.site_orders": Action.RECORD_ENCOUNTER,
    "mail.returned": Action.RECORD_ENCOUNTER,
    "mail.void": Action.RECORD_ENCOUNTER,
    "partners.void_issue": Action.SUPPLY_PARTNERS,
    # Changing an entry needs the right to record it there: the matrix's entry is a receipt at WH.
    "corrections.undo_visit": Action.RECORD_ENCOUNTER,
    "corrections.change_entry": Action.RECEIVE_STOCK,
    "vending.import_dispenses": Action.RECORD_ENCOUNTER,
    "holds.site_held": Action.ADJUST_STOCK,
    "holds.write_off": Action.ADJUST_STOCK,
    "holds.release": Action.ADJUST_STOCK,
    "recalls.index": Action.READ_RECALLS,
    "recalls.detail": Action.READ_RECALLS,
    "recalls.workbook": Action.READ_RECALLS,
    "recalls.record": Action.RECALL,
    "recalls.close": Action.RECALL,
    "trace.lot": Action.READ_AUDIT,
    "trace.visit": Action.READ_AUDIT,
    "trace.order": Action.READ_AUDIT,
    "kits.site_kits": Action.ADJUST_STOCK,
    "kits.take_apart": Action.ADJUST_STOCK,
    "kits.recipe": Action.MANAGE_CATALOG,
}

# Routes every signed-in person may use, whatever their role: each acts on their own account only
# (another person's session or token is 404).
SIGNED_IN = {"account.index", "account.end_session_of", "account.end_other_sessions", "account.revoke_token"}

# Routes anyone may reach, signed in or not.
# The service worker is a script like those under /static: it holds no data.
PUBLIC = {
    *("static", "health.healthz", "health.readyz", "auth.sign_in", "auth.sign_out"),
    *("offline.service_worker", "offline.manifest"),
}
OWN_SITE, OTHER_SITE = "VAN-1", "WH"
# Words of the code, not of a coordinator: none may be read on any page (tags, attributes and scripts
# are not read, only the text shown).
DEVELOPER_WORDS = re.compile(
    r"(?i:read models?\b|projection|aggregate|originator|StockLedger|\bevent_type\b|Traceback|\bUUID\b|"
    r"\bqualname\b|\bisoformat\b)|\b(?:Encounter|Transfer|ShiftTally|Alert|User)\.[A-Z]|"
    r"(?<=[a-z,:(] )None\b|\bnull\b"  # Python's None where a figure was missing ("None this week." is English)
)
WH_ONLY_LOT = "WHLOT-7781"  # received at WH only: must never appear in an answer to the coordinator


def shown_text(html: str) -> str:
    """The words a page shows: no scripts, styles, tags or attribute values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL | re.IGNORECASE)
    return re.sub(r"<[^>]*>", " ", html)


def page_rules(app: Flask) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if not r.rule.startswith("/api/") and r.endpoint not in PUBLIC),
        key=lambda r: r.rule,
    )


@pytest.fixture
def program(inventory: InventoryApplication, people: dict[str, Person], flask_app: Flask) -> dict[str, str]:
    """Stock at both sites and a transfer WH → VAN-1 in transit; the values URL variables take."""
    expiry = date.today() + timedelta(days=400)
    received = {}
    for site, lot in ((OTHER_SITE, WH_ONLY_LOT), (OWN_SITE, "VANLOT-1")):
        received[site] = inventory.receive_stock(
            site=site, sku="NALOX-4MG", quantity=50, lot=lot, expires_on=expiry, funding_source="STATE", actor=ADMIN
        )
    visit = inventory.record_encounter(
        key="matrix-visit-0001", site=OWN_SITE, lines=[{"sku": "NALOX-4MG", "quantity": 1}], actor=ADMIN
    )
    # The transfer carries a lot of its own: the lot it sends is the van's business too (its coordinator
    # counts it on arrival), while WH_ONLY_LOT stays at WH.
    inventory.receive_stock(
        site=OTHER_SITE,
        sku="NALOX-4MG",
        quantity=5,
        lot="SENTLOT-1",
        expires_on=expiry,
        funding_source="STATE",
        actor=ADMIN,
    )
    transfer = inventory.dispatch_transfer(
        from_site=OTHER_SITE,
        to_site=OWN_SITE,
        lines=[{"sku": "NALOX-4MG", "quantity": 5, "lot": "SENTLOT-1"}],
        actor=ADMIN,
    )
    order = inventory.raise_purchase_order(
        supplier="Matrix Supply Co",
        site=OTHER_SITE,
        funding_source="STATE",
        lines=[{"sku": "NALOX-4MG", "quantity": 12}],
        actor=ADMIN,
    )
    # Syringe levels at WH and none there: open alerts at WH (one is acknowledged by the matrix's POST).
    inventory.set_stock_level(
        site=OTHER_SITE, sku="SYR-1ML", reorder_point=10, par_level=20, lead_time_days=3, actor=ADMIN
    )
    # A partner, and a parcel sent from the van (a parcel named from WH's page is not WH's: 404).
    inventory.register_partner(code="SHELTER-1", name="Harbour Shelter", kind="shelter", contact_role="Manager",
                               actor=ADMIN)  # fmt: skip
    parcel = inventory.send_mail_order(key="matrix-parcel-1", site=OWN_SITE, carrier="Post", tracking="RR123456789CA",
                                       lines=[{"sku": "NALOX-4MG", "quantity": 1}], actor=ADMIN)  # fmt: skip
    issue = inventory.issue_to_partner(key="matrix-issue-1", site=OWN_SITE, partner="SHELTER-1",
                                       lines=[{"sku": "NALOX-4MG", "quantity": 1}], actor=ADMIN)  # fmt: skip
    # A recall of a maker's lot no receipt names: it holds nothing, so the rest of the matrix is unchanged.
    recall = inventory.announce_recall(manufacturer="Matrix Pharma", manufacturer_lot="MX-1", notice="", lots=[],
                                       sites=[OWN_SITE, OTHER_SITE], actor=ADMIN)  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    inventory.check_alerts(date.today(), datetime.now(UTC), store=flask_app.extensions["inventory"].store)
    flask_app.extensions["inventory"].projector.catch_up()
    # An export the auditor asked for (anyone else who may export is answered 404 for it).
    asked = people["auditor"].post(
        "/exports/stock-report", {"stock-on": date.today().isoformat()}, token_from="/exports"
    )
    assert asked.status_code == 303, asked.get_data(as_text=True)[:500]
    assert flask_app.extensions["export_jobs"].drain(timeout=60)
    # The auditor signed in on a second device, and the auditor's API token: the account routes end
    # and revoke them for the auditor, and answer everyone else 404.
    person(flask_app, STAFF["auditor"])
    second = max(flask_app.extensions["staff_sessions"].of(STAFF["auditor"]), key=lambda found: found.signed_in_at)
    return {
        "ref": second.ref,
        "token_id": inventory.user(STAFF["auditor"])["tokens"][0]["id"],
        "job_id": asked.headers["Location"].rsplit("/", 1)[1],
        "code": OTHER_SITE,
        "sku": "NALOX-4MG",
        "transfer_id": str(transfer["id"]),
        "email": STAFF["auditor"],
        "order_id": str(order["id"]),
        "alert_id": str(alert_id("out_of_stock", OTHER_SITE, "SYR-1ML")),
        "position": str(received[OTHER_SITE]["position"]),
        "visit_id": str(visit["id"]),
        "partner": "SHELTER-1",
        "parcel": str(parcel["id"]),
        "issue_id": str(issue["id"]),
        "recall": str(recall["id"]),
        "lot": WH_ONLY_LOT,  # an auditor's trace of a lot shows every site's stock of it
    }


# Routes that act on a site named by the object in the URL, not by <site>: which site that is.
SITE_OF_OBJECT = {
    "transfers.receive": OWN_SITE,
    "transfers.cancel": OTHER_SITE,
    "corrections.void_transfer": OTHER_SITE,  # in transit: the sender's to void
    "alerts.acknowledge": OTHER_SITE,
    "alerts.snooze": OTHER_SITE,
    "alerts.assign": OTHER_SITE,
    "alerts.history": OTHER_SITE,
    "corrections.undo_visit": OWN_SITE,
    "corrections.change_entry": OTHER_SITE,
    "order_receiving.receive": OTHER_SITE,
    **{f"purchase_orders.{name}": OTHER_SITE for name in ("show", "printable", "submit", "cancel", "close")},
}


def url_for_rule(rule: Rule, site: str, values: dict[str, str]) -> str:
    args: dict[str, Any] = {}
    for name in rule.arguments:
        if name == "site":
            args["site"] = site
        else:
            assert name in values, f"the matrix does not know a value for <{name}> in {rule.rule}; add one"
            args[name] = values[name]
    return rule.build(args, append_unknown=False)[1]  # type: ignore[index]


def cases(app: Flask) -> list[tuple[Rule, str, str]]:
    found = []
    for rule in page_rules(app):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            sites = [OWN_SITE, OTHER_SITE] if "site" in rule.arguments else [OWN_SITE]
            found.extend((rule, method, site) for site in sites)
    return found


def expected_allowed(app: Flask, rule: Rule, role: str, site: str) -> bool:
    if rule.endpoint in SIGNED_IN:
        return True
    assert rule.endpoint in NEEDS, f"{rule.endpoint} ({rule.rule}) is not in NEEDS: decide who may use it"
    action = NEEDS[rule.endpoint]
    if action not in PERMISSIONS[role]:
        return False
    concerned = site if "site" in rule.arguments else SITE_OF_OBJECT.get(rule.endpoint)
    return not (role == "coordinator" and concerned is not None and concerned != OWN_SITE)


def test_every_page_route_answers_each_role_as_the_permission_table_says(
    flask_app: Flask, people: dict[str, Person], program: dict[str, str]
) -> None:
    checked: set[str] = set()
    problems = []
    token = csrf_token(people["admin"].get("/").get_data(as_text=True))
    for rule, method, site in cases(flask_app):
        url = url_for_rule(rule, site, program)
        for role, who in people.items():
            allowed = expected_allowed(flask_app, rule, role, site)
            if method == "GET":
                response = who.get(url)
            else:  # an empty form with a valid CSRF token: refused by authorization, or by validation
                page_token = csrf_token(who.get("/").get_data(as_text=True))
                response = who.post_raw(url, {"csrf_token": page_token})
            body = response.get_data().decode("utf-8", "replace")  # a download (an export, the import template)
            response.close()  # a file sent from disk stays open until the response is closed
            status = response.status_code
            if allowed and status in (401, 403):
                problems.append(f"{role} {method} {url}: {status}, expected to be let in")
            elif not allowed and status not in (403, 404):
                problems.append(f"{role} {method} {url}: {status}, expected 403/404")
            if status >= 500:
                problems.append(f"{role} {method} {url}: {status}")
            if role == "coordinator" and WH_ONLY_LOT in body:
                problems.append(f"coordinator {method} {url}: shows WH's lot {WH_ONLY_LOT}")
            if response.mimetype == "text/html" and (words := DEVELOPER_WORDS.findall(shown_text(body))):
                text = shown_text(body)
                where = [text[max(0, m.start() - 60) : m.end() + 20] for m in DEVELOPER_WORDS.finditer(text)][:1]
                problems.append(f"{role} {method} {url}: shows the code's words {sorted(set(words))} {where}")
            checked.add(rule.endpoint)
    assert token
    assert not problems, "\n".join(problems)
    assert checked == {rule.endpoint for rule in page_rules(flask_app)}
    assert len(checked) >= 29


def test_signed_out_visitors_are_sent_to_sign_in(flask_app: Flask, program: dict[str, str]) -> None:
    visitor = person(flask_app, "nobody@example.org", signed_in=False)
    token = csrf_token(visitor.get("/sign-in").get_data(as_text=True))
    for rule, method, site in cases(flask_app):
        url = url_for_rule(rule, site, program)
        response = visitor.get(url) if method == "GET" else visitor.post_raw(url, {"csrf_token": token})
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.headers["Location"].startswith("/sign-in"), (method, url)
