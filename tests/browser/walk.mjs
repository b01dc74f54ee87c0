// walk.mjs -- the whole path of a release through kawat's pages, in Debian's
// chromium (playwright-core), one browser context per person: an admin
// invites an issuer; the issuer opens the e-mailed link (read from
// --mail-log), accepts the invitation and is logged in; a journalist signs
// up, sets a beat (Indonesian, business) and opens the live page; the
// issuer writes a release in Indonesian with an embargo some seconds ahead
// picked in the Asia/Jakarta time zone, sees the preview, submits; an editor
// approves it from the desk; at the lift instant the release appears on the
// portal page /id/ and, without a reload, on the journalist's live page; the
// issuer opens the distribution report from the desk and sees the stream
// delivery counted. Screenshots go to tests/output/browser/walk.
//
//   KAWAT_BIN=build/asan/kawat node tests/browser/walk.mjs
//
// Prints one line per check and "N passed, M failed" last; exits non-zero on
// any failure. The server is always stopped (SIGTERM) and temp folders
// removed; the whole run is bounded by GLOBAL_TIMEOUT_MS.

import { freePort, harness, serverEnv, sleep, stopProcess, waitHealthy } from './lib.mjs';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KAWAT = path.resolve(process.env.KAWAT_BIN || path.join(ROOT, 'build', 'asan', 'kawat'));
const OUT = path.join(ROOT, 'tests', 'output', 'browser', 'walk');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic'];
const GLOBAL_TIMEOUT_MS = 150_000;
const PASSWORD = 'correct horse battery staple';
const ADMIN = { email: 'ada@example.com', name: 'Ada Admin' };
const EDITOR = { email: 'ed@example.com', name: 'Ed Editor' };
const ISSUER = { email: 'maya@example.com', name: 'Maya Putri', org: 'PT Kopi Gayo Lestari',
  password: 'kopi gayo lestari 2026' };
const JOURNALIST = { email: 'dewi@example.com', name: 'Dewi Lestari', password: 'berita pagi 2026' };
const HEADLINE = 'Kopi Gayo ekspor perdana ke Jepang';
// From the moment the issuer picks the time: enough for submitting and the
// editor's log-in and approval under ASan, before the lift.
const EMBARGO_AHEAD_MS = 35_000;
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

async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

function addUser(data, role, who) {
  const args = ['user', 'add', '--data', data, '--role', role, '--name', who.name,
    '--email', who.email, '--password-stdin'];
  return new Promise((resolve, reject) => {
    const p = execFile(KAWAT, args, { cwd: ROOT, env: serverEnv() },
      (e) => (e ? reject(e) : resolve()));
    p.stdin.end(`${PASSWORD}\n`);
  });
}

async function login(page, email, password) {
  await page.fill('#f-email', email);
  await page.fill('#f-password', password);
  await submit(page, 'main button[type=submit]');
}

// "2026-12-03T17:05:30": the wall-clock time in Jakarta (UTC+7, no DST).
function jakartaLocal(ms) {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 19);
}

// A person: their own browser context and page, with what goes wrong in it
// (console errors, script errors, failed requests, HTTP errors) collected.
// An event stream cut when its page is left or closed is not a failure.
async function person(label, options) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 }, ...options });
  const problems = [];
  const watch = (p) => {
    p.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()} [${m.location()?.url ?? ''}]`);
    });
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    p.on('requestfailed', (r) => {
      if (!(r.url().includes('/v1/stream') && r.failure()?.errorText === 'net::ERR_ABORTED'))
        problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    p.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  };
  ctx.on('page', watch);
  const page = await ctx.newPage();
  return { label, ctx, page, problems };
}

// The numbers of the report page's "Streams" row: [matched, delivered, ...].
async function streamCounts(page) {
  return page.evaluate(() => {
    for (const tr of document.querySelectorAll('table tbody tr')) {
      const th = tr.querySelector('th');
      if (th && th.textContent.startsWith('Streams'))
        return Array.from(tr.querySelectorAll('td'), (td) => Number(td.textContent));
    }
    return null;
  });
}

async function main() {
  await mkdir(OUT, { recursive: true });
  const data = await mkdtemp(path.join(os.tmpdir(), 'kawat-walk-data-'));
  tempDirs.push(data);
  const DATA = path.join(data, 'data');
  const MAIL_LOG = path.join(data, 'mail.log');
  await addUser(DATA, 'admin', ADMIN);
  await addUser(DATA, 'editor', EDITOR);
  const port = await freePort();
  BASE = `http://127.0.0.1:${port}`;
  server = spawn(KAWAT, ['serve', '--listen', `127.0.0.1:${port}`, '--data', DATA,
    '--mail-log', MAIL_LOG, '--access-log', 'off'],
  { cwd: ROOT, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  server.on('error', (e) => { serverLog += `spawn: ${e.message}\n`; });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitHealthy(BASE, 30_000, server, () => serverLog);

  // A fresh profile (Playwright's own temporary user-data-dir), one context
  // per person so that their sessions are separate.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const people = [
    await person('admin', { locale: 'en-US' }),
    await person('issuer', { locale: 'id-ID', timezoneId: 'Asia/Jakarta', viewport: { width: 1024, height: 900 } }),
    await person('editor', { locale: 'en-US' }),
    await person('journalist', { locale: 'id-ID', timezoneId: 'Asia/Jakarta' }),
  ];
  const [admin, issuer, editor, journalist] = people.map((p) => p.page);

  // 1. The admin logs in and invites the issuer.
  await admin.goto(`${BASE}/admin/invites`);
  check('anonymous /admin/invites goes to log-in', admin.url() === `${BASE}/login?next=/admin/invites`,
    admin.url());
  await shot(admin, '01-admin-login');
  await login(admin, ADMIN.email, PASSWORD);
  check('the admin logs in and lands on the invitations', admin.url() === `${BASE}/admin/invites`,
    admin.url());
  await admin.fill('#f-email', ISSUER.email);
  await admin.selectOption('#f-role', 'issuer');
  await admin.fill('#f-organization', ISSUER.org);
  await submit(admin, 'main form button[type=submit]');
  const notice = (await admin.textContent('p.notice')) || '';
  check('the invitation is sent', notice.includes(ISSUER.email), notice);
  await shot(admin, '02-admin-invited');

  // 2. The issuer opens the e-mailed link and accepts: logged in.
  const mail = await readFile(MAIL_LOG, 'utf8');
  const link = mail.match(/http:\/\/127\.0\.0\.1:\d+\/invite\/[0-9a-z]+/);
  check('the invitation mail carries its link', !!link, mail.slice(-2000));
  if (!link) throw new Error('no invitation link in the mail log');
  await issuer.goto(link[0]);
  check('the invitation names the organization', (await issuer.textContent('main')).includes(ISSUER.org));
  await shot(issuer, '03-issuer-invitation');
  await issuer.fill('#f-name', ISSUER.name);
  await issuer.fill('#f-password', ISSUER.password);
  await submit(issuer, 'main form button[type=submit]');
  check('the issuer accepts and is logged in', issuer.url() === `${BASE}/account`, issuer.url());
  const role = await issuer.getAttribute('#account-role', 'data-role');
  const org = await issuer.textContent('#account-organization');
  check('the account is an issuer of the organization', role === 'issuer' && org === ISSUER.org,
    `${role} ${org}`);
  await shot(issuer, '04-issuer-account');

  // 3. A journalist signs up and sets a beat: Indonesian, business.
  await journalist.goto(`${BASE}/me/signup`);
  await journalist.check('input[name=kind][value=journalist]');
  await journalist.fill('#f-name', JOURNALIST.name);
  await journalist.fill('#f-email', JOURNALIST.email);
  await journalist.fill('#f-password', JOURNALIST.password);
  await submit(journalist, 'main form button[type=submit]');
  check('the journalist is signed up and on /me/', journalist.url() === `${BASE}/me/`, journalist.url());
  await journalist.check('input[name=language][value=id]');
  await journalist.check('input[name=sector][value=business]');
  await submit(journalist, 'button[name=action][value=save]');
  const beats = (await journalist.textContent('#beats')) || '';
  check('the beat is saved', journalist.url() === `${BASE}/me/` && beats.includes('Bahasa Indonesia'),
    beats);
  await shot(journalist, '05-journalist-beat');

  // 4. The issuer writes the release: Indonesian, embargo in Jakarta time.
  await issuer.goto(`${BASE}/desk/`);
  check('the issuer reaches the portal', issuer.url() === `${BASE}/desk/`, issuer.url());
  await issuer.click('nav.desk a[href="/desk/new"]');
  await issuer.waitForSelector('#f-headline');
  await issuer.fill('#f-headline', HEADLINE);
  await issuer.fill('#f-subheadline', 'Dua kontainer dari Takengon berangkat hari ini');
  await issuer.fill('#f-body', 'Takengon mengirim **kopi** arabika ke Osaka.');
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
  check('the embargo is the picked instant, with the Jakarta offset',
    /\+07:00$/.test(when) && Math.abs(Date.parse(when) - lift) < 1000, when);
  // The embargo is whole seconds: the lift is the instant the form holds.
  const liftAt = Date.parse(when);
  await issuer.waitForFunction((h) => {
    const a = document.querySelector('#preview article.release h1');
    return a && a.textContent === h;
  }, HEADLINE, { timeout: 10_000 });
  check('the live preview shows the release', true);
  await shot(issuer, '06-issuer-release-form');
  await submit(issuer, 'button[name=action][value=submit]');
  const m = issuer.url().match(/\/desk\/releases\/(r[0-9a-z]+)$/);
  check('submitting opens the release page', !!m, issuer.url());
  if (!m) throw new Error('no release id after submitting');
  const id = m[1];
  check('the release is submitted',
    (await issuer.getAttribute('#status .state', 'data-state')) === 'submitted');
  await shot(issuer, '07-issuer-submitted');

  // 5. The editor logs in and approves from the queue.
  await editor.goto(`${BASE}/desk/`);
  await login(editor, EDITOR.email, PASSWORD);
  check('the editor lands on the desk', editor.url() === `${BASE}/desk/`, editor.url());
  check('the queue shows the release', await editor.isVisible(`#queue a[href="/desk/releases/${id}"]`));
  await shot(editor, '08-editor-queue');
  await submit(editor, `#queue a[href="/desk/releases/${id}"]`);
  check('the editor sees the preview', (await editor.textContent('.preview-frame article h1')) === HEADLINE);
  await submit(editor, 'button[name=action][value=approve]');
  check('approved under embargo',
    (await editor.getAttribute('#status .state', 'data-state')) === 'embargoed');
  await shot(editor, '09-editor-approved');

  // 6. Before the lift: the journalist's live page is open; nothing public.
  await journalist.goto(`${BASE}/me/live`);
  await sleep(1000); // the EventSource connects
  await shot(journalist, '10-journalist-live-waiting');
  const before = await fetch(`${BASE}/id/`).then((r) => r.text());
  check('before the lift: not on /id/, not on the live page',
    Date.now() < liftAt && !before.includes(HEADLINE) &&
    !(await journalist.textContent('main')).includes(HEADLINE),
    `${liftAt - Date.now()} ms to the lift`);
  console.log(`# approved, live page open: ${liftAt - Date.now()} ms before the lift`);
  // A reader's tab (in the admin's browser) on /id/ before the lift; closed
  // again so that at the lift the journalist's page is the only stream open
  // and the report's stream delivery is theirs.
  let portal = await people[0].ctx.newPage();
  await portal.goto(`${BASE}/id/`);
  check('the portal page /id/ does not show it before the lift',
    Date.now() < liftAt && !(await portal.textContent('main')).includes(HEADLINE));
  await shot(portal, '11-portal-before-lift');
  await portal.close();

  // 7. The lift: on the journalist's live page, without a reload.
  let appeared = true;
  try {
    await journalist.waitForSelector(`#live li[data-id="${id}"]`,
      { timeout: Math.max(0, liftAt - Date.now()) + 15_000 });
  } catch { appeared = false; }
  const late = Date.now() - liftAt;
  check('the release appears live on the journalist\'s page at the lift',
    appeared && late >= 0, `${appeared ? '' : 'not seen; '}${late} ms after the lift`);
  check('the live item is the headline',
    appeared && (await journalist.textContent(`#live li[data-id="${id}"] h2`)).includes(HEADLINE));
  await shot(journalist, '12-journalist-live');

  // ... and on the portal page /id/.
  portal = await people[0].ctx.newPage();
  await portal.goto(`${BASE}/id/`);
  let onPortal = await portal.isVisible(`ol.releases li[data-id="${id}"]`);
  for (let i = 0; i < 20 && !onPortal; i++) {
    await sleep(250);
    await portal.reload();
    onPortal = await portal.isVisible(`ol.releases li[data-id="${id}"]`);
  }
  check('the release is on /id/ after the lift', onPortal &&
    (await portal.textContent(`ol.releases li[data-id="${id}"]`)).includes(HEADLINE));
  await shot(portal, '13-portal-id');
  await portal.close();

  // 8. The issuer opens the report from the desk: the stream delivery.
  await issuer.goto(`${BASE}/desk/`);
  await issuer.waitForSelector(`li[data-id="${id}"] .state[data-state="published"]`, { timeout: 10_000 });
  check('the issuer\'s desk shows it published', true);
  await submit(issuer, `li[data-id="${id}"] a[href$="/report?format=html"]`);
  check('the distribution report opens', issuer.url() === `${BASE}/v1/releases/${id}/report?format=html`,
    issuer.url());
  let counts = await streamCounts(issuer);
  for (let i = 0; i < 40 && !(counts && counts[1] >= 1); i++) {
    await sleep(250);
    await issuer.reload();
    counts = await streamCounts(issuer);
  }
  console.log(`# report, streams row (matched, delivered, failed, pending, failed attempts): ${JSON.stringify(counts)}`);
  check('the report counts the delivery to the journalist\'s stream (streams delivered >= 1)',
    counts && counts[1] >= 1, JSON.stringify(counts));
  await shot(issuer, '14-issuer-report');

  for (const p of people)
    check(`${p.label}: no console errors or failed requests`, p.problems.length === 0,
      p.problems.join('; '));
  await browser.close();
  browser = null;
  const rc = await stopProcess(server);
  server = null;
  H.checkCleanStop(rc, serverLog);
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  if (server) await stopProcess(server);
  for (const d of tempDirs) await rm(d, { recursive: true, force: true });
}

H.cleanup = cleanup;
H.log = () => serverLog;
await H.run(main);
