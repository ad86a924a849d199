"""``python -m server.sandbox [--host 127.0.0.1] [--port 8090]``: serve the WeChat sandbox."""

from __future__ import annotations

import argparse
import logging
import re

from werkzeug.serving import WSGIRequestHandler, run_simple

from .app import create_sandbox_app

_SENSITIVE_PARAM = re.compile(r"(?<=[?&])(secret|access_token)=[^&]*")


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's one-line-per-request log, minus app secrets and access tokens in query strings.
    HTTP/1.1 keeps connections alive between calls, as WeChat's servers do."""

    protocol_version = "HTTP/1.1"
    quiet = False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.quiet:
            return
        original = self.path
        self.path = _SENSITIVE_PARAM.sub(r"\1=***", original)
        try:
            super().log_request(code, size)
        finally:
            self.path = original


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--quiet", action="store_true", help="no log line per request (benchmarks)")
    options = parser.parse_args(argv)
    RedactingRequestHandler.quiet = options.quiet

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_sandbox_app()
    settings = app.config["SANDBOX"]
    logging.getLogger("server.sandbox").info(
        "WeChat sandbox for apps %s, pushing official-account events to %s; "
        "WeChat Pay merchant %s (gateway http://%s:%d, notification retries after %s s); "
        "overview at http://%s:%d/sandbox/",
        ", ".join(settings["SANDBOX_APPS"]),
        settings["SANDBOX_OA_CALLBACK_URL"],
        settings["SANDBOX_PAY_MCHID"],
        options.host,
        options.port,
        settings["SANDBOX_PAY_NOTIFY_SCHEDULE"],
        options.host,
        options.port,
    )
    run_simple(options.host, options.port, app, threaded=True, request_handler=RedactingRequestHandler)


if __name__ == "__main__":
    main()
