"""Security headers of the HTML the app serves outside the admin page.

The API's HTML documents (the printable service notice, the receipts: server/rendering.py) hold owners'
names, addresses and amounts and run no script but the notice's print button: they get a policy that
allows nothing but their inline <style>, that one button handler (by hash) and images from here, can be
framed by no one, leak no Referer and post no form. The Swagger UI (`/api/v1/docs`, flask-smorest's page)
loads its bundle from /api/v1/docs/assets/ and runs one inline script: it gets a policy of its own, that
script allowed by its hash, computed from the page as served (the page is built from configuration only,
never from what a user sent, so nothing injected can be hashed in).

A response that already has a Content-Security-Policy keeps it: the admin page sets its own, stricter
for its needs (server/admin/blueprint.py), in its blueprint's after_request, which runs before this one.
JSON and files are left alone.
"""
from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request

# The notice's print button (onclick="window.print()") is the one script a document has: allowed by the hash
# of exactly that handler ('unsafe-hashes' lets a hash match an event-handler attribute; no <script> runs).
PRINT_HANDLER = "window.print()"
_PRINT_HASH = base64.b64encode(hashlib.sha256(PRINT_HANDLER.encode()).digest()).decode()
DOCUMENT_CSP = (f"default-src 'none'; script-src 'unsafe-hashes' 'sha256-{_PRINT_HASH}'; style-src 'unsafe-inline'; "
                "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
SWAGGER_ENDPOINT = "api-docs.openapi_swagger_ui"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def swagger_csp(html: str) -> str:
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in _INLINE_SCRIPT.findall(html))
    return (f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'")


def init_html_headers(app: Flask) -> None:
    @app.after_request
    def _html_headers(response: Response) -> Response:
        if response.mimetype != "text/html" or "Content-Security-Policy" in response.headers:
            return response
        if request.endpoint == SWAGGER_ENDPOINT and not response.is_streamed:
            response.headers["Content-Security-Policy"] = swagger_csp(response.get_data(as_text=True))
        else:
            response.headers["Content-Security-Policy"] = DOCUMENT_CSP
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
