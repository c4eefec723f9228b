/**
 * Reads a config file: YAML text → schema (schema.ts) → a `Config` with paths resolved against the file's
 * folder. Every problem is collected and thrown at once as a ConfigError whose issues name the key
 * ("pbx[0].addresses[2]") and, when known, the line in the file.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { checkTlsFiles } from './tls-files.js';
import { checkAttendantFiles, checkEmptyActions } from './attendant-check.js';
import { mapGreetingFiles } from './attendant-schema.js';
import { DEFAULTS, PACKAGE_ROOT } from './defaults.js';

export interface ConfigIssue {
  /** Where in the config: "sip.listen[1]", "pbx[0].addresses[2]"; "yaml" for syntax errors; "config" for the file. */
  path: string;
  message: string;
  /** 1-based position in the file, when the issue points at something written there. */
  line?: number;
  column?: number;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

/** "pbx[0].addresses[2]: "10.0.0.300" is not an IP address or CIDR block (line 14:7)" */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line !== undefined ? ` (line ${issue.line}:${issue.column ?? 1})` : '';
  return `${issue.path}: ${issue.message}${where}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? 'config' : out;
}

/**
 * The node a path points at, or its nearest ancestor that exists. For a mapping entry, the key (that is the
 * line an operator looks for, and it exists even when the value is empty).
 */
function locate(doc: Document, path: readonly PropertyKey[]): Node | undefined {
  let node: unknown = doc.contents;
  let found: Node | undefined = doc.contents ?? undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      found = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      found = node as Node;
    } else {
      break;
    }
  }
  return found;
}

function position(lines: LineCounter, offset: number | undefined): { line?: number; column?: number } {
  if (offset === undefined) return {};
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/** Zod reports unknown keys once per mapping; operators want one line per key, pointing at the key. */
function toIssues(zodIssues: readonly z.core.$ZodIssue[]): { path: PropertyKey[]; message: string }[] {
  return zodIssues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: [...i.path, k], message: i.message }))
      : [{ path: [...i.path], message: i.message }],
  );
}

/** Messages for type mismatches, in the file's words (YAML mapping and list, not object and array). */
function typeMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return 'required';
  const words: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false' };
  const got = Array.isArray(issue.input) ? 'a list' : issue.input === null ? 'nothing' : typeof issue.input === 'object' ? 'a mapping' : `${typeof issue.input} ${JSON.stringify(issue.input)}`;
  return `expected ${words[issue.expected] ?? issue.expected}, got ${got}`;
}

/**
 * YAML reads `0042` as 42 and `+4687001000` as 4687001000; a PIN or a phone number would lose its leading
 * zero or plus. Keep such plain integers as the text that was written; where a number was wanted, the schema
 * then says "expected a number" instead of silently using another value.
 */
function keepWrittenIntegers(doc: Document): void {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && node.type === 'PLAIN' && typeof node.source === 'string' && /^(\+|-?0\d)/.test(node.source)) {
        node.value = node.source;
      }
    },
  });
}

/**
 * The document as plain data. An alias without its anchor only fails here; the usual cause is an unquoted
 * dial string: `echo: [*43]` reads as an alias to an anchor named "43".
 */
function toJS(doc: Document, lines: LineCounter): unknown {
  let unresolved: Alias | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        unresolved = node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (unresolved) {
    const message = `*${unresolved.source} is a YAML alias with no anchor; quote dial strings that start with * or #, e.g. "*43"`;
    throw new ConfigError([{ path: 'yaml', message, ...position(lines, unresolved.range?.[0]) }]);
  }
  return doc.toJS();
}

/** An empty YAML value (`tls:` with nothing after it) means the key is absent, as in every YAML config. */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = dropNulls(v);
  return out;
}

/**
 * voicemail.keys entries written with nothing after them: `save: #` is a YAML comment, not the pound key, and
 * dropNulls would otherwise take the entry as absent. Paths from the top of the file.
 */
function checkEmptyKeys(raw: unknown): { path: PropertyKey[]; message: string }[] {
  const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const keys = isMapping(raw) && isMapping(raw.voicemail) ? raw.voicemail.keys : undefined;
  if (!isMapping(keys)) return [];
  return Object.entries(keys).flatMap(([menu, actions]) =>
    isMapping(actions)
      ? Object.entries(actions)
          .filter(([, key]) => key === null)
          .map(([action]) => ({ path: ['voicemail', 'keys', menu, action], message: 'has no key (quote * and #: an unquoted # starts a comment)' }))
      : [],
  );
}

function resolvePaths(config: Config, baseDir: string): Config {
  const tls = config.sip.tls;
  return {
    ...config,
    sip: {
      ...config.sip,
      ...(tls && {
        tls: { ...tls, cert: resolve(baseDir, tls.cert), key: resolve(baseDir, tls.key), ...(tls.ca !== undefined && { ca: resolve(baseDir, tls.ca) }) },
      }),
    },
    storage: { dir: resolve(baseDir, config.storage.dir) },
    attendants: mapGreetingFiles(config.attendants, (file) => resolve(baseDir, file)),
    prompts: {
      ...config.prompts,
      dir: config.prompts.dir === DEFAULTS.promptsDir ? join(PACKAGE_ROOT, 'prompts') : resolve(baseDir, config.prompts.dir),
    },
  };
}

/**
 * Validates YAML config text. Relative paths (storage.dir, sip.tls files) resolve against `baseDir`, the config
 * file's folder. Throws ConfigError listing every issue, YAML syntax errors included.
 */
export function parseConfig(yamlText: string, baseDir: string): Config {
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        return { path: 'yaml', message: e.message.split('\n')[0]!, ...position(lines, e.pos[0]) };
      }),
    );
  }
  keepWrittenIntegers(doc);
  const js = toJS(doc, lines) ?? {};
  const raw = dropNulls(js);

  const result = configSchema.safeParse(raw, { error: typeMessage });
  const found = result.success ? [] : toIssues(result.error.issues);
  // The attendant's menus: keys written with no action (dropped by dropNulls), then its prompts and files.
  found.push(...checkEmptyActions(js), ...checkEmptyKeys(js));
  const resolved = result.success ? resolvePaths(result.data, baseDir) : undefined;
  if (resolved) found.push(...checkAttendantFiles(resolved.attendants, resolved.prompts.dir, resolved.prompts.language));
  const sip = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).sip : undefined;
  const tls = typeof sip === 'object' && sip !== null ? (sip as Record<string, unknown>).tls : undefined;
  for (const f of checkTlsFiles(tls, baseDir)) found.push({ path: ['sip', 'tls', f.path.split('.')[2]!], message: f.message });

  if (found.length > 0 || !result.success) {
    const issues = found.map((i) => ({ path: formatPath(i.path), message: i.message, ...position(lines, locate(doc, i.path)?.range?.[0]) }));
    // In the order of the file, so the list reads top to bottom.
    issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
    throw new ConfigError(issues);
  }
  return resolved ?? resolvePaths(result.data, baseDir);
}

/** Loads a config file; with no file, the embedded defaults (relative paths against the working directory). */
export async function loadConfig(file?: string): Promise<Config> {
  if (file === undefined) return parseConfig('', process.cwd());
  const absolute = resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(err);
    throw new ConfigError([{ path: 'config', message: `cannot read ${absolute}: ${why}` }]);
  }
  return parseConfig(text, dirname(absolute));
}
