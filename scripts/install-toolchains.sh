#!/usr/bin/env bash
# Installs the toolchains of the sandbox's languages (Debian packages), when they are missing: what
# `make toolchains` runs. Python, gcc/g++ and node usually come with the machine; Go, Java and Rust may not.
# With an argument (a marker file), touches it once every toolchain is there, so make runs this again until
# they are. Without root or apt-get it only warns: those languages' sandbox tests are skipped, and a run
# whose stages target one is refused.
set -euo pipefail
marker="${1:-}"
missing_packages() {
  missing=()
  command -v go >/dev/null 2>&1 || missing+=(golang-go)
  command -v g++ >/dev/null 2>&1 || missing+=(g++)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
  command -v rustc >/dev/null 2>&1 || missing+=(rustc)
}
missing_packages
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: missing toolchains (${missing[*]}): install them as root (apt-get install ${missing[*]});" \
      "their sandbox tests are skipped and recipes targeting them are refused" >&2
    exit 0
  fi
  echo "installing toolchains: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  missing_packages
fi
if [ -n "$marker" ] && [ ${#missing[@]} -eq 0 ]; then
  touch "$marker"
fi
