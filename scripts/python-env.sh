#!/usr/bin/env bash
# Creates ./.venv with the pinned test packages (tests/python/requirements.txt) and keeps it in
# step with them. Prints the venv's python path.
#
# Requirement lines that are paths (./sdk/python, ../x, /x) are this repository's own packages,
# relative to the repository root. The stamp is a hash of the requirements file AND of every file
# of those packages, so editing the package (not only its version) re-installs it. Updates happen
# in place (pip install over the existing venv), never by deleting it, so a test run that is using
# the venv meanwhile is not pulled from under. A local package is installed from a copy in a temp
# dir, so no build/ or *.egg-info lands in the source tree.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
req="$root/tests/python/requirements.txt"
stamp="$venv/.requirements.sha256"
cd "$root"

# The requirements minus comments, split into registry packages and local paths.
mapfile -t lines < <(sed -E 's/[[:space:]]*#.*$//; s/[[:space:]]+$//; /^$/d' "$req")
registry=()
local_pkgs=()
for line in "${lines[@]}"; do
  case "$line" in
    ./* | ../* | /*)
      [ -f "$line/pyproject.toml" ] || [ -f "$line/setup.py" ] || {
        echo "python-env: $req: $line is not a Python package (no pyproject.toml)" >&2
        exit 1
      }
      local_pkgs+=("$line") ;;
    *) registry+=("$line") ;;
  esac
done

# Two fingerprints, one a line in the stamp: the requirements file, and the local packages' files.
local_fingerprint() {
  local p
  for p in "${local_pkgs[@]}"; do
    find "$p" -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' -not -path '*/build/*' \
      -not -path '*/.pytest_cache/*' -not -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  done | sha256sum | cut -d' ' -f1
}
want_req="$(sha256sum "$req" | cut -d' ' -f1)"
want_local="$(local_fingerprint)"

# Test runners call this in parallel (ctest -j): one creates or updates the venv, the others wait.
exec 9>"$root/.venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ]; then
  python="$(command -v python3)"
  echo "python-env: creating $venv with $($python --version)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  rm -f "$stamp"
fi
have_req="$(sed -n 1p "$stamp" 2>/dev/null || true)"
have_local="$(sed -n 2p "$stamp" 2>/dev/null || true)"
pip=("$venv/bin/pip" install -q --disable-pip-version-check)
if [ "$have_req" != "$want_req" ] && [ ${#registry[@]} -gt 0 ]; then
  echo "python-env: installing ${#registry[@]} pinned packages into $venv" >&2
  "${pip[@]}" "${registry[@]}" >&2
fi
if { [ "$have_req" != "$want_req" ] || [ "$have_local" != "$want_local" ]; } && [ ${#local_pkgs[@]} -gt 0 ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  copies=()
  for p in "${local_pkgs[@]}"; do
    dest="$tmp/$(echo "$p" | tr '/.' '__')"
    cp -r "$p" "$dest"
    rm -rf "$dest/build" "$dest"/*.egg-info
    copies+=("$dest")
  done
  echo "python-env: installing ${local_pkgs[*]} into $venv" >&2
  # --force-reinstall --no-deps: the same version with changed files must replace the old one;
  # its dependencies are pinned above.
  "${pip[@]}" --force-reinstall --no-deps "${copies[@]}" >&2
fi
printf '%s\n%s\n' "$want_req" "$want_local" > "$stamp"
echo "$venv/bin/python"
