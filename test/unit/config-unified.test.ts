/*
 * The unifiedMessaging config section (unified-schema.ts) and mailboxes[].imap, through the operator's parser:
 * defaults (port by tls, INBOX, 60 s, 10 connections, email as the user), absent section = off, and errors at
 * their paths (unknown keys, bad tls, a login without its password). Does not cover: the sync itself
 * (test/integration/unified-imap.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type ConfigIssue } from '../../src/config/load.js';

function issuesOf(yaml: string): ConfigIssue[] {
  try {
    parseConfig(yaml, '/srv/vmpilot');
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

describe('unifiedMessaging.imap', () => {
  it('is off when absent', () => {
    expect(parseConfig('', '/srv/vmpilot').unifiedMessaging.imap).toBeUndefined();
  });

  it('fills in the defaults; the port follows tls', () => {
    const imap = parseConfig('unifiedMessaging: { imap: { host: mail.example.com } }', '/srv/vmpilot').unifiedMessaging.imap;
    expect(imap).toEqual({
      host: 'mail.example.com', port: 993, tls: 'implicit', rejectUnauthorized: true, masterSeparator: '*', userFrom: 'email',
      folder: 'INBOX', sweepSeconds: 60, maxConnections: 10,
    });
    expect(parseConfig('unifiedMessaging: { imap: { host: h, tls: starttls } }', '/srv/vmpilot').unifiedMessaging.imap?.port).toBe(143);
    expect(parseConfig('unifiedMessaging: { imap: { host: h, tls: none, port: 1143 } }', '/srv/vmpilot').unifiedMessaging.imap?.port).toBe(1143);
  });

  it('reports unknown keys, a bad tls and a login without password at their paths', () => {
    const issues = issuesOf(
      [
        'unifiedMessaging: { imap: { host: h, tls: ssl, idle: true, master: { user: vm } } }',
        'mailboxes: [{ number: "27000", pin: "1234", name: A, imap: { user: a } }]',
      ].join('\n'),
    );
    const paths = issues.map((i) => i.path).sort();
    expect(paths).toEqual(['mailboxes[0].imap.password', 'unifiedMessaging.imap.idle', 'unifiedMessaging.imap.master.password', 'unifiedMessaging.imap.tls']);
    expect(issues.find((i) => i.path === 'unifiedMessaging.imap.tls')?.message).toMatch(/implicit, starttls or none/);
  });

  it('takes a mailbox login', () => {
    const config = parseConfig('mailboxes: [{ number: "27000", pin: "1234", name: A, imap: { user: a@example.com, password: p } }]', '/srv/vmpilot');
    expect(config.mailboxes[0]?.imap).toEqual({ user: 'a@example.com', password: 'p' });
  });
});
