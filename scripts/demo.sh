#!/usr/bin/env bash
# Main job: set the machine up (idempotent), then run `edge5g demo` on its embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec ./edge5g demo "$@"
