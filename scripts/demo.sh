#!/usr/bin/env bash
# README command (a): set up, build a synthetic region, screen it and serve the web UI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SPARK_LOCAL_IP=127.0.0.1
exec .venv/bin/fundguard demo "$@"
