/**
 * A SIPp UAC scenario made to follow the 302 front door: the scenario's first INVITE goes to the front door,
 * the 302 is acknowledged (RFC 3261 §17.1.1.3: the INVITE's Via, the response's To), SIPp's destination moves
 * to the Contact's host and port (setdest), and the same INVITE is sent there with that Contact as its
 * Request-URI; the rest of the scenario runs against the worker unchanged. The second INVITE keeps CSeq 1: it
 * starts a new transaction at another server, which is all the worker sees.
 *
 * For benchmarks that reuse a direct-call scenario through the front door (media-capacity --workers).
 * sipp-scenarios/uac-redirected-call.xml is the same dance written out, for tests.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FOLLOW_302 = `
  <recv response="100" optional="true"/>
  <recv response="302">
    <action>
      <ereg regexp="&lt;(sip:[^&gt;]*)&gt;" search_in="hdr" header="Contact:" check_it="true" assign_to="redirect_c,redirect_url"/>
      <ereg regexp="^sip:[^@]*@([0-9.]+):([0-9]+)" search_in="var" variable="redirect_url" check_it="true" assign_to="redirect_d,redirect_host,redirect_port"/>
    </action>
  </recv>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <nop><action><setdest host="[$redirect_host]" port="[$redirect_port]" protocol="[transport]"/></action></nop>
`;

/** The scenario text with the 302 dance inserted after its first <send> (which must be the INVITE). */
export function followingRedirect(xml: string): string {
  const start = xml.indexOf('<send');
  const end = xml.indexOf('</send>', start) + '</send>'.length;
  const first = xml.slice(start, end);
  if (start < 0 || !/INVITE sip:\[service\]@\[remote_ip\]:\[remote_port\] SIP\/2\.0/.test(first)) {
    throw new Error('the scenario does not start by sending INVITE sip:[service]@[remote_ip]:[remote_port]');
  }
  const again = first.replace('INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0', 'INVITE [$redirect_url] SIP/2.0');
  // SIPp refuses variables assigned and never read unless they are listed in <Reference>.
  const variables = xml.includes('<Reference variables="')
    ? xml.replace('<Reference variables="', '<Reference variables="redirect_c,redirect_d,')
    : xml.replace('</scenario>', '  <Reference variables="redirect_c,redirect_d"/>\n</scenario>');
  return variables.slice(0, end) + FOLLOW_302 + '  ' + again + variables.slice(end);
}

/** Writes the redirect-following variant of a scenario file to a temporary folder and returns its path. */
export function writeFollowingRedirect(scenarioFile: string): string {
  const out = join(mkdtempSync(join(tmpdir(), 'vmpilot-scenario-')), scenarioFile.split('/').pop()!.replace(/\.xml$/, '-redirected.xml'));
  writeFileSync(out, followingRedirect(readFileSync(scenarioFile, 'utf8')));
  return out;
}
