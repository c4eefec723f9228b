#!/usr/bin/env bash
# Installs the programs the test suite drives, from Debian packages, when they are missing:
#   sipp (sip-tester)  SIP call scenarios        stunnel (stunnel4)  TLS in front of SIPp
#   openssl            throwaway TLS certificates sox                audio fixtures
#   baresip            a real SIP phone (follows the cluster's 302; test/integration/cluster-tls.test.ts)
# Runs before every `npm test` (the "pretest" script); when everything is there it prints one line and exits.
set -euo pipefail

declare -A package_of=([sipp]=sip-tester [stunnel]=stunnel4 [openssl]=openssl [sox]=sox [baresip]=baresip-core)
missing=()
for cmd in sipp stunnel openssl sox baresip; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${package_of[$cmd]}")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "ensure-test-deps: sipp, stunnel, openssl, sox and baresip are installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-deps: missing Debian packages ${missing[*]}, and there is no apt-get here; install their equivalents" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-test-deps: installing ${missing[*]} needs root, and sudo is not available" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "ensure-test-deps: installing ${missing[*]}"
echo "+ ${sudo[*]:+${sudo[*]} }apt-get update"
"${sudo[@]}" apt-get update
echo "+ ${sudo[*]:+${sudo[*]} }apt-get install -y ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
