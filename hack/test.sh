#!/usr/bin/env bash
# Runs every test: unit, real-kernel and end-to-end (the e2e tests start the
# real kin binary and drive it with kubectl). Needs root for the real-kernel
# and end-to-end parts; they skip with a message otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 40m ./...
