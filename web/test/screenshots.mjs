#!/usr/bin/env node
// Saves a 1280×800 screenshot (light theme) of each dashboard page, after sending some traffic.
//
//   QCC_URL=… QCC_ADMIN_TOKEN=… QCC_CLIENT_KEY=… node test/screenshots.mjs
//
// SCREENSHOT_DIR (default ../docs/screenshots, relative to web/) is where the PNGs go.
// SCREENSHOT_SCHEME=dark and SCREENSHOT_WIDTH=400 give the dark theme / a narrow window instead.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, requireEnv, launch, login, sendMessage, sleep, uuid } from './lib.mjs';

requireEnv();
const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(webDir, process.env.SCREENSHOT_DIR || '../docs/screenshots');
const scheme = process.env.SCREENSHOT_SCHEME === 'dark' ? 'dark' : 'light';
const width = Number(process.env.SCREENSHOT_WIDTH || 1280);
const height = Number(process.env.SCREENSHOT_HEIGHT || 800);
const fullPage = process.env.SCREENSHOT_FULL === '1';

await mkdir(outDir, { recursive: true });
const browser = await launch();
const problems = [];
try {
  const ctx = await browser.newContext({ viewport: { width, height }, colorScheme: scheme, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  const shot = async (name) => {
    await sleep(600); // let charts and fetches settle
    const file = path.join(outDir, `${name}.png`);
    await page.screenshot({ path: file, fullPage });
    console.log(file);
  };
  const go = async (hash, waitFor) => {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.locator(waitFor).first().waitFor({ timeout: 15000 });
  };

  await page.goto(`${BASE}/ui/`);
  await page.locator('#token').waitFor();
  await shot('login');
  await login(page);
  await page.locator('nav.nav').waitFor();

  // Some traffic: three sessions, streamed and not.
  const sessions = [uuid(), uuid(), uuid()];
  for (let i = 0; i < 15; i += 1) {
    await sendMessage({ session: sessions[i % 3], stream: i % 2 === 0, text: `Screenshot request ${i + 1}` });
  }

  await go('#/overview', '.endpoint-card');
  await shot('overview');
  await go('#/requests', 'table.data tbody tr');
  await shot('requests');
  const res = await page.request.get(`${BASE}/api/requests?limit=500`);
  const rows = (await res.json()).requests || [];
  const pick = rows.find((r) => r.attempts >= 2) || rows[0];
  if (pick) {
    await go(`#/requests/${pick.id}`, '.waterfall, .empty');
    await shot('request');
  }
  await go('#/endpoints', 'table.data tbody tr');
  await shot('endpoints');
  const first = await page.locator('table.data tbody tr').first().getAttribute('data-endpoint');
  await page.getByRole('button', { name: `Edit ${first}` }).click();
  await page.locator('dialog[open]').waitFor();
  await shot('endpoint-form');
  await page.keyboard.press('Escape');
  await go(`#/endpoints/${encodeURIComponent(first)}`, '.timeline, .empty');
  await shot('endpoint');
  await go('#/sessions', 'table.data, .empty');
  await shot('sessions');
  await go('#/keys', 'table.data');
  await shot('keys');
  await go('#/settings', 'form.setting');
  await shot('settings');
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(`page errors:\n${problems.join('\n')}`);
  process.exit(1);
}
