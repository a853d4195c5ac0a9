#!/usr/bin/env bash
# Prints a hash of the source a keysweep binary is built from: Cargo.toml,
# Cargo.lock and src/ under DIR (default: this repository). action.yml keys
# its cache on it, and the release workflow publishes it beside the archives
# as keysweep-vVERSION-source.sha256, so the action takes a release binary
# only when its own source is exactly the released one.
#
#   bash action/source-hash.sh [DIR]
#
# Plain bash, find, sort and sha256sum (shasum on macOS): it runs on every
# runner before anything is installed.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
if command -v sha256sum >/dev/null 2>&1; then sha=(sha256sum); else sha=(shasum -a 256); fi
# One "HASH  PATH" line per file: a sha256sum that marks binary mode ("HASH
# *PATH", as on Windows) must give the same list as Linux's.
find Cargo.toml Cargo.lock src -type f -print0 | LC_ALL=C sort -z | xargs -0 "${sha[@]}" \
  | sed 's/^\([0-9a-f]\{64\}\) [ *]/\1  /' | "${sha[@]}" | cut -c1-64
