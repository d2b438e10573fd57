#!/usr/bin/env bash
# README command (b): set up, lint, and run every test (DuckDB, Spark, SQLite, PostgreSQL, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SPARK_LOCAL_IP=127.0.0.1
.venv/bin/ruff check src tests
exec .venv/bin/python -m pytest "$@"
