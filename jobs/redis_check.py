"""Exit 0 when the configured Redis answers (used by `make run` to decide whether to start one)."""
import sys

import redis

from server.config import load_config

try:
    redis.Redis.from_url(load_config()["REDIS_URL"], socket_connect_timeout=1).ping()
except redis.RedisError:
    sys.exit(1)
