#!/usr/bin/env bash
# kin's main job on its defaults: build kin, bring up the default cluster and
# run the seed labs, showing their output. The cluster stays up afterwards
# (`bin/kin down` removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
echo "== building kin"
go build -o bin/kin ./cmd/kin
bin/kin up
status=0
bin/kin lab run examples/labs/ || status=1
echo
echo "The cluster is still running: try 'bin/kin kubectl get nodes,pods -A -o wide'; 'bin/kin down' removes it."
exit $status
