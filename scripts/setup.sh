#!/usr/bin/env bash
# Installs everything Follicle needs on a fresh Debian machine: the Debian packages it uses
# (only those missing), uv, and the locked Python dependencies in .venv.
#   scripts/setup.sh         what `make run` needs
#   scripts/setup.sh test    plus what `make test` needs (a PostgreSQL server for the tests)
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || want+=("$1"); }

if [ "${1:-}" = "test" ]; then
  # initdb/pg_ctl for the throwaway test server, pg_dump/pg_restore for backups.
  need_pkg postgresql
  need_pkg postgresql-client
  # The browser tests drive Debian's Chromium through Playwright, with real fonts.
  need_pkg chromium
  need_pkg fonts-dejavu-core
  need_pkg curl
  need_pkg openssl
  # The PDF tests render each page to PNG to check it is not blank.
  need_pkg poppler-utils
fi
need_pkg tzdata
# WeasyPrint lays out the PDF reports with Pango; DejaVu gives it real glyphs, and Noto the
# scripts DejaVu lacks (Chinese, Japanese, Korean, Devanagari, Thai, Tamil and more): without
# them a patient's name in those scripts printed as empty boxes.
need_pkg libpango-1.0-0
need_pkg libpangoft2-1.0-0
need_pkg fonts-dejavu-core
need_pkg fonts-noto-core
need_pkg fonts-noto-cjk

if [ ${#want[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    echo "setup: installing Debian packages: ${want[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
  else
    echo "setup: please install these packages with your system's package manager: ${want[*]}" >&2
    exit 1
  fi
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "setup: installing uv"
  python3 -m pip install --quiet --disable-pip-version-check 'uv>=0.4,<1' \
    || python3 -m pip install --quiet --user --break-system-packages 'uv>=0.4,<1'
  export PATH="$HOME/.local/bin:$PATH"
fi

# Use the machine's Python (3.11+): no interpreter downloads.
export UV_PYTHON_DOWNLOADS=never
uv sync --frozen --quiet

if [ "${1:-}" = "test" ]; then
  # axe-core (accessibility rules for the browser tests), pinned and checked by its npm integrity.
  scripts/fetch-axe.sh
fi
