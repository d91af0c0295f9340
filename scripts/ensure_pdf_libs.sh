#!/usr/bin/env bash
# Value-card PDFs: WeasyPrint needs fonts that cover non-Latin scripts (participants
# write in any language) and the PDF tests render pages to PNG with poppler's
# pdftoppm. Installs Debian's packages with apt when missing and when this user can:
#   poppler-utils    ~0.2 MB download,  0.7 MB installed (pdftoppm, pdftotext)
#   fonts-noto-core  ~12 MB download,  42 MB installed (Arabic, Devanagari, Hebrew, Thai, ...)
#   fonts-noto-cjk   ~57 MB download,  91 MB installed (Chinese, Japanese, Korean)
set -u
missing=()
# WeasyPrint itself draws text with Pango (Chromium brings it too, but not always).
ldconfig -p | grep -q libpangoft2-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
fc-list :lang=hi | grep -q . || missing+=(fonts-noto-core)
fc-list :lang=zh-cn | grep -q . || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} for the value-card PDFs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fc-cache -f >/dev/null 2>&1 || true
fi
command -v pdftoppm >/dev/null || echo "pdftoppm is not installed: PDF-to-PNG tests will be skipped" >&2
fc-list :lang=zh-cn | grep -q . || echo "no CJK font: Chinese/Japanese/Korean text in PDFs shows as boxes" >&2
exit 0
