#!/usr/bin/env bash
# Installs the language toolchains the sandbox's tests use (Debian packages), when they are missing.
# Python, gcc/g++ and node come with the machine; Go does not.
set -euo pipefail
missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v rustc >/dev/null 2>&1 || missing+=(rustc)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: missing toolchains (${missing[*]}); their sandbox tests will be skipped" >&2
  exit 0
fi
echo "installing toolchains: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
