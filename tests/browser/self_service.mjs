// self_service.mjs -- subscriber self-service in Debian's chromium
// (playwright-core): a journalist signs up, sets a beat and sees the preview
// of the recent releases it matches, opens the live page, and a matching
// release published through the API appears there live (one that does not
// match does not); an outlet adds a webhook endpoint and sees the delivery
// in its log, pauses it; the pages on a phone and in Arabic. Screenshots go
// to tests/output/browser/self_service.
//
//   KAWAT_BIN=build/asan/kawat node tests/browser/self_service.mjs
//
// Prints one line per check and "N passed, M failed" last; exits non-zero on
// any failure. The server is always stopped (SIGTERM) and temp folders
// removed; the whole run is bounded by GLOBAL_TIMEOUT_MS.

import { apiCall, freePort, harness, makeToken, serverEnv, sleep, stopProcess, waitHealthy }
  from './lib.mjs';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KAWAT = path.resolve(process.env.KAWAT_BIN || path.join(ROOT, 'build', 'asan', 'kawat'));
const OUT = path.join(ROOT, 'tests', 'output', 'browser', 'self_service');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic'];
const GLOBAL_TIMEOUT_MS = 150_000;
const PASSWORD = 'kopi gayo lestari 2026';
const H = harness(GLOBAL_TIMEOUT_MS);
const check = H.check;

let server = null;
let serverLog = '';
let context = null;
let receiver = null;
let BASE = '';
const tempDirs = [];

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function signup(page, kind, name, email) {
  await page.goto(`${BASE}/me/signup`);
  await page.check(`input[name=kind][value=${kind}]`);
  await page.fill('#f-name', name);
  await page.fill('#f-email', email);
  await page.fill('#f-password', PASSWORD);
  await submit(page, 'main form button[type=submit]');
}

async function publish(issuer, editor, fields) {
  const body = { headline: 'x', body: 'A body with a [link](https://example.com/).',
    language: 'en', sectors: ['Business'], regions: ['ID'], ...fields };
  const c = await apiCall(BASE, 'POST', '/v1/releases', body, issuer);
  if (c.status !== 201) throw new Error(`create: ${c.status} ${c.text}`);
  const s = await apiCall(BASE, 'POST', `/v1/releases/${c.json.id}/submit`, undefined, issuer);
  if (s.status !== 200) throw new Error(`submit: ${s.status} ${s.text}`);
  const a = await apiCall(BASE, 'POST', `/v1/releases/${c.json.id}/approve`, undefined, editor);
  if (a.status !== 200) throw new Error(`approve: ${a.status} ${a.text}`);
  return a.json;
}

async function main() {
  await mkdir(OUT, { recursive: true });
  const data = await mkdtemp(path.join(os.tmpdir(), 'kawat-self-data-'));
  const profile = await mkdtemp(path.join(os.tmpdir(), 'kawat-self-profile-'));
  tempDirs.push(data, profile);
  const DATA = path.join(data, 'data');
  const got = [];
  receiver = http.createServer((req, res) => {
    let b = '';
    req.on('data', (d) => { b += d; });
    req.on('end', () => { got.push(b); res.writeHead(204); res.end(); });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${receiver.address().port}/hook`;

  const port = await freePort();
  BASE = `http://127.0.0.1:${port}`;
  server = spawn(KAWAT, ['serve', '--listen', `127.0.0.1:${port}`, '--data', DATA,
    '--mail-log', path.join(data, 'mail.log'), '--access-log', 'off',
    '--webhook-allow', '127.0.0.0/8'],
  { cwd: ROOT, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  server.on('error', (e) => { serverLog += `spawn: ${e.message}\n`; });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitHealthy(BASE, 30_000, server, () => serverLog);
  const issuer = await makeToken(KAWAT, ROOT, DATA, 'issuer', 'PT Kopi Gayo');
  const editor = await makeToken(KAWAT, ROOT, DATA, 'editor', 'Ed Editor');
  await publish(issuer, editor, { headline: 'Kopi Gayo exports rise', language: 'id' });
  await publish(issuer, editor, { headline: 'Berlin startup news', language: 'de',
    sectors: ['Technology'], regions: ['DE'] });

  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true,
    viewport: { width: 1024, height: 768 }, locale: 'en-US',
  });
  const page = await context.newPage();

  // A journalist signs up; a mistake first is answered next to the field.
  await page.goto(`${BASE}/me`);
  check('anonymous /me goes to log-in', page.url() === `${BASE}/login?next=/me/`, page.url());
  await page.goto(`${BASE}/me/signup`);
  await page.fill('#f-name', 'Dewi Lestari');
  await page.fill('#f-email', 'dewi@example');
  await page.fill('#f-password', PASSWORD);
  await submit(page, 'main form button[type=submit]');
  check('a bad address is answered next to the field, the name kept',
    await page.isVisible('#email-error') && (await page.inputValue('#f-name')) === 'Dewi Lestari');
  await shot(page, '1-signup-error');
  await signup(page, 'journalist', 'Dewi Lestari', 'dewi@example.com');
  check('the journalist is logged in on /me/', page.url() === `${BASE}/me/`, page.url());
  await shot(page, '2-me');

  // A beat: Indonesian releases about business; the preview lists the match.
  await page.check('input[name=language][value=id]');
  await page.check('input[name=sector][value=business]');
  await submit(page, 'button[name=action][value=preview]');
  const preview = await page.textContent('#preview');
  check('the preview lists the matching release, not the other',
    preview.includes('Kopi Gayo exports rise') && !preview.includes('Berlin'), preview);
  check('the form keeps what was ticked',
    await page.isChecked('input[name=language][value=id]') &&
    await page.isChecked('input[name=sector][value=business]'));
  await shot(page, '3-preview');
  await submit(page, 'button[name=action][value=save]');
  const beats = await page.textContent('#beats');
  check('the beat is saved', page.url() === `${BASE}/me/` && beats.includes('Bahasa Indonesia'), beats);
  check('a feed for the beat is offered',
    await page.isVisible('#feeds a[href="/id/sectors/business/atom.xml"]'));
  await shot(page, '4-beat-saved');

  // The live page: a matching release appears, another does not.
  await page.goto(`${BASE}/me/live`);
  await sleep(1000); // the EventSource connects
  await publish(issuer, editor, { headline: 'Kopi Gayo opens a roastery', language: 'id' });
  await publish(issuer, editor, { headline: 'Not on the beat', language: 'en' });
  let appeared = true;
  try {
    await page.waitForSelector('#live li >> text=Kopi Gayo opens a roastery', { timeout: 15_000 });
  } catch { appeared = false; }
  check('a matching release appears live', appeared);
  await sleep(500);
  check('a release off the beat does not', !(await page.textContent('#live')).includes('Not on the beat'));
  await shot(page, '5-live');

  // On a phone, in Arabic.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BASE}/me/?lang=ar`);
  const dir = await page.evaluate(() => [document.documentElement.dir,
    document.documentElement.scrollWidth <= window.innerWidth + 1]);
  check('the Arabic page is rtl and fits a phone', dir[0] === 'rtl' && dir[1], dir.join(' '));
  await shot(page, '6-me-ar-phone');
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.goto(`${BASE}/me/?lang=en`);

  // An outlet: a new person in the same browser.
  await context.clearCookies();
  await signup(page, 'outlet', 'Harian Test', 'desk@outlet.example');
  await page.goto(`${BASE}/me/endpoints`);
  await page.fill('#f-url', 'ftp://nowhere');
  await submit(page, 'main form button[type=submit]');
  check('a bad URL is answered next to the field, kept',
    await page.isVisible('#url-error') && (await page.inputValue('#f-url')) === 'ftp://nowhere');
  await page.fill('#f-url', hook);
  await submit(page, 'main form button[type=submit]');
  const secret = await page.textContent('#secret');
  check('the endpoint is added and its secret shown once', /whsec_/.test(secret), secret);
  await shot(page, '7-endpoint-added');
  const rel = await publish(issuer, editor, { headline: 'For the outlets' });
  await submit(page, 'ul.endpoints a');
  let delivered = false;
  for (let i = 0; i < 60 && !delivered; i++) {
    delivered = await page.isVisible(`tr[data-state=delivered] >> text=${rel.id}`);
    if (!delivered) { await sleep(250); await page.reload(); }
  }
  check('the delivery log shows the release delivered', delivered);
  check('the receiver got the webhook', got.some((b) => b.includes(rel.id)));
  await shot(page, '8-delivery-log');
  await submit(page, 'button[name=action][value=pause]');
  check('the endpoint is paused', (await page.getAttribute('#endpoint', 'data-state')) === 'paused');
  await submit(page, 'button[name=action][value=resume]');
  check('the endpoint is resumed', (await page.getAttribute('#endpoint', 'data-state')) === 'active');

  await context.close();
  context = null;
  const rc = await stopProcess(server);
  server = null;
  H.checkCleanStop(rc, serverLog);
}

async function cleanup() {
  if (context) await context.close().catch(() => {});
  if (server) await stopProcess(server);
  if (receiver) receiver.close();
  for (const d of tempDirs) await rm(d, { recursive: true, force: true });
}

H.cleanup = cleanup;
H.log = () => serverLog;
await H.run(main);
