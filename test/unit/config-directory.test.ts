/**
 * The directory section of the config (directory-schema.ts): defaults, the presets' attribute maps, files
 * resolved against the config's folder, and each bad key reported at its path. The sync itself:
 * integration/directory-sync.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { examineConfig, parseConfig } from '../../src/config/load.js';
import { attributeMap, searchFilter } from '../../src/directory/attribute-map.js';

const errorsOf = (yaml: string): string[] => examineConfig(yaml, '/etc/vmpilot').errors.map((e) => `${e.path}: ${e.message}`);

describe('directory.ldap', () => {
  it('is absent by default; given, it takes the defaults (openldap, pages of 500, by command only, random PINs mailed)', () => {
    expect(parseConfig('', '/tmp').directory).toBeUndefined();
    const ldap = parseConfig('directory: { ldap: { url: "ldap://dir.example.com", base: "dc=example,dc=com" } }', '/tmp').directory!.ldap;
    expect(ldap).toMatchObject({ startTls: false, scope: 'sub', pageSize: 500, preset: 'openldap', schedule: 0, pinPolicy: 'random-emailed', timeoutS: 30, extensionDigits: 0 });
  });

  it('resolves bindPasswordFile and caFile against the config file\'s folder', () => {
    const ldap = parseConfig('directory: { ldap: { url: "ldaps://dc1:636", base: "DC=x", bindDn: "CN=v", bindPasswordFile: secret, caFile: ca.pem } }', '/etc/vmpilot').directory!.ldap;
    expect([ldap.bindPasswordFile, ldap.caFile]).toEqual(['/etc/vmpilot/secret', '/etc/vmpilot/ca.pem']);
  });

  it('the Active Directory preset reads objectGUID, telephoneNumber, ipPhone and otherTelephone, userAccountControl; overrides win', () => {
    const map = attributeMap({ preset: 'activeDirectory', attributes: { number: 'ipPhone', aliases: ['telephoneNumber'] } });
    expect(map).toMatchObject({ id: 'objectGUID', number: 'ipPhone', aliases: ['telephoneNumber'], email: 'mail', accountControl: 'userAccountControl' });
    expect(searchFilter({ preset: 'activeDirectory' })).toBe('(&(objectCategory=person)(objectClass=user))');
    expect(searchFilter({ preset: 'openldap', filter: '(ou=staff)' })).toBe('(ou=staff)');
  });

  it('reports each bad key at its path', () => {
    expect(
      errorsOf(`directory:
  ldap:
    url: "http://dc1"
    startTls: true
    bindDn: "CN=vmpilot"
    base: ""
    filter: "objectClass=user"
    pageSize: 0
    preset: novell
    attributes: { number: "tele phone", colour: blue }
    pinPolicy: default-must-change
`),
    ).toEqual([
      'directory.ldap.url: must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]',
      'directory.ldap.base: must not be empty',
      'directory.ldap.filter: must be an LDAP filter in parentheses (RFC 4515)',
      'directory.ldap.pageSize: must be at least 1',
      'directory.ldap.preset: must be activeDirectory or openldap',
      'directory.ldap.attributes.number: is not an LDAP attribute name',
      'directory.ldap.attributes.colour: unknown key (allowed here: id, number, aliases, firstName, lastName, displayName, email, noVoicemail, accountControl)',
    ]);
  });

  it('checks the combinations: a password for bindDn, defaultPin for default-must-change, StartTLS on ldap:// only', () => {
    expect(
      errorsOf(`directory:
  ldap: { url: "ldaps://dc1", startTls: true, bindDn: "CN=v", base: "DC=x", pinPolicy: default-must-change }
`).sort(),
    ).toEqual([
      'directory.ldap.bindDn: needs bindPassword or bindPasswordFile',
      'directory.ldap.defaultPin: is required with pinPolicy default-must-change',
      'directory.ldap.startTls: is for ldap:// URLs (ldaps:// is TLS from the start)',
    ]);
  });
});
