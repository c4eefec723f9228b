// The auto-attendant as configured: per attendant its pilots and schedules, and its menus drawn as a tree
// from each menu a schedule can pick. A menu already drawn is named, not drawn again (menus may lead back
// to each other: "0 → main" from a sub-menu).
import { h, show, clock } from './dom.js';
import { admin } from './api.js';

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const KEY_ORDER = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];

export async function attendantPage() {
  const { attendants } = await admin('GET', '/api/attendant');
  show(h('h1', {}, 'Attendant'), ...attendants.map(attendantCard));
}

function attendantCard(a) {
  const entryMenus = [...new Set([...a.schedules.map((s) => s.menu), a.menu])];
  const drawn = new Set();
  return h('section', { class: 'card attendant' },
    h('h2', {}, a.pilots.length ? `Pilot ${a.pilots.join(', ')}` : 'No pilot reaches this attendant'),
    h('p', { class: 'muted' }, `Time zone ${a.timeZone}`, a.operator ? ` · operator ${a.operator}` : '', a.languages.length ? ` · languages ${a.languages.join(', ')}` : ''),
    h('h3', {}, 'Schedules'),
    h('ol', { class: 'schedule' },
      a.schedules.map((s) => h('li', {}, describeSchedule(s), ' → ', h('span', { class: 'menu-name' }, s.menu))),
      h('li', {}, a.schedules.length ? 'Otherwise' : 'Always', ' → ', h('span', { class: 'menu-name' }, a.menu))),
    h('h3', {}, 'Menus'),
    h('ul', { class: 'tree' }, entryMenus.map((name) => menuNode(a, name, [], drawn))));
}

function describeSchedule(s) {
  const dates = s.dates.map((d) => `${d.year ? `${d.year}-` : ''}${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`);
  const hours = s.hours.map((o) => `${dayRanges(o.days)} ${clock(o.fromMin)}–${clock(o.toMin)}`);
  return [dates.length ? `on ${dates.join(', ')}` : '', hours.join(', ')].filter(Boolean).join(', ');
}

/** [1,2,3,4,5] → "Mon–Fri"; [0,6] → "Sun, Sat". */
function dayRanges(days) {
  const out = [];
  for (let i = 0; i < days.length; i++) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === days[j] + 1) j++;
    out.push(j - i >= 2 ? `${DAY_NAMES[days[i]]}–${DAY_NAMES[days[j]]}` : days.slice(i, j + 1).map((d) => DAY_NAMES[d]).join(', '));
    i = j;
  }
  return out.join(', ');
}

/** One menu and what each key does; `path` holds the menus above it (a key leading there is a loop). */
function menuNode(a, name, path, drawn) {
  const menu = a.menus[name];
  if (!menu) return h('li', { class: 'error' }, `${name} (no such menu)`);
  if (path.includes(name)) return h('li', {}, h('span', { class: 'menu-name' }, name), h('span', { class: 'muted' }, ' (back up)'));
  if (drawn.has(name)) return h('li', {}, h('span', { class: 'menu-name' }, name), h('span', { class: 'muted' }, ' (drawn above)'));
  drawn.add(name);
  const below = [...path, name];
  const keys = KEY_ORDER.filter((k) => menu.keys[k]).map((k) => h('li', {}, h('span', { class: 'key' }, k), actionNode(a, menu.keys[k], below, drawn)));
  return h('li', { 'data-menu': name },
    h('span', { class: 'menu-name' }, name), ' ',
    h('span', { class: 'muted' }, `says ${menu.greeting.map(greetingText).join(', ')}`),
    h('ul', {},
      keys,
      menu.dialExtensions ? h('li', {}, h('span', { class: 'key' }, '…'), 'an extension number') : '',
      h('li', {}, h('span', { class: 'muted' }, `no key after ${menu.retries + 1} tries of ${menu.timeoutMs / 1000} s: `), actionNode(a, menu.default, below, drawn))));
}

function actionNode(a, action, path, drawn) {
  if (action.kind === 'menu') {
    const sub = menuNode(a, action.menu, path, drawn);
    return h('span', {}, 'menu ', h('ul', {}, sub));
  }
  return h('span', {}, actionText(a, action));
}

function actionText(a, action) {
  switch (action.kind) {
    case 'transfer': return `transfer to ${action.number}`;
    case 'message': return `leave a message for ${action.mailbox}`;
    case 'dial-by-extension': return 'dial by extension';
    case 'dial-by-name': return 'dial by name';
    case 'operator': return `operator${a.operator ? ` (${a.operator})` : ''}`;
    case 'repeat': return 'repeat the menu';
    case 'hangup': return 'goodbye';
    case 'admin': return 'record greetings (administrator PIN)';
    default: return action.kind;
  }
}

function greetingText(item) {
  if ('prompt' in item) return item.prompt;
  if ('file' in item) return item.file.split('/').pop();
  return `recorded slot ${item.slot}`;
}
