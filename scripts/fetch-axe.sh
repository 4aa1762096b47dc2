#!/usr/bin/env bash
# Fetches axe-core's axe.min.js (MPL-2.0) from the npm registry into .cache/, checking the
# tarball against the registry's published sha512 integrity. No Node.js needed.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.14.1
INTEGRITY="FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
TARGET=".cache/axe-core-$VERSION/axe.min.js"

[ -f "$TARGET" ] && exit 0
mkdir -p ".cache/axe-core-$VERSION"
tarball="$(mktemp)"
trap 'rm -f "$tarball"' EXIT
curl -fsSL --retry 3 "https://registry.npmjs.org/axe-core/-/axe-core-$VERSION.tgz" -o "$tarball"
actual="$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$INTEGRITY" ]; then
  echo "fetch-axe: axe-core $VERSION does not match its published integrity" >&2
  exit 1
fi
tar -xzf "$tarball" -C ".cache/axe-core-$VERSION" --strip-components=1 package/axe.min.js
echo "setup: axe-core $VERSION ready"
