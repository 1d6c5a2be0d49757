#!/usr/bin/env bash
# `npm run lint:packs [-- <folder>]`: lints every tarball `npm run pack` wrote (default packs/)
# with the ecosystem's own tools: publint (package.json vs files, exports, types; warnings are
# errors) and arethetypeswrong (types under node16-ESM and bundler resolution; `esm-only`
# because the packages are ESM only: CommonJS `require` and node10 resolution are not targets).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-packs}"
shopt -s nullglob
tarballs=("$dir"/*.tgz)
if [ ${#tarballs[@]} -eq 0 ]; then echo "no tarballs in $dir: run npm run pack first" >&2; exit 1; fi
for t in "${tarballs[@]}"; do
  npx --no-install publint run --strict "$t" | grep -v '^Unpacking tarball\|^Linting\.\.\.$'
  # Quiet when it passes; the full table when it does not.
  if ! npx --no-install attw --quiet --profile esm-only "$t"; then
    npx --no-install attw --profile esm-only --no-emoji --no-color "$t" || true
    exit 1
  fi
done
echo "publint and attw: ${#tarballs[@]} tarballs, no problem"
