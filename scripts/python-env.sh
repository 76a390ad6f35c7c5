#!/usr/bin/env bash
# Creates ./.venv with the pinned test packages (tests/python/requirements.txt), once: it is
# rebuilt only when the requirements change. Prints the venv's python path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
req="$root/tests/python/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
# Test runners call this in parallel (ctest -j): one creates the venv, the others wait for it.
exec 9>"$root/.venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python="$(command -v python3)"
  echo "python-env: creating $venv with $($python --version)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
