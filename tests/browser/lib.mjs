// lib.mjs -- what the browser and stream tests share: ports, waiting for
// kawat to answer, sleeping.
import net from 'node:net';

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
