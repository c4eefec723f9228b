/**
 * GET /api/attendant: the auto-attendant as configured (read-only), for the web admin's menu tree: per
 * attendant its pilots, time zone, schedules and menus (config/attendant-schema.ts, as parsed). Greeting files
 * are given by file name only: the server's folders are not the page's business.
 *
 * A pilot of services.attendant that no entry configures runs the default attendant; it is listed too, so
 * the page shows what a caller to every pilot hears.
 */
import { basename } from 'node:path';
import type { RoutePlugin } from '../context.js';
import { defaultAttendant, mapGreetingFiles, type AttendantConfig } from '../../config/attendant-schema.js';

/** The attendants that serve calls: the configured ones, and the default one when a pilot falls to it. */
export function servedAttendants(configured: readonly AttendantConfig[], pilots: readonly string[]): AttendantConfig[] {
  const named = new Set(configured.flatMap((a) => a.pilots));
  const catchAll = configured.some((a) => a.pilots.length === 0);
  const unserved = pilots.filter((p) => !named.has(p));
  // The entry with no pilots (or the default attendant, when there is none) serves the pilots no entry names:
  // listed with those, so the page says which number reaches what.
  const list = configured.map((a) => (a.pilots.length === 0 ? { ...a, pilots: unserved } : a));
  if (!catchAll && unserved.length > 0) list.push({ ...defaultAttendant(), pilots: unserved });
  return mapGreetingFiles(list, (file) => basename(file));
}

export const attendantRoutes: RoutePlugin = async (app, { ctx }) => {
  ctx.api.describe({ method: 'GET', path: '/api/attendant', tag: 'attendant', summary: "the attendant's pilots, schedules and menus, as configured" });
  app.get('/api/attendant', async () => ({
    pilots: ctx.config.services.attendant,
    attendants: servedAttendants(ctx.config.attendants, ctx.config.services.attendant),
  }));
};
