// accounts.mjs -- log-in for people in Debian's chromium (playwright-core):
// an admin logs in, invites an issuer; the issuer opens the e-mailed link
// (read from --mail-log), chooses a name and password, is logged in, logs
// out and in again, and logs out; the log-in page in Arabic is right to
// left. Screenshots go to tests/output/browser/accounts.
//
//   KAWAT_BIN=build/asan/kawat node tests/browser/accounts.mjs
//
// Prints one line per check and "N passed, M failed" last; exits non-zero on
// any failure. The server is always stopped (SIGTERM) and temp folders
// removed; the whole run is bounded by GLOBAL_TIMEOUT_MS.

import { freePort, harness, serverEnv, stopProcess, waitHealthy } from './lib.mjs';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KAWAT = path.resolve(process.env.KAWAT_BIN || path.join(ROOT, 'build', 'asan', 'kawat'));
const OUT = path.join(ROOT, 'tests', 'output', 'browser', 'accounts');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic'];
const GLOBAL_TIMEOUT_MS = 120_000;
const ADMIN = { email: 'ada@example.com', password: 'correct horse battery staple' };
const ISSUER = { email: 'maya@example.com', name: 'Maya Putri', org: 'PT Kopi Gayo Lestari',
  password: 'kopi gayo lestari 2026' };
const H = harness(GLOBAL_TIMEOUT_MS);
const check = H.check;

let server = null;
let serverLog = '';
let context = null;
let BASE = '';
let MAIL_LOG = '';
const tempDirs = [];

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function login(page, email, password) {
  await page.goto(`${BASE}/login`);
  await page.fill('#f-email', email);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
}

async function logout(page) {
  await page.goto(`${BASE}/account`);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/logout"] button')]);
}

async function sessionCookie() {
  const all = await context.cookies(BASE);
  return all.find((c) => c.name === 'kawat_session');
}

async function main() {
  await mkdir(OUT, { recursive: true });
  const data = await mkdtemp(path.join(os.tmpdir(), 'kawat-accounts-data-'));
  const profile = await mkdtemp(path.join(os.tmpdir(), 'kawat-accounts-profile-'));
  tempDirs.push(data, profile);
  const DATA = path.join(data, 'data');
  MAIL_LOG = path.join(data, 'mail.log');
  await new Promise((resolve, reject) => {
    const p = execFile(KAWAT, ['user', 'add', '--data', DATA, '--role', 'admin', '--name',
      'Ada Admin', '--email', ADMIN.email, '--password-stdin'], { cwd: ROOT, env: serverEnv() },
    (e) => (e ? reject(e) : resolve()));
    p.stdin.end(`${ADMIN.password}\n`);
  });
  const port = await freePort();
  BASE = `http://127.0.0.1:${port}`;
  server = spawn(KAWAT, ['serve', '--listen', `127.0.0.1:${port}`, '--data', DATA,
    '--mail-log', MAIL_LOG, '--access-log', 'off'],
  { cwd: ROOT, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  server.on('error', (e) => { serverLog += `spawn: ${e.message}\n`; });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitHealthy(BASE, 30_000, server, () => serverLog);

  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true,
    viewport: { width: 1024, height: 768 }, locale: 'en-US',
  });
  const page = await context.newPage();

  // The admin logs in and lands on the invitations (next=).
  await page.goto(`${BASE}/admin/invites`);
  check('anonymous /admin/invites goes to log-in', page.url() === `${BASE}/login?next=/admin/invites`,
    page.url());
  await shot(page, '1-login');
  await page.fill('#f-email', ADMIN.email);
  await page.fill('#f-password', ADMIN.password);
  await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
  check('admin logs in and returns to the invitations', page.url() === `${BASE}/admin/invites`,
    page.url());
  const cookie = await sessionCookie();
  check('session cookie: HttpOnly, SameSite=Lax', cookie && cookie.httpOnly &&
    cookie.sameSite === 'Lax', JSON.stringify(cookie));
  check('scripts cannot read the session cookie',
    !(await page.evaluate(() => document.cookie)).includes('kawat_session'));

  // ... invites an issuer; a wrong form first is answered next to the field.
  await page.fill('#f-email', ISSUER.email);
  await page.selectOption('#f-role', 'issuer');
  await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
  check('an issuer without organization is answered next to the field',
    await page.isVisible('#organization-error') &&
    (await page.inputValue('#f-email')) === ISSUER.email);
  await page.fill('#f-organization', ISSUER.org);
  await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
  const notice = await page.textContent('p.notice');
  check('the invitation is sent', notice.includes(ISSUER.email), notice);
  await shot(page, '2-invited');
  await logout(page);
  check('admin logs out', page.url() === `${BASE}/login` && !(await sessionCookie()));

  // The issuer opens the e-mailed link.
  const mail = await readFile(MAIL_LOG, 'utf8');
  const m = mail.match(/http:\/\/127\.0\.0\.1:\d+\/invite\/[0-9a-z]+/);
  check('the invitation mail carries its link', !!m, mail);
  await page.goto(m[0]);
  check('the invitation names the organization', (await page.textContent('main')).includes(ISSUER.org));
  await shot(page, '3-invitation');
  await page.fill('#f-name', ISSUER.name);
  await page.fill('#f-password', 'too short');
  await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
  check('a short password is refused next to the field, the name kept',
    await page.isVisible('#password-error') && (await page.inputValue('#f-name')) === ISSUER.name);
  await page.fill('#f-password', ISSUER.password);
  await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
  check('the issuer is logged in on the account page', page.url() === `${BASE}/account`, page.url());
  const role = await page.getAttribute('#account-role', 'data-role');
  const org = await page.textContent('#account-organization');
  check('the account shows the issuer role and organization', role === 'issuer' && org === ISSUER.org,
    `${role} ${org}`);
  await shot(page, '4-account');
  await logout(page);
  await login(page, ISSUER.email, ISSUER.password);
  check('the issuer logs in again with the new password', page.url() === `${BASE}/account`);
  await logout(page);
  check('the issuer logs out', page.url() === `${BASE}/login` && !(await sessionCookie()));

  // One Arabic page: right to left, in Arabic.
  await page.goto(`${BASE}/login?lang=ar`);
  const dir = await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir,
    getComputedStyle(document.body).direction]);
  check('the Arabic log-in page is rtl', dir[0] === 'ar' && dir[1] === 'rtl' && dir[2] === 'rtl',
    dir.join(' '));
  check('the Arabic log-in page is in Arabic', (await page.textContent('h1')) === 'تسجيل الدخول');
  await shot(page, '5-login-ar');

  await context.close();
  context = null;
  const rc = await stopProcess(server);
  server = null;
  H.checkCleanStop(rc, serverLog);
}

async function cleanup() {
  if (context) await context.close().catch(() => {});
  if (server) await stopProcess(server);
  for (const d of tempDirs) await rm(d, { recursive: true, force: true });
}

H.cleanup = cleanup;
H.log = () => serverLog;
await H.run(main);
