"""When the read models have stopped (inventory.projections.stopped): say so on every page, and
record nothing new that would not show.

Every page carries a notice while the figures are stopped. A write (a visit, a receipt, a form)
is refused with 503 before anything is recorded, because what it recorded would not show on any
page or report until the stop is mended; signing in and out stay open. Should the read models
stop on the very entry a request just recorded, the answer says it was recorded, so nobody
records it twice.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from inventory.application.access import Action, Principal
from inventory.projections.stopped import ReadModelsStopped, Stop
from inventory.web.errors import envelope, page, wants_json
from inventory.web.services import services

WRITES = ("POST", "PUT", "PATCH", "DELETE")
# Open while the figures are stopped: signing in and out, and a person's own account.
STILL_OPEN = ("/sign-in", "/sign-out", "/account", "/api/v1/tokens")
RETRY_AFTER = 60

NOT_RECORDED = (
    "Nothing was recorded. The stock figures stopped updating at an entry they cannot show, so new entries "
    "would not show either. An administrator has been told. Write this down on paper for now and enter it "
    "once the figures are running again."
)
RECORDED = (
    "This was recorded, but the stock figures stopped updating just now and do not show it yet. Do not "
    "record it again. An administrator has been told."
)


def notice(who: Principal | None, stop: Stop) -> str:
    """The notice every page shows: plain words for everyone, what happened for those who can act."""
    words = "The stock figures stopped updating; new entries cannot be recorded until an administrator fixes it."
    if who is not None and who.can(Action.MANAGE_CATALOG):
        words += f" {stop.describe()} Run `inventory projections status` on the server for details."
    return words


def answer(message: str) -> Response:
    """503 with Retry-After: the API's envelope, or a page saying what happened."""
    if wants_json():
        response = envelope("read_models_stopped", message, 503)
    else:
        body, status = page("The stock figures stopped updating", message, 503)
        response = Response(body, status=status, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def refuse_writes_while_stopped() -> Response | None:
    if request.method not in WRITES or request.path.startswith(STILL_OPEN):
        return None
    if services().projector.stop() is None:
        return None
    return answer(NOT_RECORDED)


def stopped_while_answering(error: ReadModelsStopped) -> Response:
    """The read models stopped while this request caught them up: a write was recorded (say so)."""
    if request.method in WRITES:
        return answer(RECORDED)
    return answer(notice(None, error.stop))


def register_figures_checks(app: Flask) -> None:
    app.before_request(refuse_writes_while_stopped)
    app.register_error_handler(ReadModelsStopped, stopped_while_answering)

    @app.context_processor
    def figures_stopped() -> dict[str, Any]:
        if request.endpoint in ("static", "health.healthz", "health.readyz"):
            return {}
        try:
            stop = services().projector.stop()
        except Exception:  # the database is away or not set up: the page says so itself
            return {"figures_stopped": None}
        if stop is None:
            return {"figures_stopped": None}
        from flask_login import current_user

        return {"figures_stopped": notice(getattr(current_user, "principal", None), stop)}
