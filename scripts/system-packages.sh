#!/usr/bin/env bash
# Debian packages Remit needs beyond Python: fonts for PDF documents (Latin, Arabic/Hebrew, CJK)
# poppler-utils (pdftotext, used by the tests to read PDFs back) and HarfBuzz-Subset (so the
# benchmark's WeasyPrint baseline is not slowed by fontTools subsetting), Chromium (the browser tests
# drive /usr/bin/chromium with Playwright) and gettext (compilemessages). Installs only what is
# missing; needs root (or sudo) the first time.
set -euo pipefail
packages=(fonts-inter fonts-dejavu-core fonts-wqy-microhei fonts-tlwg-garuda-ttf poppler-utils libharfbuzz-subset0
  chromium gettext)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}" || {
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
}
