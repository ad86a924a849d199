#!/bin/sh
# Run a flask command with the services' settings (systemd route), e.g.
#   sudo -u wuye /opt/wuye/deploy/flask.sh jobs list
# Without /etc/wuye/wuye.env the app would fall back to the development defaults (a local SQLite file).
# It changes to the code directory: give file arguments as absolute paths.
set -eu
ENV_FILE=${WUYE_ENV_FILE:-/etc/wuye/wuye.env}
cd "$(dirname "$0")/.."
[ -r "$ENV_FILE" ] || { echo "cannot read $ENV_FILE (run as the wuye user)" >&2; exit 1; }
set -a
. "$ENV_FILE"
set +a
export FLASK_APP=server.app:create_app
exec .venv/bin/flask "$@"
