// stream.mjs -- kawat's live streams driven by real clients: npm's
// `eventsource` (GET /v1/stream, Server-Sent Events), npm's `ws`
// (GET /v1/ws, WebSocket) and Debian's chromium (the portal's live list and
// the browser's own EventSource), against the real server with the demo
// releases. Releases are published through the API while the clients listen.
//
//   KAWAT_BIN=build/asan/kawat node tests/browser/stream.mjs
//
// Prints one line per check and "N passed, M failed" last; exits non-zero on
// any failure. The server is always stopped (SIGTERM) and temp folders
// removed; the whole run is bounded by GLOBAL_TIMEOUT_MS.

import {
  apiCall, freePort, harness, makeToken as libMakeToken, serverEnv, sleep, stopProcess,
  waitHealthy,
} from './lib.mjs';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KAWAT = path.resolve(process.env.KAWAT_BIN || path.join(ROOT, 'build', 'asan', 'kawat'));
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic'];
const GLOBAL_TIMEOUT_MS = 150_000;
const H = harness(GLOBAL_TIMEOUT_MS);
const check = H.check;
// The server sends a resumed stream's replay in parts of this many events
// and closes it; a real client must resume by itself (check a2).
const REPLAY_MAX = 2;

let server = null;
let serverLog = '';
let context = null;
const tempDirs = [];
const clients = new Set(); // EventSources and WebSockets to close at the end





// SIGTERM and wait; returns the exit code (null if it had to be killed).
async function stopServer() {
  const proc = server;
  server = null;
  return stopProcess(proc);
}

async function cleanup() {
  for (const c of clients) {
    try { c.terminate ? c.terminate() : c.close(); } catch { /* already closed */ }
  }
  clients.clear();
  if (context) await context.close().catch(() => {});
  context = null;
  const rc = await stopServer();
  for (const d of tempDirs) await rm(d, { recursive: true, force: true }).catch(() => {});
  return rc;
}

// ---- the API -------------------------------------------------------------

let BASE = '';
let DATA = '';
const tokens = {};

async function makeToken(role, name) {
  return libMakeToken(KAWAT, ROOT, DATA, role, name);
}

async function api(method, p, body, token) {
  return apiCall(BASE, method, p, body, token);
}

// Create, submit and approve; returns the approved release (with its seq).
let made = 0;
async function publish(fields) {
  const body = {
    headline: `Stream test ${++made}`, body: 'A body with a [link](https://example.com/).',
    language: 'en', sectors: ['Business'], regions: ['ID'], ...fields,
  };
  const c = await api('POST', '/v1/releases', body, tokens.issuer);
  if (c.status !== 201) throw new Error(`create: ${c.status} ${c.text}`);
  const s = await api('POST', `/v1/releases/${c.json.id}/submit`, undefined, tokens.issuer);
  if (s.status !== 200) throw new Error(`submit: ${s.status} ${s.text}`);
  const a = await api('POST', `/v1/releases/${c.json.id}/approve`, undefined, tokens.editor);
  if (a.status !== 200 || a.json?.state !== 'published') {
    throw new Error(`approve: ${a.status} ${a.text}`);
  }
  if (typeof a.json.seq !== 'number') throw new Error(`approve answered no seq: ${a.text}`);
  return a.json;
}

async function metric(name) {
  const r = await fetch(`${BASE}/metrics`);
  const m = (await r.text()).match(new RegExp(`^${name} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

// Waits until the server holds at least n stream connections.
async function waitStreams(n, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await metric('kawat_stream_connections') >= n) return true;
    await sleep(50);
  }
  return false;
}

// ---- an event queue for the Node clients --------------------------------------

// Collects items pushed by a client; next(ms) resolves with the next one or
// null after ms.
class Queue {
  constructor() { this.items = []; this.waiters = []; }
  push(x) {
    const w = this.waiters.shift();
    if (w) w(x); else this.items.push(x);
  }
  next(ms) {
    if (this.items.length) return Promise.resolve(this.items.shift());
    return new Promise((resolve) => {
      const w = (x) => { clearTimeout(timer); resolve(x); };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((f) => f !== w);
        resolve(null);
      }, ms);
      this.waiters.push(w);
    });
  }
}

// An npm EventSource whose publish/correction/withdrawal events land in a
// queue as {type, lastEventId, data}. lastId: sent as Last-Event-ID on the
// first request (the package sends its own on its reconnections).
function openEventSource(p, lastId) {
  const q = new Queue();
  const opts = {};
  if (lastId !== undefined) {
    opts.fetch = (input, init) => fetch(input, {
      ...init, headers: { 'Last-Event-ID': String(lastId), ...(init?.headers || {}) },
    });
  }
  const es = new EventSource(BASE + p, opts);
  clients.add(es);
  for (const type of ['publish', 'correction', 'withdrawal', 'embargo']) {
    es.addEventListener(type, (e) => {
      let data = null;
      try { data = JSON.parse(e.data); } catch { /* checked by the caller */ }
      q.push({ type, lastEventId: e.lastEventId, data });
    });
  }
  const opened = new Promise((resolve) => {
    es.addEventListener('open', () => resolve(true), { once: true });
    setTimeout(() => resolve(false), 10_000);
  });
  let opens = 0;
  es.addEventListener('open', () => { opens++; });
  return { es, q, opened, opens: () => opens, close: () => { es.close(); clients.delete(es); } };
}

// Drains a queue until it is quiet for ms; returns what came.
async function drain(q, ms) {
  const out = [];
  for (;;) {
    const x = await q.next(ms);
    if (x === null) return out;
    out.push(x);
  }
}

// ---- a. eventsource: filter, live, exact resume ------------------------------------

async function checkEventSource() {
  const filter = '/v1/stream?language=id&sector=business';
  const c1 = openEventSource(filter);
  check('eventsource: the stream opens', await c1.opened);
  await publish({ headline: 'Not for this filter', language: 'en' });
  await publish({ headline: 'Sektor lain', language: 'id', sectors: ['Health'] });
  const rel = await publish({ headline: 'Rilis pertama untuk aliran', language: 'id' });
  const ev = await c1.q.next(10_000);
  check('eventsource: the matching release arrives, as "publish"',
    ev?.type === 'publish' && ev?.data?.id === rel.id,
    ev ? `got ${ev.type} ${ev.data?.id} (want ${rel.id})` : 'nothing within 10 s');
  check('eventsource: lastEventId is its wire seq', ev?.lastEventId === String(rel.seq),
    `lastEventId ${ev?.lastEventId}, seq ${rel.seq}`);
  check('eventsource: data is ninjs with the headline and language',
    ev?.data?.item?.headlines?.[0]?.value === 'Rilis pertama untuk aliran' &&
    ev?.data?.item?.language === 'id' && ev?.data?.kind === 'publish' &&
    ev?.data?.seq === rel.seq && typeof ev?.data?.item?.uri === 'string' &&
    ev.data.item.uri.endsWith(`/id/releases/${rel.id}`),
    JSON.stringify(ev?.data)?.slice(0, 300));
  const others = await drain(c1.q, 500);
  check('eventsource: nothing that does not match', others.length === 0,
    others.map((x) => x.data?.id).join(','));
  const lastId = ev?.lastEventId;
  c1.close();

  // While the client is gone: three that match, and some that do not.
  const missed = [];
  missed.push(await publish({ headline: 'Terlewat satu', language: 'id' }));
  await publish({ headline: 'Missed but not matching', language: 'en' });
  missed.push(await publish({ headline: 'Terlewat dua', language: 'id', sectors: ['Business', 'Health'] }));
  missed.push(await publish({ headline: 'Terlewat tiga', language: 'id' }));
  await publish({ headline: 'Sektor kesehatan', language: 'id', sectors: ['Health'] });

  // A new client resumes with the last id it had. The server replays at
  // most REPLAY_MAX at once: the package resumes the rest by itself.
  const c2 = openEventSource(filter, lastId);
  const got = [];
  for (let i = 0; i < missed.length; i++) {
    const x = await c2.q.next(15_000);
    if (!x) break;
    got.push(x);
  }
  const after = await drain(c2.q, 800);
  const want = missed.map((r) => `${r.seq}:${r.id}`).join(' ');
  check('eventsource: resumed with Last-Event-ID, exactly the 3 missed, in order',
    got.map((x) => `${x.lastEventId}:${x.data?.id}`).join(' ') === want && after.length === 0,
    `got ${[...got, ...after].map((x) => `${x.lastEventId}:${x.data?.id}`).join(' ')}; want ${want}`);
  // And it is live again.
  const live = await publish({ headline: 'Langsung lagi', language: 'id' });
  const y = await c2.q.next(10_000);
  check('eventsource: live after the replay', y?.data?.id === live.id && y?.lastEventId === String(live.seq),
    `got ${y?.data?.id}`);
  c2.close();

  // a2. From the start of the wire: every Indonesian event on the log, in
  // order, none twice, across the server's cut replays (the package's own
  // reconnection with Last-Event-ID does the resuming).
  const log = await api('GET', '/v1/wire?after=0&limit=500&language=id');
  const wantAll = (log.json?.events ?? []).map((e) => `${e.seq}:${e.kind}`);
  const c3 = openEventSource('/v1/stream?language=id', 0);
  const all = [];
  while (all.length < wantAll.length) {
    const x = await c3.q.next(10_000);
    if (!x) break;
    all.push(x);
  }
  all.push(...await drain(c3.q, 500));
  check(`eventsource: from the start, all ${wantAll.length} Indonesian events in order, once`,
    wantAll.length > REPLAY_MAX && all.map((x) => `${x.lastEventId}:${x.type}`).join(' ') === wantAll.join(' '),
    `got ${all.length}: ${all.map((x) => x.lastEventId).join(',')}; want ${wantAll.join(',')}`);
  check('eventsource: it resumed the cut replay by itself', c3.opens() >= 2, `${c3.opens()} opens`);
  c3.close();
}

// ---- b. ws: filter, live, filter change ----------------------------------------------

async function checkWebSocket() {
  const q = new Queue();
  const ws = new WebSocket(`${BASE.replace(/^http/, 'ws')}/v1/ws?language=id`);
  clients.add(ws);
  ws.on('message', (buf, isBinary) => {
    let msg = null;
    try { msg = JSON.parse(buf.toString('utf8')); } catch { /* checked below */ }
    q.push({ msg, isBinary, raw: buf.toString('utf8').slice(0, 200) });
  });
  const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  const opened = await new Promise((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('error', (e) => resolve(e.message));
    setTimeout(() => resolve('timeout'), 10_000);
  });
  check('ws: the WebSocket opens', opened === true, String(opened));
  if (opened !== true) return;

  await publish({ headline: 'English, not for this socket', language: 'en' });
  const rel = await publish({ headline: 'Kabar lewat WebSocket', language: 'id' });
  const m1 = await q.next(10_000);
  check('ws: the Indonesian release arrives as a text frame',
    m1 && !m1.isBinary && m1.msg?.kind === 'publish' && m1.msg?.id === rel.id &&
    m1.msg?.seq === rel.seq && m1.msg?.item?.headlines?.[0]?.value === 'Kabar lewat WebSocket',
    m1 ? m1.raw : 'nothing within 10 s');

  // A bad filter is refused with the field; the old filter stays.
  ws.send(JSON.stringify({ type: 'filter', filter: { languages: ['klingon'] } }));
  const bad = await q.next(10_000);
  check('ws: a bad filter gets {"type":"error"} naming the field',
    bad?.msg?.type === 'error' && typeof bad?.msg?.field === 'string' &&
    bad.msg.field.includes('language') && typeof bad?.msg?.detail === 'string',
    bad ? bad.raw : 'no answer');

  ws.send(JSON.stringify({ type: 'filter', filter: { languages: ['ja'], sectors: ['business'] } }));
  const ack = await q.next(10_000);
  check('ws: the filter change is acknowledged with last_seq',
    ack?.msg?.type === 'filter' && typeof ack?.msg?.last_seq === 'number' &&
    ack.msg.last_seq >= rel.seq && JSON.stringify(ack?.msg?.filter ?? {}).includes('ja'),
    ack ? ack.raw : 'no answer');

  await publish({ headline: 'Bahasa Indonesia lagi', language: 'id' });
  await publish({ headline: '別の分野のリリース', language: 'ja', sectors: ['Health'] });
  const ja = await publish({ headline: '日本語のリリース', language: 'ja' });
  const m2 = await q.next(10_000);
  const rest = [m2, ...await drain(q, 600)].filter(Boolean);
  check('ws: after the change, only what matches the new filter',
    rest.length === 1 && rest[0].msg?.id === ja.id && rest[0].msg?.seq === ja.seq &&
    rest[0].msg?.item?.language === 'ja',
    rest.map((x) => x.raw).join(' | ') || 'nothing within 10 s');

  ws.close(1000, 'done');
  const code = await Promise.race([closed, sleep(5_000).then(() => 'timeout')]);
  check('ws: closes cleanly', code === 1000 || code === 1005, `close code ${code}`);
  clients.delete(ws);
}

// ---- c. chromium: the live list and the browser's EventSource --------------------

async function checkBrowser(profile) {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true,
    viewport: { width: 1024, height: 768 },
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()} [${m.location()?.url ?? ''}]`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });

  const before = await metric('kawat_stream_connections');
  const resp = await page.goto(`${BASE}/en/`, { waitUntil: 'load', timeout: 20_000 });
  check('chromium: /en/ loads', resp?.status() === 200, `status ${resp?.status()}`);
  const hasList = await page.locator('ol.releases[data-live]').count();
  const hasScript = await page.locator('script[src="/static/live.js"]').count();
  check('chromium: /en/ has the live list and live.js', hasList === 1 && hasScript === 1,
    `list ${hasList}, script ${hasScript}`);
  check('chromium: the page holds a stream', await waitStreams(before + 1),
    `kawat_stream_connections stayed at ${await metric('kawat_stream_connections')}`);
  await page.evaluate(() => { window.__kawatMarker = 'same page'; });
  const firstBefore = await page.evaluate(
    () => document.querySelector('ol.releases[data-live] > li')?.getAttribute('data-id') ?? null);

  const t0 = Date.now();
  const rel = await publish({ headline: 'Live on the English home page', language: 'en' });
  const sel = `ol.releases[data-live] > li.live[data-id="${rel.id}"]`;
  const appeared = await page.waitForSelector(sel, { timeout: 5_000 }).then(() => true, () => false);
  const dt = Date.now() - t0;
  check('chromium: the new release appears in the live list within 5 s', appeared,
    `first item is still ${firstBefore}`);
  if (appeared) {
    const got = await page.evaluate((id) => {
      const list = document.querySelector('ol.releases[data-live]');
      const li = list.firstElementChild;
      const a = li?.querySelector('a');
      return {
        first: li?.getAttribute('data-id'), href: a?.getAttribute('href'),
        text: a?.textContent.trim(), visible: !list.hidden && li.offsetHeight > 0,
        copies: list.querySelectorAll(`li[data-id="${id}"]`).length,
        marker: window.__kawatMarker,
      };
    }, rel.id);
    check('chromium: it is at the top, linked to its page, once',
      got.first === rel.id && got.href === `/en/releases/${rel.id}` &&
      got.text === 'Live on the English home page' && got.visible && got.copies === 1,
      JSON.stringify(got));
    check('chromium: without a reload', got.marker === 'same page' && navigations === 1,
      `marker ${got.marker}, ${navigations} navigations`);
    console.log(`# live list: ${dt} ms from publish request to the item on the page`);
  }
  // A Japanese release is not for the English page.
  const jaOnly = await publish({ headline: '英語のページには出ない', language: 'ja' });
  await sleep(700);
  const leaked = await page.locator(`ol.releases[data-live] li[data-id="${jaOnly.id}"]`).count();
  check('chromium: a Japanese release stays off the English live list', leaked === 0);

  // The browser's own EventSource, filtered to Japanese.
  const opened = await page.evaluate(() => new Promise((resolve) => {
    window.__ja = [];
    const es = new EventSource('/v1/stream?language=ja');
    window.__jaSource = es;
    es.addEventListener('publish', (e) => window.__ja.push({ id: e.lastEventId, data: e.data }));
    es.onopen = () => resolve(true);
    setTimeout(() => resolve(false), 10_000);
  }));
  check('chromium: new EventSource(\'/v1/stream?language=ja\') opens', opened === true);
  await publish({ headline: 'An English one first', language: 'en' });
  const ja = await publish({ headline: '日本語の新しいリリース', language: 'ja' });
  const arrived = await page.waitForFunction(() => window.__ja.length > 0, null, { timeout: 5_000 })
    .then(() => true, () => false);
  const got = await page.evaluate(() => window.__ja.map((x) => ({ id: x.id, d: JSON.parse(x.data) })));
  check('chromium: its EventSource receives the Japanese release, with its seq as lastEventId',
    arrived && got.length === 1 && got[0].id === String(ja.seq) && got[0].d.id === ja.id &&
    got[0].d.item?.language === 'ja' && got[0].d.item?.headlines?.[0]?.value === '日本語の新しいリリース',
    JSON.stringify(got).slice(0, 300));
  await page.evaluate(() => window.__jaSource.close());
  check('chromium: no console errors or failed requests', problems.length === 0, problems.join('; '));
  await page.close();
  await context.close();
  context = null;
}


async function main() {
  const data = await mkdtemp(path.join(os.tmpdir(), 'kawat-stream-data-'));
  const profile = await mkdtemp(path.join(os.tmpdir(), 'kawat-stream-profile-'));
  tempDirs.push(data, profile);
  DATA = path.join(data, 'data');
  const port = await freePort();
  BASE = `http://127.0.0.1:${port}`;
  server = spawn(KAWAT, ['serve', '--listen', `127.0.0.1:${port}`, '--data', DATA, '--demo',
    '--access-log', 'off', '--stream-replay-max', String(REPLAY_MAX)],
  { cwd: ROOT, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  server.on('error', (e) => { serverLog += `spawn: ${e.message}\n`; });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitHealthy(BASE, 30_000, server, () => serverLog);
  tokens.issuer = await makeToken('issuer', 'Stream Test Issuer');
  tokens.editor = await makeToken('editor');

  // Each part on its own: one failing must not hide the others.
  for (const [name, part] of [['eventsource', checkEventSource], ['ws', checkWebSocket],
    ['chromium', () => checkBrowser(profile)]]) {
    try {
      await part();
    } catch (e) {
      check(`${name}: ran to the end`, false, e.stack || String(e));
    }
  }

  for (const c of clients) { try { c.terminate ? c.terminate() : c.close(); } catch { /* */ } }
  clients.clear();
  const rc = await stopServer();
  H.checkCleanStop(rc, serverLog);
}

H.cleanup = cleanup;
H.log = () => serverLog;
await H.run(main);
