/**
 * The real `vmpilot` command as a child process (run from source with tsx), for tests that must see what an
 * operator sees: exit codes, signals, JSON log lines. Also free ports to put in its config, and whether a port is free.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'src/admin/cli.ts');

/** A UDP port nobody is bound to right now on `address`. */
export async function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((res) => socket.bind(0, address, res));
  const port = socket.address().port;
  await new Promise<void>((res) => socket.close(res));
  return port;
}

/** A TCP port nobody listens on right now on 127.0.0.1. */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  await new Promise((res) => server.close(res));
  return port;
}

/** True if a TCP server can bind 127.0.0.1:port right now (it is released again). */
export async function canBindTcp(port: number): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise((resolve) => server.close(resolve));
  return ok;
}

/** True if a UDP socket can bind 127.0.0.1:port right now (it is released again). */
export async function canBindUdp(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => resolve(true));
  });
  socket.close();
  return ok;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `vmpilot ARGS...` to its end (from the repository root, as operators' scripts would run it). */
export function runCli(...args: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => child.on('close', (code) => res({ code, stdout, stderr })));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process closed. */
  at: number;
  stderr: string;
}

export interface Serving {
  child: ChildProcess;
  /** Everything written to stdout so far (pino JSON lines). */
  stdout(): string;
  exited: Promise<Exit>;
}

/**
 * Starts `vmpilot serve --config FILE`; with `wrap`, through that command line (e.g. `ip netns exec NAME`, which
 * execs it: the child is still vmpilot's own process).
 */
export function serve(configFile: string, wrap: readonly string[] = []): Serving {
  return startWrapped(wrap, ['serve', '--config', configFile]);
}

/** Starts a long-running `vmpilot ARGS...` (serve, mirror) and collects its output. */
export function startCli(...args: string[]): Serving {
  return startWrapped([], args);
}

function startWrapped(wrap: readonly string[], cliArgs: readonly string[]): Serving {
  const [command, ...args] = [...wrap, process.execPath, '--import', 'tsx', CLI, ...cliArgs];
  const child = spawn(command!, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((res) => child.on('close', (code, signal) => res({ code, signal, at: Date.now(), stderr })));
  return { child, stdout: () => stdout, exited };
}

export type LogRecord = { level: string; msg: string; time: string } & Record<string, unknown>;

/** The JSON log lines written so far. */
export function logRecords(s: Serving): LogRecord[] {
  return s
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogRecord);
}

/** Waits until a log line whose `msg` starts with `msg` appears (or the process exits, or time runs out). */
export async function logLine(s: Serving, msg: string, timeoutMs = 20_000): Promise<LogRecord> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = logRecords(s).find((r) => r.msg.startsWith(msg));
    if (found) return found;
    if (s.child.exitCode !== null) throw new Error(`vmpilot exited (${s.child.exitCode}) before logging "${msg}":\n${(await s.exited).stderr}\n${s.stdout()}`);
    if (Date.now() > end) throw new Error(`vmpilot did not log "${msg}" within ${timeoutMs} ms:\n${s.stdout().slice(-5000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits for a log line matching `test` (at index `from` or later) and returns it; throws if vmpilot exits first. */
export async function waitForRecord(s: Serving, test: (r: LogRecord) => boolean, what: string, timeoutMs = 30_000, from = 0): Promise<LogRecord> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const hit = logRecords(s).slice(from).find(test);
    if (hit) return hit;
    if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error(`vmpilot exited (${s.child.exitCode ?? s.child.signalCode}) before ${what}:\n${(await s.exited).stderr}`);
    if (Date.now() > end) throw new Error(`no ${what} within ${timeoutMs} ms:\n${s.stdout().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Stops a server that is still running: SIGTERM, and SIGKILL if it has not exited within 10 s. */
export async function stopServing(s: Serving | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return;
  s.child.kill('SIGTERM');
  const exit = await Promise.race([s.exited, new Promise<undefined>((r) => setTimeout(r, 10_000))]);
  if (exit === undefined) s.child.kill('SIGKILL');
}
