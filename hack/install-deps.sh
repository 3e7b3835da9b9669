#!/usr/bin/env bash
# Installs the Debian packages kin and its tests use, when they are missing.
# Go modules come from the Go module proxy through the normal go build.
set -euo pipefail

need=()
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
# Tools the seed labs run inside pods, nodes and hosts.
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v traceroute >/dev/null 2>&1 || need+=(traceroute)
command -v dig >/dev/null 2>&1 || need+=(bind9-dnsutils)
command -v ifconfig >/dev/null 2>&1 || need+=(net-tools)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "kin: missing packages: ${need[*]} (run as root to install them)" >&2
  exit 0
fi
echo "Installing ${need[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
