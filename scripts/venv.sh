# Sourced by build.sh, test.sh and bench/run.sh: make .venv (Python 3.11, else the machine's
# python3) with requirements-dev.txt and lambdawarmer installed editable, unless it is already up to
# date. Then puts .venv/bin first on PATH. The venv's own pip installs uv, and uv the rest (trusting
# the system's certificates, as pip is told to on machines behind a TLS-inspecting proxy): on a fresh
# clone (2 cores, no cache) the whole set-up took 14 s and 17 s of CPU, where pip took 29 s (69 s of CPU
# with bytecode; uv, like pip --no-compile, leaves each module to be compiled when first imported).
# The installers' output goes to .venv/setup.log, shown on failure; on a terminal, each step and its
# time so far are shown on stderr.

lambdawarmer_venv() {
    root=$1
    venv=$root/.venv
    stamp=$venv/.requirements.sha256
    wanted=$(cat "$root/requirements-dev.txt" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        python=$(command -v python3.11 || command -v python3)
        named=$(grep -cvE '^[[:space:]]*(#|$)' "$root/requirements-dev.txt" || true)
        echo "setting up $venv with $($python --version): uv, the $named packages of requirements-dev.txt" \
            "and what they need (the test tools, moto, boto3, mkdocs...; about 0.8 GB, 15 s to a minute the first" \
            "time), then lambdawarmer itself" >&2
        rm -rf "$venv"
        "$python" -m venv "$venv"
        log=$venv/setup.log
        : > "$log"
        uv=$venv/bin/uv
        uv_pinned=$(grep -E '^uv==' "$root/requirements-dev.txt")
        if ! { _lambdawarmer_step 1 "$uv_pinned" "$log" \
                "$venv/bin/python" -m pip install --disable-pip-version-check "$uv_pinned" &&
            _lambdawarmer_step 2 "requirements-dev.txt" "$log" \
                "$uv" pip install --system-certs --python "$venv/bin/python" -r "$root/requirements-dev.txt" &&
            _lambdawarmer_step 3 "lambdawarmer (editable)" "$log" \
                "$uv" pip install --system-certs --python "$venv/bin/python" --no-deps -e "$root"; }; then
            cat "$log" >&2
            echo "setting up $venv failed (log above). uv reads none of pip's configuration: see" \
                "docs/contributing.md, Set-up behind a proxy" >&2
            return 1
        fi
        echo "$wanted" > "$stamp"
    fi
    PATH=$venv/bin:$PATH
    export PATH
}

# One step of the set-up: the command's output appended to the log; on a terminal, the step and its
# time so far, on one line of stderr rewritten each second.
_lambdawarmer_step() {
    number=$1 what=$2 log=$3
    shift 3
    if [ ! -t 2 ]; then
        "$@" >> "$log" 2>&1
        return
    fi
    "$@" >> "$log" 2>&1 &
    step=$!
    seconds=0
    while kill -0 "$step" 2> /dev/null; do
        printf '\r  %s/3 %s: %s s' "$number" "$what" "$seconds" >&2
        sleep 1
        seconds=$((seconds + 1))
    done
    printf '\r  %s/3 %s: done%40s\n' "$number" "$what" "" >&2
    wait "$step"
}
