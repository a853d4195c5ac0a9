#!/usr/bin/env bash
# action.yml's install step: puts keysweep into ROOT/bin.
#
#   bash action/install.sh ROOT
#
# The release binary when one exists for this action, verified; else the
# source build the action always did, saying why in the log:
# - Which version: the `version` input (KEYSWEEP_VERSION) when set, else the
#   version in this action's own Cargo.toml. Never the ref the runner reports
#   (empty in composite actions, and a branch name is no version).
# - Which binary: for the action's own version, only if the release's
#   published source hash (keysweep-vV-source.sha256) equals this action's
#   (action/source-hash.sh), so an unreleased commit or a fork that changed
#   src/ builds what it is, not what was released.
# - Verified: the archive's SHA-256 must equal its line in the release's
#   keysweep-vV-SHA256SUMS before it is unpacked or run. A mismatch, or a
#   checksums file without the archive, is an error: the step fails, nothing
#   runs, nothing is cached. A missing release, asset or platform (or a host
#   that cannot be reached) is not an error: that falls back to cargo.
#
# Releases come from GitHub. Only tests/act/run.sh points this elsewhere, by
# writing TEST_HOST_FILE into its copy of the action: it is in no release
# (.gitignore), no input or variable sets it, and it must name a loopback
# http URL.
set -euo pipefail

root=${1:?usage: install.sh ROOT}
action=$(cd "$(dirname "$0")/.." && pwd)
requested=${KEYSWEEP_VERSION:-}
releases=https://github.com/keysweep/keysweep/releases/download
proto='=https'
TEST_HOST_FILE=.keysweep-test-releases-url

say() { printf 'keysweep-action: %s\n' "$*"; }

# A workflow command's message, escaped as the runner expects (a newline in
# the version input must not start a command of its own).
escape() {
  local s=${1//%/%25}
  s=${s//$'\r'/%0D}
  printf '%s' "${s//$'\n'/%0A}"
}

from_source() {
  echo "::notice title=keysweep install::$(escape "$1"); building keysweep from source with cargo instead (this takes minutes)"
  if [ -n "$requested" ]; then
    cargo install --locked --root "$root" keysweep --version "$requested"
  else
    cargo install --locked --root "$root" --path "$action"
  fi
  exit 0
}

refuse() {
  echo "::error title=keysweep install::$(escape "$1")"
  exit 1
}

if [ -f "$action/$TEST_HOST_FILE" ]; then
  releases=$(head -n 1 "$action/$TEST_HOST_FILE")
  [[ $releases =~ ^http://127\.0\.0\.1:[0-9]+(/[A-Za-z0-9/_.-]*)?$ ]] \
    || refuse "$TEST_HOST_FILE must hold a loopback http URL (tests only)"
  proto='=http'
  say "test releases host $releases"
fi

if [ -n "$requested" ]; then
  version=${requested#v}
  # Anything but an exact version (a requirement such as ^0.1) is cargo's to resolve.
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] \
    || from_source "version input '$requested' is not an exact version"
else
  version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$action/Cargo.toml" | head -n 1)
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] \
    || from_source "no version in the action's Cargo.toml"
fi

exe=keysweep
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc exe=keysweep.exe ;;
  *) from_source "no release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}" ;;
esac

if command -v sha256sum >/dev/null 2>&1; then sha=(sha256sum); else sha=(shasum -a 256); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fetch NAME: the release asset into $tmp/NAME; returns 1 (and says why)
# when it cannot be had.
fetch() {
  local url="$releases/v$version/$1" code
  if ! code=$(curl --silent --show-error --location --proto "$proto" --proto-redir "$proto" \
    --retry 3 --connect-timeout 20 --max-time 600 \
    --output "$tmp/$1" --write-out '%{http_code}' "$url"); then
    say "could not download $url"
    return 1
  fi
  if [ "$code" != 200 ]; then
    say "$url: HTTP $code"
    return 1
  fi
}

archive=keysweep-v$version-$target.tar.gz
[ "$exe" = keysweep.exe ] && archive=keysweep-v$version-$target.zip
sums=keysweep-v$version-SHA256SUMS

if [ -z "$requested" ]; then
  fetch "keysweep-v$version-source.sha256" || from_source "no release v$version"
  released=$(tr -d '[:space:]' < "$tmp/keysweep-v$version-source.sha256")
  ours=$(bash "$action/action/source-hash.sh" "$action")
  [ "$released" = "$ours" ] \
    || from_source "this action's source is not the released v$version (an unreleased commit or a fork)"
fi
fetch "$sums" || from_source "release v$version has no $sums"
fetch "$archive" || from_source "release v$version has no $archive"

want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/$sums")
[[ $want =~ ^[0-9a-f]{64}$ ]] || refuse "$sums has no single SHA-256 for $archive: refusing to run an unverified binary"
got=$(cd "$tmp" && "${sha[@]}" "$archive" | cut -c1-64)
[ "$got" = "$want" ] \
  || refuse "$archive: SHA-256 $got does not match $want in $sums: refusing to run it (a corrupt or tampered download)"
say "$archive: SHA-256 $got matches $sums"

mkdir -p "$tmp/unpacked"
case "$archive" in
  *.tar.gz) tar -xzf "$tmp/$archive" -C "$tmp/unpacked" ;;
  *.zip)
    if command -v unzip >/dev/null 2>&1; then
      unzip -q "$tmp/$archive" -d "$tmp/unpacked"
    else
      pwsh -NoProfile -Command 'Expand-Archive -LiteralPath $args[0] -DestinationPath $args[1]' "$tmp/$archive" "$tmp/unpacked"
    fi
    ;;
esac
binary=$tmp/unpacked/keysweep-v$version-$target/$exe
[ -f "$binary" ] || refuse "$archive holds no keysweep-v$version-$target/$exe"
chmod 755 "$binary"
reported=$("$binary" --version) || refuse "$archive: keysweep --version failed"
[ "$reported" = "keysweep $version" ] || refuse "$archive runs as '$reported', not keysweep $version"
mkdir -p "$root/bin"
mv "$binary" "$root/bin/$exe"
say "installed $reported ($target) from the release"
