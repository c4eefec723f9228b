// Builds vmpilot's native RTP I/O (native/rtp-io) with npm's own node-gyp, run by `npm ci` / `npm install`
// (the "install" script). It never fails the install: without a compiler or Node's headers (or off Linux),
// vmpilot runs its RTP on Node's dgram sockets, at about twice the CPU per call (README: "Native RTP I/O").
// `npm run build:native` runs it again, e.g. after upgrading Node.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'rtp-io');
if (process.platform !== 'linux') {
  console.log(`vmpilot: native RTP I/O is Linux only; ${process.platform} uses Node dgram sockets`);
  process.exit(0);
}
// npm hands its bundled node-gyp to lifecycle scripts; outside npm, look beside npm.
const npmDir = dirname(dirname(process.execPath));
const gyp = [process.env.npm_config_node_gyp, join(npmDir, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find(
  (p) => p !== undefined && existsSync(p),
);
if (gyp === undefined) {
  console.log('vmpilot: node-gyp not found; RTP uses Node dgram sockets');
  process.exit(0);
}
// Node's headers where this Node was installed (Debian/NodeSource: /usr/include/node): no download needed.
const headers = join(npmDir, 'include', 'node', 'node_api.h');
const args = [gyp, 'rebuild', ...(existsSync(headers) && !process.env.npm_config_nodedir ? [`--nodedir=${npmDir}`] : [])];
const run = spawnSync(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
if (run.status === 0) {
  console.log('vmpilot: native RTP I/O built (native/rtp-io/build/Release/rtp_io.node)');
} else {
  const tail = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
  console.log(`vmpilot: native RTP I/O could not be built; RTP uses Node dgram sockets (more CPU per call).\n${tail}`);
}
