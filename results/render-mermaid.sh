#!/usr/bin/env bash
# Renders the Mermaid diagram of the example report with mermaid-cli, driving
# Debian's chromium, to check that the diagram faultline writes is valid
# Mermaid and to show what GitHub draws:
#   results/report/hraft-forgetful.min.md  ->  results/report/hraft-forgetful.min.mermaid.png
# Needs: Node.js and npm (the npm registry), and chromium (apt-get install
# chromium). mermaid-cli is installed into a temporary directory, pinned.
set -euo pipefail
cd "$(dirname "$0")/.."
report=results/report/hraft-forgetful.min.md
png=results/report/hraft-forgetful.min.mermaid.png
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
	echo "render-mermaid: chromium not found (apt-get install chromium)" >&2
	exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund @mermaid-js/mermaid-cli@11.17.0 >/dev/null )
printf '{"executablePath": "%s", "args": ["--no-sandbox", "--disable-gpu"]}\n' "$chrome" > "$tmp/puppeteer.json"
# The diagram is the report's only mermaid block.
awk '/^```mermaid$/{f=1; next} /^```$/{f=0} f' "$report" > "$tmp/diagram.mmd"
if [ ! -s "$tmp/diagram.mmd" ]; then
	echo "render-mermaid: no mermaid block in $report" >&2
	exit 1
fi
"$tmp/node_modules/.bin/mmdc" -q -p "$tmp/puppeteer.json" -i "$tmp/diagram.mmd" -o "$png" -b white
echo "rendered $png"
