#!/usr/bin/env bash
# The soak of issue 10: cortadod under 32 concurrent HTTP clients for 10 minutes while a new
# model version is published every 30 s (poll mode, the old ones removed). Passes when no
# request fails (clearly signalled overload, 503 "overloaded", is counted apart) and RSS at the
# end is within 10% of RSS after the 30 s warm-up. Not run in CI (it takes 10.5 minutes).
#
#   bazel build //server:cortadod && bench/soak.sh [bazel-bin/server/cortadod]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 server/reload_under_load.py "${1:-bazel-bin/server/cortadod}" \
  --concurrency 32 --steady 30 --reload 600 --versions 19 --max-rss-growth 0.10
