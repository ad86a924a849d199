"""Fixed-window rate limits in Redis. When Redis is down the limit is not enforced (logged): losing
the limiter for a while is better than refusing every owner."""
from __future__ import annotations

import logging
import time

import redis
from flask import request

from .errors import TooManyRequests
from .extensions import get_redis

log = logging.getLogger(__name__)


def client_ip() -> str:
    # TrustedProxies (server/proxies.py, installed in create_app) has already put the client's address here,
    # read from X-Forwarded-For only when the request came through one of our proxies.
    return request.remote_addr or "unknown"


def hit(name: str, key: str, rule: tuple[int, int]) -> None:
    """Count one request for `name`/`key` against rule (limit, window seconds); 429 when over."""
    limit, window = rule
    bucket = int(time.time() // window)
    rkey = f"wuye:rl:{name}:{key}:{bucket}"
    try:
        pipe = get_redis().pipeline()
        pipe.incr(rkey)
        pipe.expire(rkey, window + 1)
        count = pipe.execute()[0]
    except redis.RedisError:
        log.warning("rate limiter unavailable (Redis down); allowing %s", name)
        return
    if count > limit:
        retry_after = window - int(time.time()) % window
        raise TooManyRequests(headers={"Retry-After": str(retry_after)})
