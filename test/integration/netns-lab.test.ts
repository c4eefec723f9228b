/**
 * The network-namespace lab of the several-hosts tests (helpers/netns.ts): namespaces reach each other and the
 * test process over the private bridge, each listens on its own address with the same port, close() removes
 * everything, and a crashed run's leftovers are removed by the next run while a live run's are not.
 *
 * Not covered: what runs in the namespaces (the multi-host and Kamailio tests).
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetnsLab, removeLeftovers } from '../helpers/netns.js';

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

/** A UDP echo server on `port` inside a namespace, as a one-line node program. */
const ECHO = `const s=require('node:dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(Buffer.concat([Buffer.from(process.argv[1]+':'),m]),r.port,r.address));s.bind(Number(process.argv[2]),process.argv[3],()=>console.log('ready'));`;

async function ask(address: string, port: number, from: string): Promise<string> {
  const socket = createSocket('udp4');
  await new Promise<void>((res) => socket.bind(0, from, res));
  try {
    return await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no answer from ${address}:${port}`)), 3000);
      socket.once('message', (m) => {
        clearTimeout(timer);
        res(m.toString());
      });
      socket.send('ping', port, address);
    });
  } finally {
    socket.close();
  }
}

describe('network namespace lab', () => {
  const lab = createNetnsLab();
  afterAll(() => lab.close());

  it('runs a process in each namespace on the same port, each reached at its own address from the test process', async () => {
    const a = lab.add('a');
    const b = lab.add('b');
    expect(a.address).not.toBe(b.address);
    for (const [ns, tag] of [
      [a, 'A'],
      [b, 'B'],
    ] as const) {
      const child = lab.spawn(ns, process.execPath, ['-e', ECHO, tag, '5060', ns.address], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((res) => child.stdout!.once('data', () => res()));
    }
    expect(await ask(a.address, 5060, lab.hostAddress)).toBe('A:ping');
    expect(await ask(b.address, 5060, lab.hostAddress)).toBe('B:ping');
  });

  it('close() kills what runs inside and removes the namespaces and the bridge', () => {
    const other = createNetnsLab();
    const ns = other.add('gone');
    const child = other.spawn(ns, 'sleep', ['30']);
    other.close();
    expect(ip('netns', 'list')).not.toContain(ns.name);
    expect(ip('-o', 'addr', 'show')).not.toContain(` ${other.hostAddress}/24`);
    return new Promise<void>((res) => (child.exitCode !== null || child.signalCode !== null ? res() : child.once('close', () => res())));
  });

  it("removes a crashed run's namespaces and links, and leaves a live run's alone", () => {
    // A pid above Linux's pid_max (4194304) never runs: "vmpt" + that pid in base 36 is a dead run's name.
    const dead = `vmpt${(4_194_399).toString(36)}`;
    ip('netns', 'add', `${dead}-left`);
    ip('link', 'add', `${dead}br`, 'type', 'bridge');
    removeLeftovers();
    expect(ip('netns', 'list')).not.toContain(`${dead}-left`);
    expect(ip('-o', 'link', 'show')).not.toContain(`${dead}br`);
    // This run's own bridge survives another run's clean-up.
    expect(ip('-o', 'addr', 'show')).toContain(` ${lab.hostAddress}/24`);
  });
});
