#!/usr/bin/env bash
# One-time (and idempotent) machine set-up for LoxiLb.Edge5G on Debian 12, run as root:
# installs the missing apt packages, mounts bpffs, restores and builds the solution.
# A second run installs nothing and only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (the datapath needs CAP_BPF/CAP_NET_ADMIN and apt)" >&2
  exit 1
fi

# Debian packages the build, the tests and the demo use.
#   clang/llvm/libbpf-dev: BPF objects; libbpf1: loader; bpftool: inspection;
#   libpcap0.8: SharpPcap; iproute2: namespaces/veth; tshark: dissector checks;
#   python3-scapy: independent PFCP peer; iperf3: lab traffic; libusrsctp-dev: SCTP peers;
#   linux-libc-dev: asm/types.h for BPF C; python3-prometheus-client and prometheus
#   (promtool): independent checks of /metrics and of the Grafana dashboard's PromQL.
PACKAGES=(clang llvm libbpf-dev libbpf1 bpftool libpcap0.8 iproute2 tshark python3-scapy
          iperf3 libusrsctp-dev linux-libc-dev util-linux ethtool iputils-ping
          python3-prometheus-client prometheus)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages: all present"
fi

# bpffs is where maps and links are pinned; a fresh machine does not mount it.
if ! mount -t bpf | grep -q ' /sys/fs/bpf '; then
  log "mounting bpffs on /sys/fs/bpf"
  mkdir -p /sys/fs/bpf
  mount -t bpf bpf /sys/fs/bpf
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK (dotnet) is not on PATH; install it first" >&2
  exit 1
fi

log "restoring and building (Release)"
dotnet build LoxiLb.Edge5G.sln -c Release -nologo -v quiet -clp:NoSummary
