#!/usr/bin/env bash
# Compile the Gf World Client core and its tests with Mono's mcs, start a live `gf serve --model micro-random` on
# 127.0.0.1, run the tests with mono, stop the server. Prints "N passed, N failed"; exits non-zero on failure.
#
#   bash unity_client/Tests~/run_tests.sh             # the tests
#   bash unity_client/Tests~/run_tests.sh --soak 60   # a 60 s realtime session: frames/s, generated_fps, lag
#
# Needs: mcs and mono (Debian: apt-get install mono-mcs mono-runtime), libzmq (Debian: libzmq5), and the gf
# command: $GF, else .venv/bin/gf in the repository root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package="$(dirname "$here")"
repo="$(dirname "$package")"
gf="${GF:-$repo/.venv/bin/gf}"
mode=(--gf "$gf")
if [[ "${1:-}" == "--soak" ]]; then
    mode=(--soak "${2:?--soak needs a number of seconds}")
fi

for tool in mcs mono; do
    command -v "$tool" >/dev/null || { echo "run_tests.sh: $tool not found; apt-get install mono-mcs mono-runtime" >&2; exit 2; }
done
[[ -x "$gf" ]] || { echo "run_tests.sh: no gf command at $gf; set GF=/path/to/gf or run make install" >&2; exit 2; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# 1. Compile the core (exactly the sources Unity compiles into Gf.Client.Core) and the tests: C# 7.2, no warnings.
mapfile -t sources < <(find "$package/Runtime/Core" "$here/CoreTests" -name '*.cs' | sort)
mcs -langversion:7.2 -warnaserror+ -warn:4 -nologo -out:"$work/CoreTests.exe" "${sources[@]}"
# Mono looks for "libzmq" by name; Debian ships only libzmq.so.5 (and macOS Homebrew libzmq.5.dylib).
cat > "$work/CoreTests.exe.config" <<'XML'
<configuration>
  <dllmap dll="libzmq" target="libzmq.so.5" os="linux"/>
  <dllmap dll="libzmq" target="libzmq.5.dylib" os="osx"/>
</configuration>
XML

# 2. A live server with the tiny deterministic model; one thread, to stay light on a shared machine.
OMP_NUM_THREADS=1 "$gf" serve --model micro-random --bind "tcp://127.0.0.1:*" --ready-file "$work/endpoint" \
    --client-timeout 5 >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1200); do
    [[ -s "$work/endpoint" ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "run_tests.sh: gf serve exited before listening:" >&2
        cat "$work/serve.log" >&2
        exit 2
    fi
    sleep 0.1
done
[[ -s "$work/endpoint" ]] || { echo "run_tests.sh: gf serve did not listen within 120 s" >&2; exit 2; }

# 3. The tests (or the soak run).
status=0
mono --debug "$work/CoreTests.exe" --endpoint "$(cat "$work/endpoint")" "${mode[@]}" || status=$?
if [[ $status -ne 0 ]]; then
    echo "--- gf serve log ---"
    tail -n 40 "$work/serve.log"
fi
exit $status
