// lib.mjs -- what the browser and stream tests share: ports, waiting for
// kawat to answer, sleeping, the server's environment, tokens and API calls.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits until GET base/healthz answers 200; throws with the server's log if
// the process exits or ms pass first. log() returns the log so far.
export async function waitHealthy(base, ms, proc, log) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`kawat exited ${proc.exitCode}:\n${log()}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  throw new Error(`kawat did not answer /healthz within ${ms} ms:\n${log()}`);
}

export const SANITIZER_MARKS = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'];

// SIGTERM and wait; returns the exit code (null if it had to be killed
// after 20 s, 0 if there was no process).
export async function stopProcess(proc) {
  if (!proc) return 0;
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
  const exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(20_000).then(() => 'timeout')]);
  if (code === 'timeout') {
    proc.kill('SIGKILL');
    await exited;
    return null;
  }
  return code;
}

// A test run: one line per check, "N passed, M failed" last, a non-zero
// exit on failure, cleanup once whichever comes first (the end of main or
// the global timeout). Set h.cleanup (returns nothing) and h.log (the
// server's output so far) before h.run(main).
export function harness(timeoutMs) {
  const h = { passed: 0, failed: 0, finishing: false, cleanup: async () => {}, log: () => '' };
  h.check = (name, ok, detail = '') => {
    if (h.finishing) return; // timed out: the summary is already being written
    if (ok) {
      h.passed++;
      console.log(`ok - ${name}`);
    } else {
      h.failed++;
      console.log(`not ok - ${name}${detail ? `: ${detail}` : ''}`);
    }
  };
  // The check every run ends with: exit 0 and no sanitizer report.
  h.checkCleanStop = (rc, log) => {
    const marks = SANITIZER_MARKS.filter((m) => log.includes(m));
    h.check('server stops cleanly on SIGTERM', rc === 0 && marks.length === 0,
      `exit ${rc}${marks.length ? `, ${marks.join(', ')}:\n${log.slice(-4000)}` : ''}`);
  };
  const finish = async () => {
    if (h.finishing) return;
    h.finishing = true;
    await h.cleanup();
    console.log(`${h.passed} passed, ${h.failed} failed`);
    process.exit(h.failed ? 1 : 0);
  };
  h.run = async (main) => {
    setTimeout(() => {
      if (h.finishing) return;
      h.failed++;
      console.log(`not ok - global timeout: the test took more than ${timeoutMs / 1000} s`);
      finish();
    }, timeoutMs);
    try {
      await main();
    } catch (e) {
      if (!h.finishing) {
        h.failed++;
        console.log(`not ok - ${e.stack || e}`);
        const log = h.log();
        if (log) console.log(`server output:\n${log.slice(-4000)}`);
      }
    }
    await finish();
  };
  return h;
}

// The environment kawat runs with in tests: no KAWAT_* setting leaks in
// from the caller's shell; sanitizers report leaks and stacks.
export function serverEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('KAWAT_')) delete env[k];
  env.ASAN_OPTIONS ??= 'detect_leaks=1';
  env.UBSAN_OPTIONS ??= 'print_stacktrace=1';
  return env;
}

// A new API token from `kawat token create` on the data folder.
export async function makeToken(kawat, cwd, data, role, name) {
  const args = ['token', 'create', '--data', data, '--role', role];
  if (name) args.push('--name', name);
  const { stdout } = await promisify(execFile)(kawat, args, { cwd, env: serverEnv() });
  return stdout.trim();
}

// One API call: {status, json (null if the answer is not JSON), text}.
export async function apiCall(base, method, p, body, token) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + p, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}
