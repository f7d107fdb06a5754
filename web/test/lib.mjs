// Shared helpers of the browser tests and the screenshot script.
import { chromium } from 'playwright-core';

export const BASE = (process.env.QCC_URL || 'http://127.0.0.1:7860').replace(/\/+$/, '');
export const TOKEN = process.env.QCC_ADMIN_TOKEN || '';
export const CLIENT_KEY = process.env.QCC_CLIENT_KEY || '';
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function requireEnv() {
  const missing = [];
  if (!process.env.QCC_URL) missing.push('QCC_URL');
  if (!TOKEN) missing.push('QCC_ADMIN_TOKEN');
  if (!CLIENT_KEY) missing.push('QCC_CLIENT_KEY');
  if (missing.length) {
    console.error(`set ${missing.join(', ')} (see web/README.md)`);
    process.exit(2);
  }
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/**
 * Sends one Messages API request through QCC with the client key; resolves with the status.
 * The demo's flaky upstream cuts some answers on purpose ("cuts streams"): a cut answer is
 * retried (it is in the request log all the same), up to 3 tries.
 */
export async function sendMessage({ session, stream = false, model = 'claude-sonnet-4-5', text = 'Hello from the dashboard test', key = CLIENT_KEY } = {}) {
  const headers = {
    'content-type': 'application/json',
    'anthropic-version': '2023-06-01',
    'x-api-key': key,
  };
  if (session) headers['x-claude-code-session-id'] = session;
  let lastError;
  for (let i = 0; i < 3; i += 1) {
    try {
      const res = await fetch(`${BASE}/v1/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model, max_tokens: 64, stream, messages: [{ role: 'user', content: text }] }),
      });
      await res.arrayBuffer();
      return res.status;
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

export async function sendTraffic(n, opts = {}) {
  const statuses = [];
  for (let i = 0; i < n; i += 1) statuses.push(await sendMessage({ ...opts, stream: i % 2 === 1 }));
  return statuses;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls fn until it returns a truthy value (or throws after timeoutMs). */
export async function waitFor(fn, { timeoutMs = 15000, intervalMs = 200, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ''}`);
    await sleep(intervalMs);
  }
}

/** Signs in through the login form. */
export async function login(page, token = TOKEN) {
  await page.goto(`${BASE}/ui/`);
  await page.locator('#token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export function uuid() {
  return crypto.randomUUID();
}
