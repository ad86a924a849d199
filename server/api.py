"""flask-smorest wiring: the Api with our error envelope, and blueprints that document bearer auth."""
from __future__ import annotations

from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint

from . import errors


class Api(_Api):
    ERROR_SCHEMA = errors.ErrorSchema

    def handle_http_exception(self, error):  # the one envelope, also for webargs validation errors
        return errors.handle_http_exception(error)


def blueprint(name: str, url_prefix: str, description: str) -> _Blueprint:
    return _Blueprint(name, __name__, url_prefix=url_prefix, description=description)


BEARER = [{"bearerAuth": []}]
