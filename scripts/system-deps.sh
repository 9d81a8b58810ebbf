#!/usr/bin/env bash
# System packages the PDF and its tests need: a Chromium-family browser (driven by Playwright through its
# executable path, since `playwright install` cannot download browsers on every machine) and poppler-utils
# (pdfinfo, pdftotext, pdftoppm). Installed with apt when running as root; otherwise the exact command is printed.
set -euo pipefail
packages=(chromium poppler-utils fonts-dejavu-core)
missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v pdfinfo >/dev/null 2>&1 || missing+=(poppler-utils)
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || missing+=(fonts-dejavu-core)
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "The PDF needs these system packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${packages[*]}" >&2
  echo "(or set HEARTBEATS_CHROMIUM to the path of a Chromium or Chrome executable)" >&2
  exit 1
fi
