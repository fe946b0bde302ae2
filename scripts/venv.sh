# Sourced by build.sh and test.sh: make .venv (Python 3.11 or the machine's python3) with
# requirements-dev.txt and lambdawarmer installed editable, unless it is already up to date.
# Then puts .venv/bin first on PATH.

lambdawarmer_venv() {
    root=$1
    venv=$root/.venv
    stamp=$venv/.requirements.sha256
    wanted=$(cat "$root/requirements-dev.txt" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        python=$(command -v python3.11 || command -v python3)
        echo "setting up $venv with $($python --version)" >&2
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
        "$venv/bin/python" -m pip install --quiet -r "$root/requirements-dev.txt" >&2
        "$venv/bin/python" -m pip install --quiet --no-deps -e "$root" >&2
        echo "$wanted" > "$stamp"
    fi
    PATH=$venv/bin:$PATH
    export PATH
}
