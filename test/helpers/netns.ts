/**
 * Network namespaces for tests of several hosts on one machine (issue 10): each "host" (a vmpilot, a PBX,
 * Kamailio, PostgreSQL) gets its own namespace with its own address, so that they can all listen on the same
 * port, be killed one by one, and reach each other only over a private bridge.
 *
 *   root namespace:  bridge <prefix>br, 10.213.N.1/24 (the test process, a PBX, PostgreSQL may listen here)
 *   namespace <prefix>-<name>:  eth0 (a veth whose peer is on the bridge), 10.213.N.k/24, and lo up
 *
 * 10.213.N.0/24 is private and routed only to the bridge: nothing leaves the machine. N is picked among the
 * subnets no interface uses yet, so concurrent test files do not collide.
 *
 * Every name starts with "vmpt", the creating process's pid in base 36 (5 characters) and a letter per lab, so that a later run can remove what
 * a crashed run left behind (its pid is gone) without touching a concurrent run's (its pid still runs).
 * close() kills what was started in the namespaces, deletes them and the bridge; call it in afterAll. A
 * process 'exit' hook does the same if the test runner exits without afterAll.
 *
 * Needs root (CAP_NET_ADMIN) and iproute2. Not here: what runs in the namespaces.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const MARK = 'vmpt';

export interface Namespace {
  /** The namespace's name for `ip netns`. */
  name: string;
  /** Its address on the bridge. */
  address: string;
}

export interface NetnsLab {
  /** The first three octets of the lab's /24, e.g. "10.213.7". */
  subnet: string;
  /** The root namespace's address on the bridge (the test process is reachable there). */
  hostAddress: string;
  /** Creates a namespace joined to the bridge, with the next free address. */
  add(name: string): Namespace;
  /** Starts `command args` inside the namespace (`ip netns exec`, which execs it: the child's pid is the command's). */
  spawn(ns: Namespace, command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** The command line that runs `command` in the namespace, for helpers that spawn themselves. */
  wrap(ns: Namespace): string[];
  /** Kills what runs in the namespaces, deletes them and the bridge. Idempotent; never throws. */
  close(): void;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quietly(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // Already gone, or never made: teardown goes on with the rest.
  }
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of the processes in a namespace (`ip netns pids`). */
function pidsIn(ns: string): number[] {
  try {
    return ip('netns', 'pids', ns)
      .split('\n')
      .filter((l) => /^\d+$/.test(l.trim()))
      .map(Number);
  } catch {
    return [];
  }
}

function deleteNamespace(ns: string): void {
  for (const pid of pidsIn(ns)) quietly(() => process.kill(pid, 'SIGKILL'));
  quietly(() => ip('netns', 'del', ns));
}

/** The creator's pid encoded in a lab name, when the name is a lab's. */
function creatorOf(name: string): number | undefined {
  const m = new RegExp(`^${MARK}([0-9a-z]{5})`).exec(name);
  return m ? parseInt(m[1]!, 36) : undefined;
}

/** Removes namespaces and links left by runs whose process is gone (a crashed or killed test run). */
export function removeLeftovers(): void {
  const stale = (name: string): boolean => {
    const pid = creatorOf(name);
    return pid !== undefined && !pidRuns(pid);
  };
  for (const line of ip('netns', 'list').split('\n')) {
    const ns = line.split(' ')[0]!;
    if (stale(ns)) deleteNamespace(ns);
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const name = /^\d+: ([^:@ ]+)/.exec(line)?.[1];
    if (name && stale(name)) quietly(() => ip('link', 'del', name));
  }
}

/** A /24 under 10.213.0.0/16 that no interface on this machine has an address in. */
function freeSubnet(): string {
  const used = ip('-o', '-4', 'addr', 'show');
  const start = process.pid % 250;
  for (let i = 0; i < 250; i++) {
    const n = ((start + i) % 250) + 1;
    if (!used.includes(` 10.213.${n}.`)) return `10.213.${n}`;
  }
  throw new Error('no free 10.213.N.0/24 subnet for a network namespace lab');
}

/** Whether this machine lets us create namespaces (root with iproute2); tests are written for one that does. */
export function netnsAvailable(): boolean {
  try {
    ip('netns', 'list');
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

/** Labs made by this process so far: each gets its own letter in its names. */
let labs = 0;

export function createNetnsLab(): NetnsLab {
  removeLeftovers();
  const prefix = MARK + process.pid.toString(36).padStart(5, '0') + (labs++ % 36).toString(36);
  const bridge = `${prefix}br`;
  const subnet = freeSubnet();
  const hostAddress = `${subnet}.1`;
  const namespaces: string[] = [];
  const children = new Set<ChildProcess>();
  let closed = false;

  const close = (): void => {
    if (closed) return;
    closed = true;
    process.off('exit', close);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) quietly(() => child.kill('SIGKILL'));
    for (const ns of namespaces) deleteNamespace(ns);
    // Deleting a namespace deletes its veth end, and with it the peer on the bridge.
    quietly(() => ip('link', 'del', bridge));
  };
  process.on('exit', close);

  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${hostAddress}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
  } catch (err) {
    close();
    throw err;
  }

  const lab: NetnsLab = {
    subnet,
    hostAddress,
    add(name: string): Namespace {
      if (!/^[a-z0-9-]{1,20}$/.test(name)) throw new TypeError(`namespace name must be short [a-z0-9-], not "${name}"`);
      const k = namespaces.length + 2;
      const ns = `${prefix}-${name}`;
      const outside = `${prefix}h${k}`;
      const inside = `${prefix}n${k}`;
      const address = `${subnet}.${k}`;
      namespaces.push(ns);
      ip('netns', 'add', ns);
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
      ip('link', 'set', inside, 'netns', ns);
      ip('link', 'set', outside, 'master', bridge);
      ip('link', 'set', outside, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', inside, 'name', 'eth0');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
      return { name: ns, address };
    },
    wrap: (ns) => ['ip', 'netns', 'exec', ns.name],
    spawn(ns, command, args, options = {}): ChildProcess {
      const child = spawn('ip', ['netns', 'exec', ns.name, command, ...args], options);
      children.add(child);
      child.once('close', () => children.delete(child));
      return child;
    },
    close,
  };
  return lab;
}
