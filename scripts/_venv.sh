# Sourced by scripts/run and scripts/test (not run on its own): `ensure_venv EXTRAS` makes
# .venv (with $PYTHON, default python3) and installs this checkout into it, editable, with
# the extras EXTRAS (e.g. "all" or "all,dev") -- but only when something an install depends
# on changed since the last successful one: pyproject.toml, the venv's Python version, the
# extras asked for, or the Rust core's sources (rust/: Cargo.toml, Cargo.lock, *.rs), which
# pip compiles into src/hedgerow/_core.abi3.so. Python edits need no reinstall (editable).
#
# Each successful install leaves .venv/.hedgerow-installed.<EXTRAS> holding a hash of
# pyproject.toml, the Rust sources and the Python version; a stamp whose extras include the ones asked for
# and whose hash matches means "installed, skip pip" (so after scripts/test's all,dev,
# scripts/run's all needs nothing). HEDGEROW_REINSTALL=1 installs regardless.
# Run from the checkout's top directory, under `set -euo pipefail`.

_venv_hash() {
    .venv/bin/python -c 'import hashlib, pathlib, sys
h = hashlib.sha256(open("pyproject.toml", "rb").read() + sys.version.encode())
rust = pathlib.Path("rust")
for p in sorted([rust / "Cargo.toml", rust / "Cargo.lock", *rust.glob("src/**/*.rs")]):
    if p.is_file():
        h.update(str(p).encode() + b"\0" + p.read_bytes())
print(h.hexdigest())'
}

# succeeds if a stamp covers every extra in $1 with hash $2
_venv_installed() {
    local want="$1" hash="$2" stamp have extra ok
    for stamp in .venv/.hedgerow-installed.*; do
        [ -f "$stamp" ] || continue
        [ "$(cat "$stamp")" = "$hash" ] || continue
        have=",${stamp#.venv/.hedgerow-installed.},"
        ok=1
        for extra in ${want//,/ }; do
            case "$have" in *",$extra,"*) ;; *) ok=0 ;; esac
        done
        [ "$ok" = 1 ] && return 0
    done
    return 1
}

ensure_venv() {
    local extras="$1" hash
    if [ ! -x .venv/bin/python ]; then
        "${PYTHON:-python3}" -m venv .venv
    fi
    hash="$(_venv_hash)"
    if [ "${HEDGEROW_REINSTALL:-0}" != 1 ] && _venv_installed "$extras" "$hash"; then
        return 0
    fi
    rm -f .venv/.hedgerow-installed.*
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[$extras]"
    echo "$hash" > ".venv/.hedgerow-installed.$extras"
}
