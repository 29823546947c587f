#!/bin/sh
# tools/deps.sh: install what qoestor needs to build, test and run on Debian 12.
#
# Installs the Debian packages listed below (only the missing ones) and fetches
# libchdb, the ClickHouse engine qoestor-db serves, from the npm registry at a
# pinned version, verified against the checksum kept in db/libchdb.sha256.
# libchdb is unpacked into a cache outside the work tree ($QOESTOR_CACHE, default
# ~/.cache/qoestor) so fresh clones reuse it. Packagers who ship their own
# libchdb set LIBCHDB=/path/libchdb.so and skip the download.
#
# Usage: tools/deps.sh [--print-libchdb]
#   --print-libchdb  print the path of the verified libchdb.so and exit
# Exit codes: 0 ok, 1 a package or the download failed, 2 checksum mismatch.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${QOESTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qoestor}
pin=$(sed -n 's/^version=//p' "$top/db/libchdb.sha256")
sum=$(sed -n 's/^sha256=//p' "$top/db/libchdb.sha256")
pkg=$(sed -n 's/^package=//p' "$top/db/libchdb.sha256")
libdir="$cache/libchdb-$pin"

if [ "${1:-}" = "--print-libchdb" ]; then
	if [ -n "${LIBCHDB:-}" ]; then echo "$LIBCHDB"; else echo "$libdir/libchdb.so"; fi
	exit 0
fi

# Build, run and test dependencies, all from Debian 12.
PACKAGES="build-essential pkg-config clang libclang-rt-14-dev
libfixbuf-dev libfixbuf-tools libglib2.0-dev libyaml-dev libcurl4-openssl-dev
libzstd-dev zstd zlib1g-dev libdeflate-dev libuv1-dev libmicrohttpd-dev libcmocka-dev
curl ca-certificates python3 iproute2 procps
softflowd pmacct nfdump tshark tcpreplay systemd"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# npm fetches libchdb; a machine with Node.js from elsewhere already has it.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "deps: installing Debian packages:$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq || true
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing
fi

if [ -n "${LIBCHDB:-}" ]; then
	[ -r "$LIBCHDB" ] || { echo "deps: LIBCHDB=$LIBCHDB is not readable" >&2; exit 1; }
	exit 0
fi

if [ -r "$libdir/libchdb.so" ] && [ -r "$libdir/.verified" ]; then
	exit 0
fi

echo "deps: fetching $pkg@$pin (about 170 MB) into $libdir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qoestor-chdb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg@$pin" >/dev/null)
tgz=$(ls "$tmp"/*.tgz)
got=$(sha256sum "$tgz" | cut -d' ' -f1)
if [ "$got" != "$sum" ]; then
	echo "deps: checksum mismatch for $pkg@$pin: expected $sum, got $got; refusing to use it" >&2
	exit 2
fi
mkdir -p "$tmp/x"
tar -xzf "$tgz" -C "$tmp/x"
mkdir -p "$cache"
rm -rf "$libdir.tmp"
mkdir -p "$libdir.tmp"
mv "$tmp/x/package/libchdb.so" "$libdir.tmp/libchdb.so"
echo "$sum" > "$libdir.tmp/.verified"
rm -rf "$libdir"
mv "$libdir.tmp" "$libdir"
echo "deps: libchdb $pin verified and installed at $libdir/libchdb.so"
