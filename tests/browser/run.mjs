// run.mjs -- kawat's browser test: starts the real server with the demo
// releases and drives Debian's chromium (playwright-core, no downloaded
// browser) over the portal in a right-to-left, a Thai, a CJK and two Latin
// languages, checking what a reader sees and saving screenshots.
//
//   KAWAT_BIN=build/asan/kawat node tests/browser/run.mjs
//
// Prints one line per check and "N passed, M failed" last; exits non-zero on
// any failure. The server is always stopped (SIGTERM) and temp folders removed.

import { freePort, harness, sleep, stopProcess, waitHealthy } from './lib.mjs';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KAWAT = path.resolve(process.env.KAWAT_BIN || path.join(ROOT, 'build', 'asan', 'kawat'));
const OUT = path.join(ROOT, 'tests', 'output', 'browser');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic'];
const GLOBAL_TIMEOUT_MS = 120_000;
const H = harness(GLOBAL_TIMEOUT_MS);
const check = H.check;

// The languages under test, with what their pages must say. The sector label
// is the localized "Sector" (src/core/core_lang.c, MSG_SECTOR).
const LANGS = {
  ar: { dir: 'rtl', sector: 'القطاع' },
  th: { dir: 'ltr', sector: 'หมวดหมู่' },
  ja: { dir: 'ltr', sector: '分野' },
  id: { dir: 'ltr', sector: 'Sektor' },
  en: { dir: 'ltr', sector: 'Sector' },
};
const LAUNCH_GROUP = 'kawat-launch'; // demo/0[1-6]-*-kawat-launch.md: six languages

let server = null;
let serverLog = '';
let context = null;
const tempDirs = [];





async function getJson(base, p) {
  const r = await fetch(base + p);
  if (r.status !== 200) throw new Error(`GET ${p}: ${r.status}`);
  return r.json();
}

// SIGTERM and wait; returns the exit code (null if it had to be killed).
async function stopServer() {
  const proc = server;
  server = null;
  return stopProcess(proc);
}

async function cleanup() {
  if (context) await context.close().catch(() => {});
  context = null;
  const rc = await stopServer();
  for (const d of tempDirs) await rm(d, { recursive: true, force: true }).catch(() => {});
  return rc;
}

// Opens url in a fresh page, collecting console errors, page errors and
// failed requests while it loads. Returns { page, response, problems }.
async function open(url) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()} [${m.location()?.url ?? ''}]`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  const response = await page.goto(url, { waitUntil: 'load', timeout: 20_000 });
  await page.evaluate(() => document.fonts.ready);
  return { page, response, problems };
}

// What every page must have: status 200, <html lang dir>, body direction, an h1.
async function checkCommon(label, page, response, lang) {
  const want = LANGS[lang]?.dir ?? 'ltr';
  check(`${label}: status 200`, response?.status() === 200, `got ${response?.status()}`);
  const html = await page.evaluate(() => ({
    lang: document.documentElement.getAttribute('lang'),
    dir: document.documentElement.getAttribute('dir'),
    bodyDir: getComputedStyle(document.body).direction,
    h1: document.querySelector('h1')?.textContent.trim() ?? '',
  }));
  check(`${label}: <html lang="${lang}">`, html.lang === lang, `got ${html.lang}`);
  check(`${label}: <html dir="${want}">`, html.dir === want, `got ${html.dir}`);
  check(`${label}: body direction ${want}`, html.bodyDir === want, `got ${html.bodyDir}`);
  check(`${label}: h1 present`, html.h1.length > 0);
}

function checkClean(label, problems) {
  check(`${label}: no console errors or failed requests`, problems.length === 0,
    problems.join('; '));
}

async function checkRelease(label, base, lang, id, shot) {
  const rel = await getJson(base, `/v1/releases/${id}`);
  const { page, response, problems } = await open(`${base}/${lang}/releases/${id}`);
  await checkCommon(label, page, response, lang);
  const got = await page.evaluate(() => ({
    h1: document.querySelector('h1')?.textContent.trim() ?? '',
    dateline: document.querySelector('.dateline')?.textContent ?? '',
    disclaimer: document.querySelector('.disclaimer')?.textContent.trim() ?? '',
    sectors: document.querySelector('.sectors')?.textContent.trim() ?? '',
    links: [...document.querySelectorAll('nav.translations a')].map((a) => ({
      lang: a.getAttribute('hreflang'), href: a.getAttribute('href') })),
  }));
  check(`${label}: h1 is the headline`, got.h1 === rel.headline, `got "${got.h1}"`);
  check(`${label}: dateline contains "(kawat) –"`, got.dateline.includes('(kawat) –'),
    `got "${got.dateline}"`);
  check(`${label}: disclaimer non-empty`, got.disclaimer.length > 0);
  check(`${label}: sector line starts with "${LANGS[lang].sector}"`,
    got.sectors.startsWith(LANGS[lang].sector), `got "${got.sectors}"`);
  const want = rel.translations ?? [];
  const missing = want.filter((t) => !got.links.some(
    (l) => l.lang === t.language && l.href === `/${t.language}/releases/${t.id}`));
  check(`${label}: links to its ${want.length} other language(s)`,
    missing.length === 0 && got.links.length === want.length,
    `missing ${missing.map((t) => t.language).join(',') || '-'}, page has ${got.links.length}`);
  await page.screenshot({ path: path.join(OUT, `${shot}.png`), fullPage: true });
  checkClean(label, problems);
  await page.close();
  return want;
}

async function main() {
  await mkdir(OUT, { recursive: true });
  const data = await mkdtemp(path.join(os.tmpdir(), 'kawat-browser-data-'));
  const profile = await mkdtemp(path.join(os.tmpdir(), 'kawat-browser-profile-'));
  tempDirs.push(data, profile);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('KAWAT_')) delete env[k];
  env.ASAN_OPTIONS ??= 'detect_leaks=1';
  env.UBSAN_OPTIONS ??= 'print_stacktrace=1';
  server = spawn(KAWAT, ['serve', '--listen', `127.0.0.1:${port}`, '--data', path.join(data, 'data'),
    '--demo', '--access-log', 'off'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.on('error', (e) => { serverLog += `spawn: ${e.message}\n`; });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitHealthy(base, 30_000, server, () => serverLog);

  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true,
    viewport: { width: 1024, height: 768 },
  });

  {
    const { page, response, problems } = await open(`${base}/`);
    await checkCommon('/', page, response, 'en');
    await page.screenshot({ path: path.join(OUT, 'root.png'), fullPage: true });
    checkClean('/', problems);
    await page.close();
  }
  for (const lang of Object.keys(LANGS)) {
    const { page, response, problems } = await open(`${base}/${lang}/`);
    await checkCommon(`/${lang}/`, page, response, lang);
    const items = await page.locator('main a[href*="/releases/"]').count();
    check(`/${lang}/: lists releases`, items > 0);
    await page.screenshot({ path: path.join(OUT, `home-${lang}.png`), fullPage: true });
    checkClean(`/${lang}/`, problems);
    await page.close();

    const list = await getJson(base, `/v1/releases?language=${encodeURIComponent(lang)}&limit=1`);
    const id = list.items?.[0]?.id;
    check(`/v1/releases?language=${lang}: a published release`, Boolean(id));
    if (id) await checkRelease(`/${lang}/releases/${id}`, base, lang, id, `release-${lang}`);
  }

  // The launch release is in six languages: its page links to the other five.
  const en = await getJson(base, '/v1/releases?language=en&limit=100');
  const launch = en.items?.find((r) => r.translation_group === LAUNCH_GROUP);
  check('launch release found', Boolean(launch));
  if (launch) {
    const tr = await checkRelease(`/en/releases/${launch.id} (launch)`, base, 'en', launch.id,
      'release-en-launch');
    check('launch release has 6 languages', tr.length === 5, `${tr.length + 1} languages`);
    const ar = tr.find((t) => t.language === 'ar');
    if (ar) await checkRelease(`/ar/releases/${ar.id} (launch)`, base, 'ar', ar.id, 'release-ar-launch');
  }

  await context.close();
  context = null;
  const rc = await stopServer();
  H.checkCleanStop(rc, serverLog);
}

H.cleanup = cleanup;
H.log = () => serverLog;
await H.run(main);
