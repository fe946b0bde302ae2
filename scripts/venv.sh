# Sourced by build.sh, test.sh and bench/run.sh: make .venv (Python 3.11, else the machine's
# python3) with requirements-dev.txt and lambdawarmer installed editable, unless it is already up to
# date. Then puts .venv/bin first on PATH. pip's chatter goes to .venv/setup.log, shown on failure.

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
        log=$venv/setup.log
        if ! { "$venv/bin/python" -m pip install --upgrade pip &&
            "$venv/bin/python" -m pip install -r "$root/requirements-dev.txt" &&
            "$venv/bin/python" -m pip install --no-deps -e "$root"; } > "$log" 2>&1; then
            cat "$log" >&2
            echo "setting up $venv failed (log above)" >&2
            return 1
        fi
        echo "$wanted" > "$stamp"
    fi
    PATH=$venv/bin:$PATH
    export PATH
}
