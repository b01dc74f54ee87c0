// desk.mjs -- the issuer portal and the editor desk in Debian's chromium
// (playwright-core): an issuer logs in, writes a release in Indonesian with
// the Markdown toolbar and an embargo a few seconds ahead picked in the
// Asia/Jakarta time zone, sees the live preview, submits; an editor finds
// it in the queue with its preview and approves; at the lift instant the
// release appears on the portal page /id/; the issuer's list shows the
// state change without a reload, and the issuer opens the distribution
// report. Screenshots go to tests/output/browser/desk.
//
//   KAWAT_BIN=build/asan/kawat node tests/browser/desk.mjs
//
// Prints one line per check and "N passed, M failed" last; exits non-zero on
// any failure. The server is always stopped (SIGTERM) and temp folders
// removed; the whole run is bounded by GLOBAL_TIMEOUT_MS.

import { freePort, harness, serverEnv, sleep, stopProcess, waitHealthy } from './lib.mjs';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KAWAT = path.resolve(process.env.KAWAT_BIN || path.join(ROOT, 'build', 'asan', 'kawat'));
const OUT = path.join(ROOT, 'tests', 'output', 'browser', 'desk');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic'];
const GLOBAL_TIMEOUT_MS = 150_000;
const PASSWORD = 'correct horse battery staple';
const ISSUER = { email: 'maya@example.com', name: 'Maya Putri', org: 'PT Kopi Gayo Lestari' };
const EDITOR = { email: 'ed@example.com', name: 'Ed Editor' };
const HEADLINE = 'Kopi Gayo ekspor perdana ke Jepang';
const EMBARGO_AHEAD_MS = 25_000;
const H = harness(GLOBAL_TIMEOUT_MS);
const check = H.check;

let server = null;
let serverLog = '';
let browser = null;
let BASE = '';
const tempDirs = [];

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

function addUser(data, role, who, issuer) {
  const args = ['user', 'add', '--data', data, '--role', role, '--name', who.name,
    '--email', who.email, '--password-stdin'];
  if (issuer) args.push('--issuer', issuer);
  return new Promise((resolve, reject) => {
    const p = execFile(KAWAT, args, { cwd: ROOT, env: serverEnv() },
      (e) => (e ? reject(e) : resolve()));
    p.stdin.end(`${PASSWORD}\n`);
  });
}

async function login(page, email) {
  await page.fill('#f-email', email);
  await page.fill('#f-password', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
}

// "2026-12-03T17:05:30": the wall-clock time in Jakarta (UTC+7, no DST).
function jakartaLocal(ms) {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 19);
}

async function main() {
  await mkdir(OUT, { recursive: true });
  const data = await mkdtemp(path.join(os.tmpdir(), 'kawat-desk-data-'));
  tempDirs.push(data);
  const DATA = path.join(data, 'data');
  await addUser(DATA, 'issuer', ISSUER, ISSUER.org);
  await addUser(DATA, 'editor', EDITOR);
  const port = await freePort();
  BASE = `http://127.0.0.1:${port}`;
  server = spawn(KAWAT, ['serve', '--listen', `127.0.0.1:${port}`, '--data', DATA,
    '--access-log', 'off'],
  { cwd: ROOT, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  server.on('error', (e) => { serverLog += `spawn: ${e.message}\n`; });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitHealthy(BASE, 30_000, server, () => serverLog);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const issuerCtx = await browser.newContext({ viewport: { width: 1024, height: 900 },
    locale: 'id-ID', timezoneId: 'Asia/Jakarta' });
  const editorCtx = await browser.newContext({ viewport: { width: 390, height: 844 },
    locale: 'en-US', isMobile: true, hasTouch: true });
  const issuer = await issuerCtx.newPage();
  const editor = await editorCtx.newPage();
  const errors = [];
  for (const p of [issuer, editor]) {
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  }

  // 1. The issuer logs in and lands on the portal, in Indonesian.
  await issuer.goto(`${BASE}/desk/`);
  check('anonymous /desk/ goes to log-in', issuer.url() === `${BASE}/login?next=/desk/`, issuer.url());
  await login(issuer, ISSUER.email);
  check('the issuer lands on the portal', issuer.url() === `${BASE}/desk/`, issuer.url());
  check('the portal speaks Indonesian', (await issuer.textContent('h1')) === 'Rilis Anda');
  await shot(issuer, '1-issuer-portal');

  // 2. The release form: toolbar, embargo in Jakarta time, live preview.
  await issuer.click('nav.desk a[href="/desk/new"]');
  await issuer.waitForSelector('#f-headline');
  await issuer.fill('#f-headline', HEADLINE);
  await issuer.fill('#f-subheadline', 'Dua kontainer dari Takengon berangkat hari ini');
  await issuer.fill('#f-body', 'Takengon mengirim kopi arabika ke Osaka.');
  await issuer.evaluate(() => { const b = document.getElementById('f-body'); b.selectionStart = 18; b.selectionEnd = 22; });
  check('the toolbar is labelled in Indonesian',
    (await issuer.getAttribute('.md-toolbar .md-bold', 'aria-label')) === 'Tebal'
    && (await issuer.getAttribute('.md-toolbar .md-list', 'title')) === 'Daftar berpoin'
    && (await issuer.getAttribute('.md-toolbar', 'aria-label')) === 'Pemformatan');
  await issuer.click('.md-toolbar .md-bold');
  check('the toolbar makes the selection bold',
    (await issuer.inputValue('#f-body')).includes('**kopi**'), await issuer.inputValue('#f-body'));
  await issuer.selectOption('#f-language', 'id');
  await issuer.fill('#f-dateline_place', 'Takengon');
  await issuer.check('input[name=sectors][value=business]');
  await issuer.fill('#f-regions', 'ID, JP');
  await issuer.fill('#f-contacts', 'Maya Putri; maya@example.com; +62 811 000');
  await issuer.check('input[name=timing][value=embargo]');
  const lift = Date.now() + EMBARGO_AHEAD_MS;
  await issuer.selectOption('#f-when-zone', 'Asia/Jakarta');
  await issuer.fill('#f-when-local', jakartaLocal(lift));
  const when = await issuer.inputValue('#f-when');
  check('the time-zone picker fills an RFC 3339 time with the zone offset',
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/.test(when), when);
  check('the picked instant is the intended one', Math.abs(Date.parse(when) - lift) < 1000, when);
  const instant = await issuer.textContent('#f-when-instant');
  check('the instant is shown in UTC and in the zone',
    instant.includes('UTC') && instant.includes('Asia/Jakarta'), instant);
  await issuer.waitForFunction((h) => {
    const a = document.querySelector('#preview article.release h1');
    return a && a.textContent === h && document.querySelector('#preview .body strong');
  }, HEADLINE, { timeout: 10_000 });
  check('the live preview is the reader\'s article', true);
  await shot(issuer, '2-release-form-preview');

  // 3. Submit.
  await Promise.all([issuer.waitForNavigation(), issuer.click('button[name=action][value=submit]')]);
  const m = issuer.url().match(/\/desk\/releases\/(r[0-9a-z]+)$/);
  check('submitting opens the release page', !!m, issuer.url());
  const id = m && m[1];
  check('the release is submitted',
    (await issuer.getAttribute('#status .state', 'data-state')) === 'submitted');
  await shot(issuer, '3-submitted');

  // 4. The editor, on a phone, approves it from the queue.
  await editor.goto(`${BASE}/desk/`);
  await login(editor, EDITOR.email);
  check('the editor lands on the desk', editor.url() === `${BASE}/desk/`, editor.url());
  check('the queue shows the release', await editor.isVisible(`#queue a[href="/desk/releases/${id}"]`));
  await shot(editor, '4-editor-queue');
  await Promise.all([editor.waitForNavigation(), editor.click(`#queue a[href="/desk/releases/${id}"]`)]);
  check('the editor sees the full preview',
    (await editor.textContent('.preview-frame article h1')) === HEADLINE);
  await Promise.all([editor.waitForNavigation(), editor.click('button[name=action][value=approve]')]);
  check('approved under embargo',
    (await editor.getAttribute('#status .state', 'data-state')) === 'embargoed');
  await editor.goto(`${BASE}/desk/`);
  check('the calendar lists it', await editor.isVisible(`#calendar li[data-id="${id}"]`));
  await shot(editor, '5-editor-calendar');

  // 5. The issuer watches the portal list; nothing public before the lift.
  await issuer.goto(`${BASE}/desk/`);
  check('the issuer sees it embargoed',
    (await issuer.getAttribute(`li[data-id="${id}"] .state`, 'data-state')) === 'embargoed');
  const before = await fetch(`${BASE}/id/`).then((r) => r.text());
  check('nothing on /id/ before the lift', Date.now() < lift && !before.includes(HEADLINE));
  await issuer.waitForSelector(`li[data-id="${id}"] .state[data-state="published"]`,
    { timeout: EMBARGO_AHEAD_MS + 15_000 });
  const late = Date.now() - lift;
  check('the issuer sees the state change live, without a reload', late >= 0, `${late} ms`);
  await shot(issuer, '6-issuer-published');

  // 6. At the lift instant it is on the portal.
  const portal = await issuerCtx.newPage();
  await portal.goto(`${BASE}/id/`);
  check('the release is on /id/ after the lift',
    await portal.isVisible(`ol.releases li[data-id="${id}"]`));
  await shot(portal, '7-portal-id');

  // 7. The editor's live wire shows it; the issuer opens the report.
  // (the editor's desk stayed open since the calendar: the wire grew live)
  await editor.waitForSelector(`#wire li.live[data-id="${id}"]`, { timeout: 10_000 });
  check('the live wire shows it over EventSource, without a reload',
    (await editor.textContent(`#wire li[data-id="${id}"] .kind`)) === 'Published');
  check('the live row names the language in that language',
    (await editor.textContent(`#wire li.live[data-id="${id}"] .language`)) === 'Bahasa Indonesia');
  await shot(editor, '8-editor-wire');
  await Promise.all([issuer.waitForNavigation(),
    issuer.click(`li[data-id="${id}"] a[href$="/report?format=html"]`)]);
  check('the distribution report opens', issuer.url().endsWith(`/v1/releases/${id}/report?format=html`)
    && (await issuer.textContent('body')).length > 0, issuer.url());
  await shot(issuer, '9-report');

  // Keyboard: the skip link is the first stop on the form page.
  await issuer.goto(`${BASE}/desk/new`);
  await issuer.keyboard.press('Tab');
  check('the first Tab reaches the skip link',
    await issuer.evaluate(() => document.activeElement.className === 'skip'));

  check('no script errors', errors.length === 0, errors.join('\n'));
  await browser.close();
  browser = null;
  const rc = await stopProcess(server);
  server = null;
  H.checkCleanStop(rc, serverLog);
  await sleep(0);
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  if (server) await stopProcess(server);
  for (const d of tempDirs) await rm(d, { recursive: true, force: true });
}

H.cleanup = cleanup;
H.log = () => serverLog;
await H.run(main);
