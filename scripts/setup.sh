#!/usr/bin/env bash
# Installs what a clean machine lacks: pnpm at the pinned version, then the locked dependencies.
set -euo pipefail
want="$1"
if [ "$(pnpm --version 2>/dev/null || true)" != "$want" ]; then
  echo "installing pnpm@$want" >&2
  npm install --global "pnpm@$want" >/dev/null
fi
CI=true pnpm install --frozen-lockfile --reporter=append-only | tail -n 3
