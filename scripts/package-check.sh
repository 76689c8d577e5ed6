#!/usr/bin/env bash
# Unpacks the Debian package built in DIR (default target/debug/bundle/deb) into a
# temporary root, as dpkg would lay it out, and runs what it installs: the packaged
# hsofctl's doctor and the packaged app's --version. Checks the desktop entry and icon.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/debug/bundle/deb}"
deb=$(ls -t "$dir"/*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "package-check: no .deb in $dir (make package builds one)" >&2; exit 1; }
root=$(mktemp -d)
home=$(mktemp -d)
trap 'rm -rf "$root" "$home"' EXIT
dpkg-deb -I "$deb" | sed -n '/Package:/,$p'
dpkg-deb -x "$deb" "$root"
fail() { echo "package-check: $*" >&2; exit 1; }
[ -x "$root/usr/bin/hsof-control-center" ] || fail "no /usr/bin/hsof-control-center in $deb"
[ -x "$root/usr/bin/hsofctl" ] || fail "no /usr/bin/hsofctl in $deb"
desktop=$(ls "$root"/usr/share/applications/*.desktop 2>/dev/null | head -1)
[ -n "$desktop" ] || fail "no desktop entry in $deb"
grep -q '^Exec=hsof-control-center' "$desktop" || fail "the desktop entry does not start hsof-control-center: $(cat "$desktop")"
ls "$root"/usr/share/icons/hicolor/*/apps/hsof-control-center.png >/dev/null 2>&1 || fail "no icon in $deb"
version=$("$root/usr/bin/hsof-control-center" --version)
echo "packaged app: $version"
[ "$version" = "hsof-control-center $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)" ] || fail "unexpected version: $version"
HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" HSOF_CONTROL_SECRETS_BACKEND=file \
  "$root/usr/bin/hsofctl" doctor
HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" HSOF_CONTROL_SECRETS_BACKEND=file \
  "$root/usr/bin/hsofctl" --json doctor | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["app"]["version"], d'
echo "package-check: $deb installs the app, hsofctl, the desktop entry and the icon, and both run"
