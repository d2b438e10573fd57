#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh Debian 12 machine for fundguard:
# Debian packages, the virtual environment at .venv, and the pinned Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3-venv chromium fonts-noto-cjk postgresql libgomp1 openjdk-17-jre-headless)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] 安装系统软件包 / installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[setup] 创建虚拟环境 / creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.fundguard-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] 安装 Python 依赖 / installing Python packages (pinned in constraints.txt)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[spark,test]"
  echo "$want" > "$stamp"
fi
echo "[setup] 就绪 / ready: .venv/bin/fundguard"
