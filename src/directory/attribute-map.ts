/**
 * The attribute map and search filter a sync uses: the preset's (Active Directory or OpenLDAP) with the
 * config's overrides laid over it. Pure.
 */
import type { DirectoryAttributeMap, LdapDirectoryConfig } from '../config/directory-schema.js';

interface Preset {
  attributes: DirectoryAttributeMap;
  filter: string;
}

export const PRESETS: Record<LdapDirectoryConfig['preset'], Preset> = {
  // objectGUID is binary (16 bytes): read as a buffer, kept as hex. Computers are users too in AD:
  // objectCategory=person leaves them out.
  activeDirectory: {
    attributes: {
      id: 'objectGUID',
      number: 'telephoneNumber',
      aliases: ['ipPhone', 'otherTelephone'],
      firstName: 'givenName',
      lastName: 'sn',
      displayName: ['displayName', 'cn'],
      email: 'mail',
      accountControl: 'userAccountControl',
    },
    filter: '(&(objectCategory=person)(objectClass=user))',
  },
  // entryUUID (RFC 4530) is an operational attribute: returned only when asked for by name, as we do.
  openldap: {
    attributes: {
      id: 'entryUUID',
      number: 'telephoneNumber',
      aliases: [],
      firstName: 'givenName',
      lastName: 'sn',
      displayName: ['displayName', 'cn'],
      email: 'mail',
    },
    filter: '(objectClass=inetOrgPerson)',
  },
};

/** Attributes read as binary and shown as hex (AD's GUIDs). */
export const BINARY_ATTRIBUTES = ['objectGUID'];

export function attributeMap(config: Pick<LdapDirectoryConfig, 'preset' | 'attributes'>): DirectoryAttributeMap {
  const preset = PRESETS[config.preset].attributes;
  const given = Object.fromEntries(Object.entries(config.attributes).filter(([, v]) => v !== undefined));
  return { ...preset, ...given };
}

export function searchFilter(config: Pick<LdapDirectoryConfig, 'preset' | 'filter'>): string {
  return config.filter ?? PRESETS[config.preset].filter;
}

/** Every attribute the search asks for (no '*': a directory's entries can be large). */
export function requestedAttributes(map: DirectoryAttributeMap): string[] {
  const names = [map.id, map.number, ...map.aliases, map.firstName, map.lastName, ...map.displayName, map.email, map.noVoicemail, map.accountControl];
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}
