"""Browser-facing protections: cookie flags, CSRF on every form, and the security headers."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from inventory.adapters.settings import Settings

csrf = CSRFProtect()
HSTS = "max-age=63072000; includeSubDomains"

# No inline script or style anywhere: every script and style sheet is a file under /static.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def trust_proxies(app: Flask, count: int) -> None:
    """Behind `count` proxies, take the client's address and scheme from the X-Forwarded-For and
    X-Forwarded-Proto the proxies add (the last `count` entries; anything a client sent is further
    left and ignored). With none, those headers are ignored: anyone could send them."""
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def secure(app: Flask, settings: Settings) -> None:
    """Set cookie flags, trust the proxies in front, turn on CSRF protection and add the headers to every answer."""
    trust_proxies(app, settings.trusted_proxies)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Outside development the service is behind HTTPS; the built-in server is plain HTTP.
        SESSION_COOKIE_SECURE=not settings.development,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=not settings.development,
        PERMANENT_SESSION_LIFETIME=12 * 60 * 60,
        WTF_CSRF_TIME_LIMIT=12 * 60 * 60,
    )
    app.config.setdefault("WTF_CSRF_ENABLED", True)
    # Checked below for every page; the API (/api/) authenticates with bearer tokens, not cookies.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @app.before_request
    def check_csrf() -> None:
        if request.method not in ("GET", "HEAD", "OPTIONS") and not request.path.startswith("/api/"):
            csrf.protect()

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not settings.development:
            # Production is served over HTTPS only: browsers never try plain HTTP again for two years.
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if not request.path.startswith("/static/"):
            # Pages show stock and staff names: never kept by a shared browser's cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
