// portal.mjs -- the portal in Debian's chromium (playwright-core, no
// downloaded browser): the language homes and release pages in Arabic, Thai,
// Japanese, Indonesian and English (language, direction, the disclaimer and
// the sector line in the page's language), a release published through the
// API appearing on an open home page without a reload (live.js), and a
// hostile release that must render inert and intact, on its page, in the
// lists and when it arrives live. Screenshots go to tests/output/browser/portal.
//
//   KAWAT_BIN=build/asan/kawat node tests/browser/portal.mjs
//
// Prints one line per check and "N passed, M failed" last; exits non-zero on
// any failure. The server is always stopped (SIGTERM) and temp folders
// removed; the whole run is bounded by GLOBAL_TIMEOUT_MS.

import {
  apiCall, freePort, harness, makeToken as libMakeToken, serverEnv, sleep, stopProcess,
  waitHealthy,
} from './lib.mjs';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KAWAT = path.resolve(process.env.KAWAT_BIN || path.join(ROOT, 'build', 'asan', 'kawat'));
const OUT = path.join(ROOT, 'tests', 'output', 'browser', 'portal');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic'];
const GLOBAL_TIMEOUT_MS = 180_000;
const H = harness(GLOBAL_TIMEOUT_MS);
const check = H.check;

// What each language's pages must say (src/core/core_lang.c, core_sector.c).
// A release in Technology and Business shows "<label>: <tech><sep><business>".
const LANGS = {
  ar: {
    dir: 'rtl', title: 'أحدث الأخبار العربية اليوم', sectors: 'القطاع: التكنولوجيا، الأعمال',
    disclaimer: 'هذا المقال مقدَّم من مزوّد محتوى خارجي', headline: 'إطلاق منصة جديدة للطاقة الشمسية',
  },
  th: {
    dir: 'ltr', title: 'ข่าวภาษาไทยล่าสุดวันนี้', sectors: 'หมวดหมู่: เทคโนโลยี, ธุรกิจ',
    disclaimer: 'บทความนี้จัดทำโดยผู้ให้บริการเนื้อหาภายนอก', headline: 'เปิดตัวแพลตฟอร์มใหม่สำหรับธุรกิจไทย',
  },
  ja: {
    dir: 'ltr', title: '今日の最新日本語ニュース', sectors: '分野：テクノロジー、ビジネス',
    disclaimer: '本記事は第三者のコンテンツプロバイダーにより提供されたものです。',
    headline: '新しいロボット工場が横浜で稼働',
  },
  id: {
    dir: 'ltr', title: 'Berita Indonesia Terbaru Hari Ini', sectors: 'Sektor: Teknologi, Bisnis',
    disclaimer: 'Artikel ini disediakan oleh penyedia konten pihak ketiga.',
    headline: 'Startup Surabaya meluncurkan platform logistik',
  },
  en: {
    dir: 'ltr', title: 'Latest English News Today', sectors: 'Sector: Technology, Business',
    disclaimer: 'This article is provided by a third-party content provider.',
    headline: 'Acme opens a robotics plant in Yokohama',
  },
};

let server = null;
let serverLog = '';
let context = null;
const tempDirs = [];

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

// Create, submit and approve; returns the published release.
async function publish(fields, issuer = tokens.issuer) {
  const body = {
    headline: 'Portal test', body: 'A body with a [link](https://example.com/).',
    language: 'en', sectors: ['Technology', 'Business'], regions: ['ID'], ...fields,
  };
  const c = await api('POST', '/v1/releases', body, issuer);
  if (c.status !== 201) throw new Error(`create: ${c.status} ${c.text}`);
  const s = await api('POST', `/v1/releases/${c.json.id}/submit`, undefined, issuer);
  if (s.status !== 200) throw new Error(`submit: ${s.status} ${s.text}`);
  const a = await api('POST', `/v1/releases/${c.json.id}/approve`, undefined, tokens.editor);
  if (a.status !== 200 || a.json?.state !== 'published') throw new Error(`approve: ${a.status} ${a.text}`);
  return a.json;
}

// ---- the browser -------------------------------------------------------------

// Opens url in a new page that records what must never happen: console
// errors (a CSP violation is one), uncaught errors, failed requests,
// dialogs (alert/confirm/prompt from an injected script).
async function open(url) {
  const page = await context.newPage();
  const problems = [];
  const dialogs = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()} [${m.location()?.url ?? ''}]`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // An EventSource torn down by page.close() is not a failure.
    if (!r.url().includes('/v1/stream')) problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.on('dialog', (d) => { dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });
  const response = await page.goto(url, { waitUntil: 'load', timeout: 20_000 });
  await page.evaluate(() => document.fonts.ready);
  return { page, response, problems, dialogs, navigations: () => navigations };
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function frame(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.getAttribute('lang'),
    dir: document.documentElement.getAttribute('dir'),
    direction: getComputedStyle(document.body).direction,
    mainDirection: getComputedStyle(document.querySelector('main')).direction,
    h1: document.querySelector('h1')?.textContent.trim() ?? '',
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    landmarks: ['header', 'nav', 'main', 'footer'].every((t) => document.querySelector(t)),
    skip: document.querySelector('body > a.skip')?.getAttribute('href') ?? null,
  }));
}

async function checkLanguage(lang, rel) {
  const want = LANGS[lang];
  {
    const { page, response, problems } = await open(`${BASE}/${lang}/`);
    const f = await frame(page);
    check(`/${lang}/: status 200`, response?.status() === 200, `got ${response?.status()}`);
    check(`/${lang}/: <html lang="${lang}" dir="${want.dir}">`, f.lang === lang && f.dir === want.dir,
      `lang ${f.lang}, dir ${f.dir}`);
    check(`/${lang}/: laid out ${want.dir}`, f.direction === want.dir && f.mainDirection === want.dir,
      `body ${f.direction}, main ${f.mainDirection}`);
    check(`/${lang}/: title "${want.title}"`, f.h1 === want.title, `got "${f.h1}"`);
    check(`/${lang}/: landmarks and skip link`, f.landmarks && f.skip === '#main');
    const item = await page.evaluate((id) => {
      const li = document.querySelector(`ol.releases > li[data-id="${id}"]`);
      return li && {
        headline: li.querySelector('h2 a')?.textContent, href: li.querySelector('h2 a')?.getAttribute('href'),
        sectors: li.querySelector('.sectors')?.textContent,
        issuer: li.querySelector('a.issuer')?.getAttribute('href'),
      };
    }, rel.id);
    check(`/${lang}/: lists the release with its localized sector line`,
      item?.headline === want.headline && item?.href === `/${lang}/releases/${rel.id}` &&
      item?.sectors === want.sectors && item?.issuer?.startsWith(`/${lang}/issuers/`),
      JSON.stringify(item));
    check(`/${lang}/: no horizontal overflow`, f.overflow <= 0, `${f.overflow}px`);
    await shot(page, `home-${lang}`);
    check(`/${lang}/: no console errors or failed requests`, problems.length === 0, problems.join('; '));
    await page.close();
  }
  {
    const { page, response, problems } = await open(`${BASE}/${lang}/releases/${rel.id}`);
    const f = await frame(page);
    check(`release ${lang}: status 200`, response?.status() === 200, `got ${response?.status()}`);
    check(`release ${lang}: lang and dir`, f.lang === lang && f.dir === want.dir && f.direction === want.dir,
      `lang ${f.lang}, dir ${f.dir}, direction ${f.direction}`);
    const got = await page.evaluate(() => ({
      h1: document.querySelector('article h1')?.textContent,
      dateline: document.querySelector('.dateline')?.textContent ?? '',
      disclaimer: document.querySelector('.disclaimer')?.textContent ?? '',
      sectors: document.querySelector('article .sectors')?.textContent ?? '',
      sectorLinks: [...document.querySelectorAll('article .sectors a')].map((a) => a.getAttribute('href')),
      ld: JSON.parse(document.querySelector('script[type="application/ld+json"]')?.textContent ?? 'null'),
    }));
    check(`release ${lang}: headline`, got.h1 === want.headline, `got "${got.h1}"`);
    check(`release ${lang}: dateline "(kawat) –"`, got.dateline.includes('(kawat) –'), got.dateline);
    check(`release ${lang}: disclaimer in ${lang}`, got.disclaimer.startsWith(want.disclaimer), got.disclaimer);
    check(`release ${lang}: sector line "${want.sectors}"`, got.sectors === want.sectors &&
      got.sectorLinks.join(' ') === `/${lang}/sectors/technology/ /${lang}/sectors/business/`,
    `${got.sectors} ${got.sectorLinks.join(' ')}`);
    check(`release ${lang}: NewsArticle JSON-LD`, got.ld?.['@type'] === 'NewsArticle' &&
      got.ld?.headline === want.headline && got.ld?.inLanguage === lang, JSON.stringify(got.ld)?.slice(0, 200));
    await shot(page, `release-${lang}`);
    check(`release ${lang}: no console errors or failed requests`, problems.length === 0, problems.join('; '));
    await page.close();
  }
}

// A release published while the home page is open appears at its top,
// drawn like the server's items, with no reload.
async function checkLive(lang) {
  const o = await open(`${BASE}/${lang}/`);
  const { page } = o;
  await page.evaluate(() => { window.__kawatMarker = 'same page'; });
  // live.js connects on load; give its EventSource a moment to open.
  await page.waitForFunction(() => performance.getEntriesByType('resource')
    .some((e) => e.name.includes('/v1/stream')), null, { timeout: 5_000 }).catch(() => {});
  await sleep(300);
  const headline = `${LANGS[lang].headline} (live)`;
  const rel = await publish({ headline, language: lang });
  const sel = `ol.releases[data-live] > li.live[data-id="${rel.id}"]`;
  const appeared = await page.waitForSelector(sel, { timeout: 8_000 }).then(() => true, () => false);
  check(`live ${lang}: the new release appears without reload`, appeared);
  if (appeared) {
    const got = await page.evaluate((id) => {
      const li = document.querySelector('ol.releases[data-live]').firstElementChild;
      return {
        first: li.getAttribute('data-id'), text: li.querySelector('h2 a').textContent,
        href: li.querySelector('h2 a').getAttribute('href'),
        sectors: li.querySelector('.sectors')?.textContent, time: li.querySelector('time')?.textContent,
        issuer: li.querySelector('a.issuer')?.getAttribute('href'), marker: window.__kawatMarker,
        copies: document.querySelectorAll(`li[data-id="${id}"]`).length,
      };
    }, rel.id);
    check(`live ${lang}: at the top, linked, localized sector line, once`,
      got.first === rel.id && got.text === headline && got.href === `/${lang}/releases/${rel.id}` &&
      got.sectors === LANGS[lang].sectors && got.copies === 1 && got.time && got.issuer,
      JSON.stringify(got));
    check(`live ${lang}: same page`, got.marker === 'same page' && o.navigations() === 1,
      `${o.navigations()} navigations`);
    await shot(page, `live-${lang}`);
  }
  check(`live ${lang}: no console errors or failed requests`, o.problems.length === 0, o.problems.join('; '));
  return o;
}

// ---- hostile content ---------------------------------------------------------

const PAYLOAD_HEADLINE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2;alert(2)">' +
  ' \u202Eevil\u202C </title></script><!-- "quoted" & \'single\'';
const PAYLOAD_BODY = [
  '[click me](javascript:window.__pwned=3;alert(3))',
  '<script>window.__pwned=4;alert(4)</script>',
  '<iframe srcdoc="<script>parent.__pwned=5</script>"></iframe>',
  '<svg onload="window.__pwned=6"></svg> <a href="javascript:alert(7)">raw</a>',
  `A very long word: ${'X'.repeat(3000)}`,
  '[data](data:text/html,<script>alert(8)</script>) ![img](javascript:alert(9))',
].join('\n\n');

async function checkHostile(live) {
  const evil = await makeToken('issuer', '<img src=x onerror="window.__pwned=10">\u202EEvil Corp');
  // The hostile one arrives live on the open English home first.
  const rel = await publish({
    headline: PAYLOAD_HEADLINE, body: PAYLOAD_BODY, subheadline: '</p><script>window.__pwned=11</script>',
    dateline_place: '<svg onload=alert(12)>', language: 'en',
  }, evil);
  const sel = `ol.releases[data-live] > li[data-id="${rel.id}"]`;
  const arrived = await live.page.waitForSelector(sel, { timeout: 8_000 }).then(() => true, () => false);
  check('hostile: arrives on the live list', arrived);
  await sleep(300);
  const liveState = await live.page.evaluate((s) => ({
    pwned: window.__pwned, text: document.querySelector(`${s} h2 a`)?.textContent,
    imgs: document.querySelectorAll('main img, main svg, main iframe, main script').length,
  }), sel);
  check('hostile: live item inert and intact', liveState.pwned === undefined &&
    liveState.text === PAYLOAD_HEADLINE && liveState.imgs === 0, JSON.stringify(liveState));
  check('hostile: no dialog on the live page', live.dialogs.length === 0, live.dialogs.join('; '));
  await shot(live.page, 'hostile-live-en');

  for (const [label, url] of [['release page', `${BASE}/en/releases/${rel.id}`], ['home', `${BASE}/en/`],
    ['sector page', `${BASE}/en/sectors/technology/`]]) {
    const o = await open(url);
    await sleep(500); // time for anything that would run late (onerror, onload)
    const got = await o.page.evaluate((id) => {
      const h = document.querySelector('article.release h1') ??
        document.querySelector(`li[data-id="${id}"] h2 a`);
      const links = [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'));
      return {
        pwned: window.__pwned, headline: h?.textContent,
        // Markdown images stay images, but one with an unsafe URL has it
        // dropped (src=""); nothing else an issuer wrote becomes an element
        // or an event handler.
        injected: document.querySelectorAll('main svg, main iframe, main script, main b, main object, main embed').length +
          [...document.querySelectorAll('main img')].filter((i) => i.getAttribute('src') !== '').length +
          [...document.querySelectorAll('main *')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
        badLinks: links.filter((x) => /^\s*(javascript|data|vbscript):/i.test(x)),
        overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        title: document.title,
      };
    }, rel.id);
    check(`hostile ${label}: no script ran`, got.pwned === undefined, `__pwned = ${got.pwned}`);
    check(`hostile ${label}: no dialog`, o.dialogs.length === 0, o.dialogs.join('; '));
    check(`hostile ${label}: headline intact as text`, got.headline === PAYLOAD_HEADLINE, got.headline);
    check(`hostile ${label}: no injected elements or script links`,
      got.injected === 0 && got.badLinks.length === 0, JSON.stringify(got));
    check(`hostile ${label}: the enormous word does not widen the page`, got.overflow <= 0, `${got.overflow}px`);
    if (label === 'release page') {
      check('hostile release page: <title> intact', got.title === PAYLOAD_HEADLINE, got.title);
      // Clicking the neutered javascript: link does nothing.
      await o.page.locator('.body a', { hasText: 'click me' }).click({ timeout: 2_000 }).catch(() => {});
      await sleep(200);
      const after = await o.page.evaluate(() => window.__pwned);
      check('hostile release page: clicking the javascript: link runs nothing',
        after === undefined && o.dialogs.length === 0, `__pwned = ${after}`);
    }
    await shot(o.page, `hostile-${label.replace(' ', '-')}`);
    // CSP reports blocked inline scripts as console errors: there must be none.
    check(`hostile ${label}: no console errors`, o.problems.length === 0, o.problems.join('; '));
    await o.page.close();
  }
}

async function main() {
  await mkdir(OUT, { recursive: true });
  const data = await mkdtemp(path.join(os.tmpdir(), 'kawat-portal-data-'));
  const profile = await mkdtemp(path.join(os.tmpdir(), 'kawat-portal-profile-'));
  tempDirs.push(data, profile);
  DATA = path.join(data, 'data');
  const port = await freePort();
  BASE = `http://127.0.0.1:${port}`;
  server = spawn(KAWAT, ['serve', '--listen', `127.0.0.1:${port}`, '--data', DATA, '--demo',
    '--access-log', 'off'], { cwd: ROOT, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  server.on('error', (e) => { serverLog += `spawn: ${e.message}\n`; });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitHealthy(BASE, 30_000, server, () => serverLog);
  tokens.issuer = await makeToken('issuer', 'Portal Test Issuer');
  tokens.editor = await makeToken('editor');

  const rels = {};
  for (const lang of Object.keys(LANGS)) {
    rels[lang] = await publish({ headline: LANGS[lang].headline, language: lang, dateline_place: 'Jakarta' });
  }

  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true,
    viewport: { width: 1024, height: 768 },
  });

  for (const lang of Object.keys(LANGS)) {
    try {
      await checkLanguage(lang, rels[lang]);
    } catch (e) {
      check(`${lang}: ran to the end`, false, e.stack || String(e));
    }
  }

  // A phone-sized Arabic page: still right to left, nothing wider than the screen.
  try {
    const o = await open(`${BASE}/ar/releases/${rels.ar.id}`);
    await o.page.setViewportSize({ width: 375, height: 740 });
    const f = await frame(o.page);
    check('ar on a phone: rtl, no horizontal overflow', f.direction === 'rtl' && f.overflow <= 0,
      `direction ${f.direction}, overflow ${f.overflow}px`);
    await shot(o.page, 'release-ar-phone');
    await o.page.close();
  } catch (e) {
    check('ar on a phone: ran to the end', false, e.stack || String(e));
  }

  let live = null;
  for (const lang of ['ar', 'en']) {
    try {
      const o = await checkLive(lang);
      if (lang === 'en') live = o; else await o.page.close();
    } catch (e) {
      check(`live ${lang}: ran to the end`, false, e.stack || String(e));
    }
  }
  try {
    if (live) await checkHostile(live);
    else check('hostile: needs the live English page', false);
  } catch (e) {
    check('hostile: ran to the end', false, e.stack || String(e));
  }
  if (live) await live.page.close();

  await context.close();
  context = null;
  const rc = await stopServer();
  H.checkCleanStop(rc, serverLog);
}

H.cleanup = cleanup;
H.log = () => serverLog;
await H.run(main);
