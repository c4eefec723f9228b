/**
 * Starting a worker thread on one of our own modules, whether the server runs built (dist/, .js files) or from
 * source (tsx: tests, `npm run dev`). Used by the store thread (store/thread/) and the recording disk thread
 * (media/disk-thread.ts).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * tsx's ESM register API (the CommonJS build of it cannot register hooks from an eval'd worker). Vitest's
 * module runner has no import.meta.resolve; there the CommonJS resolution names the sibling .cjs file.
 */
function tsxApiUrl(from: string): string {
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('tsx/esm/api');
  return pathToFileURL(createRequire(from).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}

/**
 * A new Worker running `module` (its path relative to `from`, the caller's import.meta.url, without the
 * extension). From the built package it is the .js file; from source the thread registers tsx first, as a
 * Worker does not inherit the parent's loader hooks for its entry module.
 */
export function startThreadModule(from: string, module: string, workerData: unknown): Worker {
  if (from.endsWith('.js')) return new Worker(new URL(`${module}.js`, from), { workerData });
  const entry = new URL(`${module}.ts`, from).href;
  const tsx = tsxApiUrl(from);
  const boot = `import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => import(${JSON.stringify(entry)}))`;
  return new Worker(boot, { eval: true, workerData });
}
