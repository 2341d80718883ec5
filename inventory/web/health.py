"""GET /healthz (the process answers) and GET /readyz (it can serve: database reachable, tables in
place, read models neither stopped at an event they cannot apply nor lagging the log by more than
INVENTORY_READY_MAX_LAG events)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

from inventory.bootstrap import missing_schema
from inventory.web.errors import DATABASE_UNAVAILABLE
from inventory.web.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    found = services()
    limit = found.settings.ready_max_lag
    body: dict[str, Any] = {"status": "ready", "max_lag": limit}
    try:
        problem = missing_schema(found)
        if problem:
            return _not_ready(body, problem)
        stop = found.projector.stop(fresh=True)
        if stop is not None:
            return _not_ready(body, stop.describe())
        head = int(found.app.recorder.max_notification_id() or 0)
        positions = found.projector.positions()
    except DATABASE_UNAVAILABLE as error:
        current_app.logger.warning("readyz: database unreachable (%s)", type(error).__name__)
        return _not_ready(body, "The database cannot be reached.")
    body["head"] = head
    lags = {name: head - position for name, position in positions.items()}
    body["lag"] = max(lags.values(), default=0)
    behind = sorted(name for name, lag in lags.items() if lag > limit)
    if behind:
        return _not_ready(
            body,
            f"Read models are {body['lag']} events behind the log ({', '.join(behind)}): "
            "is `inventory worker` running?",
        )
    return jsonify(body)


def _not_ready(body: dict[str, Any], reason: str) -> ResponseReturnValue:
    response = jsonify({**body, "status": "not ready", "reason": reason})
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response


def register_health(app: Flask) -> None:
    app.register_blueprint(bp)
