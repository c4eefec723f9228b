/**
 * Reads a config file: YAML text → schema (schema.ts) → a `Config` with paths resolved against the file's
 * folder. Every problem is collected in one pass and thrown at once as a ConfigError whose issues name the key
 * ("pbx[0].addresses[2]") and, when known, the line in the file: YAML duplicate keys and aliases without an
 * anchor, the schema and its cross-field checks, the attendants' menus, and the files the config names (TLS
 * files and what they hold, prompt folders, greeting files), each checked on the parts of the file that
 * parsed. Only a YAML syntax error stops early: past it, the document's structure is a guess.
 *
 * Warnings (warnings.ts) are things that work but are probably not what was meant; they do not stop a start.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, Lexer, LineCounter, parseDocument, Scalar, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { checkTlsFiles, checkTlsMaterial, fileProblem } from './tls-files.js';
import { checkAttendantFiles, checkEmptyActions, checkPromptsFolder } from './attendant-check.js';
import { configWarnings } from './warnings.js';
import { pinFormatProblem } from '../store/pin.js';
import { mapGreetingFiles, type AttendantConfig } from './attendant-schema.js';
import { DEFAULTS, PACKAGE_ROOT } from './defaults.js';
import { resolveDirectoryFiles } from './directory-schema.js';

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

/** What examineConfig found: the config when there are no errors, and every error and warning. */
export interface ConfigReport {
  config?: Config;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
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
 * Each mapping's entries by key text (a key's first entry), built once for a mapping that paths go through: one
 * search per issue over a mapping of 40,000 unknown keys (0.6 MB) took seconds.
 */
type KeyIndex = WeakMap<YAMLMap, Map<string, Pair>>;

function entriesByKey(map: YAMLMap, index: KeyIndex): Map<string, Pair> {
  let entries = index.get(map);
  if (entries === undefined) {
    entries = new Map();
    for (const pair of map.items) if (isScalar(pair.key) && !entries.has(String(pair.key.value))) entries.set(String(pair.key.value), pair);
    index.set(map, entries);
  }
  return entries;
}

/**
 * The node a path points at, or its nearest ancestor that exists. For a mapping entry, the key (that is the
 * line an operator looks for, and it exists even when the value is empty).
 */
function locate(doc: Document, path: readonly PropertyKey[], index: KeyIndex): Node | undefined {
  let node: unknown = doc.contents;
  let found: Node | undefined = doc.contents ?? undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = entriesByKey(node, index).get(String(seg));
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
 * Aliases without an anchor, each replaced by its text so the rest of the file can still be checked. The usual
 * cause is an unquoted dial string: `echo: [*43]` reads as an alias to an anchor named "43", and "*43" is what
 * was meant.
 */
function unanchoredAliases(doc: Document, lines: LineCounter): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) !== undefined) return undefined;
      const message = `*${node.source} is a YAML alias with no anchor; quote dial strings that start with * or #, e.g. "*43"`;
      issues.push({ path: 'yaml', message, ...position(lines, node.range?.[0]) });
      return new Scalar(`*${node.source}`);
    },
  });
  return issues;
}

/**
 * Keys written twice in one mapping, as the yaml library's uniqueKeys reports them (its message, at the second
 * key), found with one set per mapping: the library's own check compares each key with every key before it,
 * and 40,000 keys in one mapping (0.6 MB posted to /api/config/check) held the server's loop for 37 s.
 */
function duplicateKeys(doc: Document, lines: LineCounter): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        // The library's equality: the same scalar value (1 and "1" differ); other keys only by identity.
        if (!isScalar(pair.key)) continue;
        const id = `${typeof pair.key.value}:${String(pair.key.value)}`;
        if (seen.has(id)) issues.push({ path: 'yaml', message: 'Map keys must be unique', ...position(lines, pair.key.range?.[0]) });
        seen.add(id);
      }
    },
  });
  return issues;
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
    storage: { ...config.storage, dir: resolve(baseDir, config.storage.dir) },
    ...(config.http.tls && { http: { ...config.http, tls: { cert: resolve(baseDir, config.http.tls.cert), key: resolve(baseDir, config.http.tls.key) } } }),
    attendants: mapGreetingFiles(config.attendants, (file) => resolve(baseDir, file)),
    ...(config.directory && { directory: resolveDirectoryFiles(config.directory, (file) => resolve(baseDir, file)) }),
    prompts: {
      ...config.prompts,
      dir: config.prompts.dir === DEFAULTS.promptsDir ? join(PACKAGE_ROOT, 'prompts') : resolve(baseDir, config.prompts.dir),
    },
  };
}

/**
 * Deepest nesting of flow collections ([…], {…}) a config may have (a real one nests a few levels). The yaml
 * library's parser recurses per level: a megabyte of "[" held the loop for 3.5 s (POST /api/config/check runs on
 * the server's), four exhausted the process's memory and killed it.
 */
const MAX_FLOW_DEPTH = 64;

/**
 * Whether the text nests flow collections deeper than MAX_FLOW_DEPTH, by the yaml library's own lexer (which
 * knows quoted, plain and block scalars and comments, where brackets are text), stopping at the first level too
 * deep: the lexer is linear, the parser is not.
 */
function flowTooDeep(yamlText: string): boolean {
  let depth = 0;
  for (const token of new Lexer().lex(yamlText)) {
    if (token === '[' || token === '{') {
      if (++depth > MAX_FLOW_DEPTH) return true;
    } else if (token === ']' || token === '}') {
      depth--;
    }
  }
  return false;
}

/**
 * Every error and warning of YAML config text, in one pass (see the module comment). Relative paths
 * (storage.dir, sip.tls files, greeting files, prompts.dir) resolve against `baseDir`, the config file's folder.
 */
export function examineConfig(yamlText: string, baseDir: string): ConfigReport {
  if (flowTooDeep(yamlText)) return { errors: [{ path: 'yaml', message: `[ ] and { } are nested deeper than ${MAX_FLOW_DEPTH} levels` }], warnings: [] };
  const lines = new LineCounter();
  // Duplicate keys are looked for below (duplicateKeys): after them the document is still the file as written,
  // so its keys can be checked too.
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const yamlIssues: ConfigIssue[] = doc.errors.map((e) => ({ path: 'yaml', message: e.message.split('\n')[0]!, ...position(lines, e.pos[0]) }));
  if (yamlIssues.length > 0) return { errors: yamlIssues, warnings: [] };
  yamlIssues.push(...duplicateKeys(doc, lines), ...unanchoredAliases(doc, lines));
  keepWrittenIntegers(doc);
  const js = documentValue(doc);
  if (js instanceof Error) return { errors: [{ path: 'yaml', message: js.message }], warnings: [] };
  const raw = dropNulls(js);

  const result = configSchema.safeParse(raw, { error: typeMessage });
  const found = result.success ? [] : toIssues(result.error.issues);
  // Keys written with no action or key (dropped by dropNulls), then the files, from what parsed.
  found.push(...checkEmptyActions(js), ...checkEmptyKeys(js));
  const resolved = result.success ? resolvePaths(result.data, baseDir) : undefined;
  const top = isMapping(raw) ? raw : {};
  const attendants = attendantsAlone(top, baseDir, resolved).map((c) => c && { attendant: c.attendants[0]!, prompts: c.prompts });
  found.push(...checkConfigFiles(top, baseDir, resolved, attendants));
  const keyIndex: KeyIndex = new WeakMap();
  const placed = (list: readonly { path: readonly PropertyKey[]; message: string }[]): ConfigIssue[] =>
    list.map((i) => ({ path: formatPath(i.path), message: i.message, ...position(lines, locate(doc, i.path, keyIndex)?.range?.[0]) }));
  const errors = inFileOrder([...yamlIssues, ...placed(found)]);
  const mailboxes = resolved?.mailboxes ?? (Array.isArray(top.mailboxes) ? top.mailboxes.map(numberAndPin) : []);
  const warnings = inFileOrder(placed(configWarnings({ mailboxes, attendants: attendants.map((a) => a?.attendant) })));
  return errors.length > 0 ? { errors, warnings } : { config: resolved, errors, warnings };
}

/**
 * The document as plain values, or the reason it cannot be one. The yaml library refuses to expand aliases past
 * a budget (maxAliasCount: nested aliases of aliases, the "billion laughs", would take the process's memory)
 * and throws: that is the file's error, not ours (before, `vmpilot check` printed a stack trace and POST
 * /api/config/check answered 500).
 */
function documentValue(doc: Document): unknown {
  try {
    return doc.toJS() ?? {};
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    return new Error(`its aliases cannot be expanded (${err.message}): write the values out, or nest fewer aliases`);
  }
}

/** In the order of the file, so the list reads top to bottom. */
function inFileOrder(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The files a config names: TLS files (and that they hold a matching certificate and key), prompt folders,
 * greeting files. From the validated config when there is one; otherwise from the sections that parse alone,
 * so that a mistake elsewhere in the file does not hide a missing file.
 */
function checkConfigFiles(
  top: Record<string, unknown>,
  baseDir: string,
  resolved: Config | undefined,
  attendants: readonly ({ attendant: AttendantConfig; prompts: Config['prompts'] } | undefined)[],
): { path: PropertyKey[]; message: string }[] {
  const sip = isMapping(top.sip) ? top.sip : {};
  const found: { path: PropertyKey[]; message: string }[] = [];
  const missing = checkTlsFiles(sip.tls, baseDir);
  for (const f of missing) found.push({ path: f.path.split('.'), message: f.message });
  // What the files hold only when every one can be read (else the same file would be named twice).
  const tls = resolved?.sip.tls ?? parsedAlone({ sip: { tls: sip.tls } }, baseDir)?.sip.tls;
  if (tls && missing.length === 0) for (const f of checkTlsMaterial(tls)) found.push({ path: f.path.split('.'), message: f.message });

  const httpTls = (resolved ?? parsedAlone({ http: top.http }, baseDir))?.http.tls;
  for (const key of ['cert', 'key'] as const) {
    const problem = httpTls && fileProblem(httpTls[key]);
    if (problem !== undefined) found.push({ path: ['http', 'tls', key], message: problem });
  }

  const prompts = (resolved ?? parsedAlone({ prompts: top.prompts }, baseDir))?.prompts;
  if (prompts) found.push(...checkPromptsFolder(prompts.dir, prompts.language));
  attendants.forEach((a, i) => {
    if (!a) return;
    // Paths from the top of the file: this attendant's own index, not 0.
    for (const issue of checkAttendantFiles([a.attendant], a.prompts.dir, a.prompts.language)) found.push({ path: ['attendants', i, ...issue.path.slice(2)], message: issue.message });
  });
  return found;
}

/** `sections` of a config validated alone (defaults elsewhere), paths resolved; undefined when they do not parse. */
function parsedAlone(sections: Record<string, unknown>, baseDir: string): Config | undefined {
  const result = configSchema.safeParse(sections);
  return result.success ? resolvePaths(result.data, baseDir) : undefined;
}

/**
 * Each attendant (by its index in the file) in a config of its own, with the file's prompts section; undefined
 * for one that does not parse alone. From `resolved` when the whole file parsed.
 */
function attendantsAlone(top: Record<string, unknown>, baseDir: string, resolved: Config | undefined): (Config | undefined)[] {
  if (resolved) return resolved.attendants.map((a) => ({ ...resolved, attendants: [a] }));
  const list: unknown[] = Array.isArray(top.attendants) ? top.attendants : [];
  return list.map((a) => parsedAlone({ prompts: top.prompts, attendants: [a] }, baseDir));
}

/**
 * A raw mailbox entry's number and PIN when both are well formed (for the warnings, without parsing a whole
 * config per mailbox: sites have thousands); undefined otherwise (the schema reports those).
 */
function numberAndPin(entry: unknown): { number: string; pin: string } | undefined {
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : undefined);
  const number = isMapping(entry) ? text(entry.number) : undefined;
  const pin = isMapping(entry) ? text(entry.pin) : undefined;
  return number !== undefined && pin !== undefined && pinFormatProblem(pin) === undefined ? { number, pin } : undefined;
}

/**
 * Validates YAML config text. Relative paths (storage.dir, sip.tls files) resolve against `baseDir`, the config
 * file's folder. Throws ConfigError listing every issue, YAML syntax errors included.
 */
export function parseConfig(yamlText: string, baseDir: string): Config {
  const report = examineConfig(yamlText, baseDir);
  if (!report.config) throw new ConfigError(report.errors);
  return report.config;
}

/** Examines a config file (examineConfig); with no file, the embedded defaults (paths against the working directory). */
export async function examineConfigFile(file?: string): Promise<ConfigReport> {
  if (file === undefined) return examineConfig('', process.cwd());
  const absolute = resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(err);
    return { errors: [{ path: 'config', message: `cannot read ${absolute}: ${why}` }], warnings: [] };
  }
  return examineConfig(text, dirname(absolute));
}

/** Loads a config file; with no file, the embedded defaults (relative paths against the working directory). */
export async function loadConfig(file?: string): Promise<Config> {
  const report = await examineConfigFile(file);
  if (!report.config) throw new ConfigError(report.errors);
  return report.config;
}
