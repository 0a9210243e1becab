#!/bin/sh
# Profile plughost under wrk load with py-spy and print where the time goes (docs/performance.md,
# "How to profile"). Usage:
#   bench/profile.sh [CASE] [SECONDS]    CASE: a (public ping, default), b (gateway X-App-Name),
#                                        c (JWT GET of a client), d (gateway /apps/<app>/)
#   bench/profile.sh FILE.raw            summarise raw stacks recorded earlier
# Installs py-spy into the venv if it is missing (a bench-only tool, not a product dependency).
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
case "${1:-a}" in
  *.raw) exec "$PY" bench/host_overhead.py --summarize "$1" ;;
esac
[ -x "$(dirname "$PY")/py-spy" ] || command -v py-spy >/dev/null || "$PY" -m pip install -q py-spy
exec "$PY" bench/host_overhead.py --profile "${1:-a}" --profile-seconds "${2:-8}"
