"""Mail orders: a parcel of supplies packed and posted from a site, and a parcel that came back.

The form asks what went, the carrier and the tracking reference, and who it is for as a recipient type:
never a name or an address (the program keeps those in its mailing tool; see the README).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from inventory.application import rules
from inventory.application.access import Action
from inventory.application.mail import CARRIER_LENGTH
from inventory.domain.errors import InventoryError
from inventory.domain.reach import PERSON_WHO_USES_DRUGS
from inventory.projections import reach_queries
from inventory.web.pages.common import page, principal, today
from inventory.web.pages.corrections import VoidForm
from inventory.web.pages.fields import within
from inventory.web.pages.item_lines import ItemLine, label_lines, lines_entered, lines_in_words, on_hand_lines
from inventory.web.pages.movements import WholeNumber, choose_site, form_status, items_by_sku, show_error, site_name
from inventory.web.pages.reach import recipient_options
from inventory.web.services import services

bp = Blueprint("mail", __name__)
RECENT_DAYS = 30


class MailOrderForm(FlaskForm):
    key = HiddenField()
    lines = FieldList(FormField(ItemLine), max_entries=200)
    carrier = StringField("Carrier", validators=[DataRequired("Enter the carrier."), Length(max=CARRIER_LENGTH)])
    tracking = StringField(
        "Tracking reference",
        validators=[DataRequired("Enter the tracking reference on the label."), Length(max=60)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    recipient = SelectField("Who it is for", default=PERSON_WHO_USES_DRUGS)
    for_others = WholeNumber(
        "Collecting for others: about how many people",
        default=0,
        validators=[Optional(), within(rules.VISIT_FOR_OTHERS)],
    )


class ReturnedForm(FlaskForm):
    """The button of a parcel that came back (its CSRF token)."""


@bp.get("/mail-orders")
@page(Action.RECORD_ENCOUNTER)
def index() -> ResponseReturnValue:
    return choose_site(Action.RECORD_ENCOUNTER, "mail.site_orders", "pages/mail/choose.html")


@bp.route("/sites/<site>/mail-orders", methods=["GET", "POST"])
@page(Action.RECORD_ENCOUNTER)
def site_orders(site: str) -> ResponseReturnValue:
    """Send a parcel from this site, and the parcels sent in the last 30 days (one may have come back)."""
    items = items_by_sku()
    form = MailOrderForm(data={"key": secrets.token_urlsafe(16), "lines": on_hand_lines(site)})
    form.recipient.choices = recipient_options()
    label_lines(form.lines, items)
    status = 200
    if form.validate_on_submit():
        lines = lines_entered(form.lines)
        if not lines:
            form.form_errors.append("Enter a quantity for at least one item: what went in the parcel.")
            status = 422
        else:
            try:
                sent = services().app.send_mail_order(
                    key=form.key.data or "", site=site, lines=lines, carrier=form.carrier.data or "",
                    tracking=form.tracking.data or "", recipient=form.recipient.data,
                    for_others=form.for_others.data or 0, actor=principal().email,
                )  # fmt: skip
            except InventoryError as error:
                if error.field in ("carrier", "tracking", "recipient", "for_others"):
                    show_error(form, error)
                else:
                    form.form_errors.append(error.message)
                status = form_status(error)
            else:
                services().projector.read_your_writes()
                packed = lines_in_words(sent["lines"], items)
                flash(f"Parcel {sent['tracking']} recorded as sent from {site}: {packed}.", "success")
                return redirect(url_for("mail.site_orders", site=site))
    elif request.method == "POST":
        status = 422
    day = today()
    return render_template(
        "pages/mail/site.html",
        form=form,
        site=site,
        site_name=site_name(site),
        orders=reach_queries.mail_orders(services().store, site, day - timedelta(days=RECENT_DAYS - 1), day),
        items=items,
        days=RECENT_DAYS,
        returned_form=ReturnedForm(),
        void_form=VoidForm(formdata=None),
    ), status


@bp.post("/sites/<site>/mail-orders/<parcel>/returned")
@page(Action.RECORD_ENCOUNTER)
def returned(site: str, parcel: str) -> ResponseReturnValue:
    """The parcel came back undelivered: its supplies are back on the shelf from today."""
    if not ReturnedForm().validate_on_submit():
        abort(400, description="The form was out of date: open the page again and tap the button once more.")
    try:
        order = services().app.mail_order(parcel)
        if order["site"] != site:
            abort(404, description=f"There is no such mail order from {site}.")
        back = services().app.parcel_returned(mail_order=parcel, actor=principal().email)
    except InventoryError as error:
        flash(error.message, "error")
    else:
        services().projector.read_your_writes()
        flash(f"Parcel {back['tracking']} is back: its supplies are on the shelf at {site} again.", "success")
    return redirect(url_for("mail.site_orders", site=site))


@bp.post("/sites/<site>/mail-orders/<parcel>/void")
@page(Action.RECORD_ENCOUNTER)
def void(site: str, parcel: str) -> ResponseReturnValue:
    """A parcel recorded by mistake (it was never sent): its supplies go back on its own time, no report counts it."""
    form = VoidForm()
    if not form.validate_on_submit():
        flash("Choose why the parcel is undone, then tap Undo again.", "error")
        return redirect(url_for("mail.site_orders", site=site))
    who = principal()
    try:
        order = services().app.mail_order(parcel)
        if order["site"] != site:
            abort(404, description=f"There is no such mail order from {site}.")
        services().app.void_mail_order(
            mail_order_id=parcel, reason=str(form.reason.data), actor=who.email, within=who.correction_window
        )
    except InventoryError as error:
        flash(error.message, "error")
    else:
        services().projector.read_your_writes()
        flash(f"Parcel {order['tracking']} is undone: its supplies are back at {site} as if it was never packed.",
              "success")  # fmt: skip
    return redirect(url_for("mail.site_orders", site=site))
