#!/bin/sh
# The site's front-end libraries (maps and networks) from npm, exactly as package-lock.json pins them, copied into
# gateway/static/vendor/ where the gateway serves them: no CDN, no request to another site at run time.
# `npm ci` also installs axe-core, which the accessibility tests read from node_modules/ (never served).
# Without npm the pages still work: the map, network and groupings show their tables (progressive enhancement).
set -eu
cd "$(dirname "$0")/.."
vendor=gateway/static/vendor
stamp="$vendor/package-lock.json"
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
    exit 0  # already copied from this lockfile
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "vendor-assets: npm is not installed, so the map and network pages will show their tables only." >&2
    echo "vendor-assets: install Node.js with npm and run 'make setup' again for the drawn views." >&2
    exit 0
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
mkdir -p "$vendor"
for package in d3-array d3-dispatch d3-force d3-geo d3-quadtree d3-timer topojson-client; do
    cp "node_modules/$package/dist/$package.min.js" "$vendor/"
done
cp node_modules/world-atlas/countries-110m.json node_modules/world-atlas/countries-50m.json "$vendor/"
{
    echo "Copied from npm by deploy/vendor-assets.sh; versions in package-lock.json."
    for package in d3-array d3-dispatch d3-force d3-geo d3-quadtree d3-timer topojson-client world-atlas; do
        echo; echo "== $package =="; cat "node_modules/$package/LICENSE"
    done
} > "$vendor/LICENSES.txt"
cp package-lock.json "$stamp"
echo "vendor-assets: front-end libraries copied into $vendor"
