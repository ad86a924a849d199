#!/usr/bin/env bash
# Start this machine's PostgreSQL and Redis when they are down, and wait until they answer.
set -euo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }

if ! pg_up; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if ! redis_up; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
for _ in $(seq 1 50); do
  if pg_up && redis_up; then exit 0; fi
  sleep 0.2
done
pg_up || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
redis_up || { echo "Redis is not answering on 127.0.0.1:6379" >&2; exit 1; }
