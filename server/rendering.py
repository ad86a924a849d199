"""Printable HTML documents (service notices, receipts) rendered from a package's own templates folder,
autoescaped, independent of the Flask app's template folder."""
from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from .money import capital, yuan


@lru_cache(maxsize=None)
def environment(package: str) -> Environment:
    env = Environment(loader=PackageLoader(package, "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["yuan"] = yuan
    env.filters["capital"] = capital
    return env


def render(package: str, template: str, **context) -> str:
    return environment(package).get_template(template).render(**context)
