#!/usr/bin/env bash
# Installs the programs the test suite drives, from Debian packages, when they are missing:
#   sipp (sip-tester)  SIP call scenarios        stunnel (stunnel4)  TLS in front of SIPp
#   openssl            throwaway TLS certificates sox                audio fixtures
#   baresip            a real SIP phone (follows the cluster's 302; test/integration/cluster-tls.test.ts)
#   initdb, pg_ctl     a throwaway PostgreSQL (postgresql; under /usr/lib/postgresql/<v>/bin, not on PATH)
#   kamailio           a SIP dispatcher in front of two vmpilot hosts (the multi-host recipe in examples/)
#   chromium           a headless browser for the web admin's test
#   slapd, slapadd     a throwaway OpenLDAP directory (slapd; under /usr/sbin) for the directory sync's test
#   dovecot            a throwaway IMAP server (dovecot-imapd) for unified messaging's test
#   ip                 network namespaces standing in for several hosts (iproute2; test/helpers/netns.ts)
# Runs before every `npm test` (the "pretest" script); when everything is there it prints one line and exits.
set -euo pipefail

declare -A package_of=([sipp]=sip-tester [stunnel]=stunnel4 [openssl]=openssl [sox]=sox [baresip]=baresip-core
  [initdb]=postgresql [kamailio]=kamailio [chromium]=chromium [slapd]=slapd [dovecot]=dovecot-imapd [ip]=iproute2)
missing=()
for cmd in sipp stunnel openssl sox baresip kamailio chromium ip; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${package_of[$cmd]}")
done
# Debian keeps the PostgreSQL server programs out of PATH, one folder per major version.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=("${package_of[initdb]}")
# slapd and slapadd live in /usr/sbin, which an unprivileged user's PATH may lack.
command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || missing+=("${package_of[slapd]}")
# dovecot too (test/helpers/dovecot.ts runs /usr/sbin/dovecot).
command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || missing+=("${package_of[dovecot]}")

if [ ${#missing[@]} -eq 0 ]; then
  echo "ensure-test-deps: sipp, stunnel, openssl, sox, baresip, postgresql, kamailio, chromium, slapd, dovecot and iproute2 are installed"
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
# Packages such as kamailio (port 5060) and postgresql (5432) start a system service when installed; the tests
# start their own throwaway instances on free ports, so a policy-rc.d (Debian's hook for this) forbids the
# start for the duration of the install.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod +x "$policy"
  own_policy=1
fi
echo "+ ${sudo[*]:+${sudo[*]} }apt-get install -y ${missing[*]}"
status=0
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" || status=$?
[ "$own_policy" -eq 1 ] && "${sudo[@]}" rm -f "$policy"
exit "$status"
