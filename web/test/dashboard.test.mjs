#!/usr/bin/env node
// Browser tests of the dashboard (plain Node + playwright-core + Debian's chromium).
//
//   QCC_URL=http://127.0.0.1:7860 QCC_ADMIN_TOKEN=… QCC_CLIENT_KEY=sk-qcc-… node test/dashboard.test.mjs
//
// QCC_URL is a running QCC (or the dev server in front of one) serving the dashboard at /ui/.
// QCC_FAILOVER_SCENARIO=1: the harness arranged that the first endpoint fails, so some requests
// fail over; the test then checks that a request's waterfall shows its two attempts.
// Exit code 0 when every scenario passed, 1 otherwise; the last line is "N passed, N failed".
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, TOKEN, CLIENT_KEY, requireEnv, launch, sendMessage, sendTraffic, waitFor, sleep, uuid } from './lib.mjs';

requireEnv();
const FAILOVER = process.env.QCC_FAILOVER_SCENARIO === '1';
const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results');
const RUN = Math.random().toString(36).slice(2, 8);

// Failed HTTP answers the tests provoke on purpose: the browser logs them as console errors
// ("Failed to load resource: … 401"), which is not a fault of the page. Anything else fails.
const EXPECTED_HTTP = [
  { status: 401, url: /\/api\// }, // signed out, wrong token, old cookie, session gone
  { status: 400, url: /\/api\/(endpoints|keys(\/[^/?]+)?|settings\/[^/?]+)(\?|$)/ }, // validation errors
  { status: 429, url: /\/api\/login$/ },
];

const consoleProblems = [];
let current = '';
let passed = 0;
let failed = 0;
let browser;
let ctx;
let page;

function isExpectedNetworkError(msg) {
  const m = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(msg.text());
  if (!m) return false;
  const url = msg.location().url || '';
  return EXPECTED_HTTP.some((e) => e.status === Number(m[1]) && e.url.test(url));
}

async function scenario(name, fn, { critical = false } = {}) {
  current = name;
  const started = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}\n     ${String(e && e.stack ? e.stack : e).split('\n').slice(0, 6).join('\n     ')}`);
    try {
      await mkdir(resultsDir, { recursive: true });
      const file = path.join(resultsDir, `${name.replace(/[^\w]+/g, '-').slice(0, 60)}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`     screenshot: ${file}`);
    } catch {
      // no page to capture
    }
    if (critical) throw new Error(`critical scenario failed: ${name}`);
  }
}

async function goto(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.locator('main .page').first().waitFor();
}

const number = (text) => Number(String(text).replace(/[^\d.]/g, ''));

async function statRequests() {
  return number(await page.locator('#stat-requests .stat-value').textContent());
}

async function apiJson(urlPath) {
  const res = await page.request.get(`${BASE}${urlPath}`);
  assert.equal(res.status(), 200, `GET ${urlPath} -> ${res.status()}`);
  return res.json();
}

async function sessionCookie() {
  const cookies = await ctx.cookies(BASE);
  const c = cookies.find((x) => x.name === 'qcc_session');
  assert.ok(c, 'the qcc_session cookie is set');
  return c;
}

async function main() {
  browser = await launch();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(BASE).origin });
  page = await ctx.newPage();
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    if (isExpectedNetworkError(msg)) return;
    consoleProblems.push(`[${current}] console.${msg.type()}: ${msg.text()} (${msg.location().url || 'no url'})`);
  });
  page.on('pageerror', (err) => consoleProblems.push(`[${current}] uncaught: ${err.message}`));
  page.setDefaultTimeout(15000);

  await scenario('login: a wrong token is refused with the server message', async () => {
    await page.goto(`${BASE}/ui/`);
    await page.locator('#token').fill(`wrong-${RUN}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.locator('#login-msg [role="alert"]');
    await alert.waitFor();
    const text = (await alert.textContent()).trim();
    assert.ok(text.length > 3, `an error message is shown (got "${text}")`);
    assert.equal(await page.locator('nav.nav').count(), 0, 'still on the login form');
  });

  await scenario('login: the admin token opens the dashboard; nothing readable by JS keeps it', async () => {
    const signIn = page.getByRole('button', { name: 'Sign in' });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (await signIn.isDisabled()) {
        // Earlier runs used up the failed-login allowance: wait as the page says, once.
        const text = await page.locator('#login-msg').textContent();
        const wait = /try again in (\d+) s/.exec(text);
        assert.ok(wait && Number(wait[1]) <= 120, `login locked: ${text}`);
        console.log(`     (rate limited by earlier runs: waiting ${wait[1]} s)`);
        await waitFor(() => signIn.isEnabled(), { timeoutMs: (Number(wait[1]) + 5) * 1000, intervalMs: 500, what: 'the lockout to end' });
      }
      await page.locator('#token').fill(TOKEN);
      await signIn.click();
      await page.locator('nav.nav, #login-msg [role="alert"]').first().waitFor();
      if (await page.locator('nav.nav').count()) break;
    }
    await page.locator('nav.nav').waitFor({ timeout: 1000 });
    const leaks = await page.evaluate((t) => ({
      cookie: document.cookie.includes('qcc_session') || document.cookie.includes(t),
      local: JSON.stringify(localStorage).includes(t),
      session: JSON.stringify(sessionStorage).includes(t),
      url: location.href.includes(t),
      dom: document.documentElement.outerHTML.includes(t),
    }), TOKEN);
    assert.deepEqual(leaks, { cookie: false, local: false, session: false, url: false, dom: false });
    const c = await sessionCookie();
    assert.equal(c.httpOnly, true, 'the session cookie is HttpOnly');
  }, { critical: true });

  await scenario('overview: totals update live from /api/events without a reload', async () => {
    await goto('#/overview');
    await page.locator('.live[data-state="live"]').waitFor({ timeout: 10000 });
    await page.locator('#stat-requests .stat-value').waitFor();
    await page.locator('.endpoint-card').first().waitFor();
    await page.evaluate(() => { window.__noReload = true; });
    const before = await statRequests();
    const statuses = await sendTraffic(3, { session: `e2e-${RUN}` });
    assert.ok(statuses.every((s) => s === 200), `requests through QCC succeed (${statuses})`);
    await waitFor(async () => (await statRequests()) >= before + 3, { what: `the request count to grow from ${before} by 3` });
    const liveLine = await page.locator('#live-counter').textContent();
    const seen = Number((/(\d+) requests? since this page opened/.exec(liveLine) || [])[1]);
    assert.ok(seen >= 3, `the live counter counts the requests (${liveLine})`);
    assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
  });

  await scenario('requests: the log lists them and the endpoint filter narrows it', async () => {
    await goto('#/requests');
    const rows = page.locator('table.data tbody tr');
    await rows.first().waitFor();
    const all = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.endpoint));
    assert.ok(all.length >= 3, `at least the 3 requests just sent are listed (${all.length})`);
    const counts = new Map();
    for (const e of all) if (e) counts.set(e, (counts.get(e) || 0) + 1);
    // The least frequent endpoint: filtering on it must drop the others' rows.
    const target = [...counts.entries()].sort((a, b) => a[1] - b[1])[0][0];
    await page.getByLabel('Endpoint', { exact: true }).fill(target);
    await page.getByRole('button', { name: 'Apply' }).click();
    await waitFor(async () => {
      const eps = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.endpoint));
      return eps.length > 0 && eps.every((e) => e === target);
    }, { what: `only ${target} rows` });
    const filtered = await rows.count();
    assert.ok(page.url().includes(`endpoint=${encodeURIComponent(target)}`), 'the filter is in the URL');
    if (counts.size > 1) assert.ok(filtered < all.length || all.length >= 50, `${filtered} rows after filtering, ${all.length} before`);
  });

  await scenario('requests: live rows are prepended, respecting the filters', async () => {
    await goto('#/requests?endpoint=no-such-endpoint-' + RUN);
    await page.locator('.table-outer .empty').waitFor();
    assert.equal(await sendMessage(), 200);
    await sleep(1500);
    assert.equal(await page.locator('table.data tbody tr').count(), 0, 'a filtered-out live row is not shown');
    await goto('#/requests');
    const rows = page.locator('table.data tbody tr');
    await rows.first().waitFor();
    const topBefore = Number(await rows.first().getAttribute('data-id'));
    assert.equal(await sendMessage(), 200);
    await waitFor(async () => Number(await rows.first().getAttribute('data-id')) > topBefore, { what: 'a new row on top' });
    assert.equal(await rows.first().evaluate((tr) => tr.classList.contains('row-new')), true, 'the new row came from the event stream');
  });

  await scenario('requests: a request detail shows its attempts', async () => {
    await goto('#/requests');
    const first = page.locator('table.data tbody tr').first();
    await first.waitFor();
    const attempts = Number(await first.getAttribute('data-attempts'));
    await first.locator('a.row-link').click();
    await page.locator('#rq-attempts').waitFor();
    assert.equal(await page.locator('.waterfall li').count(), attempts, 'one waterfall row per attempt');
    await page.getByRole('heading', { name: 'Request', exact: true }).waitFor();
    await page.getByRole('heading', { name: 'Response', exact: true }).waitFor();
  });

  if (FAILOVER) {
    await scenario('requests: a failed-over request shows two attempts in its waterfall', async () => {
      const row = await waitFor(async () => {
        const res = await apiJson('/api/requests?limit=500');
        const r = res.requests.find((x) => x.attempts >= 2);
        if (!r) await sendTraffic(2);
        return r;
      }, { timeoutMs: 30000, intervalMs: 500, what: 'a request with 2 attempts' });
      await goto(`#/requests/${row.id}`);
      const items = page.locator('.waterfall li');
      await items.first().waitFor();
      assert.equal(await items.count(), row.attempts, `the waterfall shows ${row.attempts} attempts`);
      assert.ok(row.attempts >= 2);
      assert.equal(await page.locator('.waterfall li .wf-bar.wf-fail').count() >= 1, true, 'the failed attempt is marked');
    });
  }

  const epName = `e2e-${RUN}`;
  await scenario('endpoints: add via the form (server validation shown), edit keeps the key, disable', async () => {
    await goto('#/endpoints');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const dlg = page.locator('dialog[open]');
    await dlg.getByLabel('Name').fill(epName);
    await dlg.getByLabel('Base URL').fill('http://127.0.0.1:9');
    await dlg.getByLabel('API key').fill('sk-e2e-0123456789abcdef');
    await dlg.getByLabel('Tier').fill('9'); // last resort: stays out of the test traffic's way
    await dlg.getByLabel('Weight').fill('5000');
    await dlg.getByRole('button', { name: 'Add endpoint' }).click();
    await dlg.locator('.form-msg [role="alert"]').waitFor();
    assert.equal((await dlg.locator('.form-msg [role="alert"]').textContent()).trim(), 'weight: must be between 1 and 1000');
    assert.equal(await dlg.getByLabel('Weight').getAttribute('aria-invalid'), 'true', 'the weight field is marked invalid');
    await dlg.getByLabel('Weight').fill('10');
    await dlg.getByLabel('Tags').fill('e2e, test');
    await dlg.getByRole('button', { name: 'Add endpoint' }).click();
    await dlg.waitFor({ state: 'detached' });
    const row = page.locator(`tr[data-endpoint="${epName}"]`);
    await row.waitFor();
    const stored = await apiJson(`/api/endpoints/${epName}`);
    assert.equal(stored.weight, 10);
    assert.deepEqual(stored.tags, ['e2e', 'test']);

    // Edit: the key field shows the masked value; saving another field keeps the stored key.
    await row.getByRole('button', { name: `Edit ${epName}` }).click();
    const edit = page.locator('dialog[open]');
    assert.equal(await edit.getByLabel('API key').inputValue(), stored.api_key, 'the masked key is shown');
    await edit.getByLabel('Weight').fill('20');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.waitFor({ state: 'detached' });
    const after = await apiJson(`/api/endpoints/${epName}`);
    assert.equal(after.weight, 20);
    assert.equal(after.api_key, stored.api_key, 'the stored key is unchanged');

    await row.getByRole('button', { name: `Disable ${epName}` }).click();
    await page.locator(`tr[data-endpoint="${epName}"][data-enabled="false"]`).waitFor();
    assert.equal((await apiJson(`/api/endpoints/${epName}`)).enabled, false);
  });

  await scenario('endpoints: the detail page quarantines and releases; delete asks first', async () => {
    await goto(`#/endpoints/${epName}`);
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    await page.getByRole('heading', { name: 'Configuration' }).waitFor();
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    await page.getByLabel('Reason (optional)').fill(`e2e ${RUN}`);
    await page.getByRole('button', { name: 'Quarantine', exact: true }).click();
    await page.locator('.endpoint-card .state-bad', { hasText: `Quarantined (e2e ${RUN})` }).waitFor();
    assert.equal((await apiJson(`/api/endpoints/${epName}`)).state.quarantined, true);
    // The timeline shows it once the control loop has stored the event (within ~1 s).
    await waitFor(async () => {
      if (await page.locator('.timeline', { hasText: 'Quarantined' }).count()) return true;
      await page.reload();
      await page.getByRole('heading', { name: 'Timeline' }).waitFor();
      return false;
    }, { timeoutMs: 10000, intervalMs: 1500, what: 'the quarantine in the timeline' });
    await page.getByRole('button', { name: 'Release' }).click();
    await page.getByRole('button', { name: 'Quarantine', exact: true }).waitFor();
    assert.equal((await apiJson(`/api/endpoints/${epName}`)).state.quarantined, false);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await apiJson(`/api/endpoints/${epName}`)).name, epName, 'cancel keeps it');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Delete endpoint' }).click();
    await waitFor(() => page.url().endsWith('#/endpoints'), { what: 'back on the list' });
    await page.locator('table.data tbody tr').first().waitFor();
    assert.equal(await page.locator(`tr[data-endpoint="${epName}"]`).count(), 0, 'the endpoint is gone');
  });

  await scenario('endpoints: a health check shows progress and a score', async () => {
    await goto('#/endpoints');
    const status = await apiJson('/api/status');
    const target = (status.endpoints.find((e) => e.usable && e.enabled) || status.endpoints[0]).name;
    await page.getByRole('button', { name: `Run a health check of ${target}` }).click();
    const slot = page.locator(`[data-check="${target}"]`);
    await slot.locator('.check-progress, .check-result').first().waitFor();
    const score = slot.locator('.check-result .check-score');
    await score.waitFor({ timeout: 40000 });
    assert.match((await score.textContent()).trim(), /^\d+$/, 'a numeric score');
  });

  await scenario('keys: a new key is shown once, copied, works, and is revoked', async () => {
    const name = `e2e-key-${RUN}`;
    await goto('#/keys');
    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Create key' }).click();
    const keyInput = page.locator('#new-key');
    await keyInput.waitFor();
    const key = await keyInput.inputValue();
    assert.match(key, /^sk-qcc-[0-9a-f]{48}$/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await waitFor(async () => (await page.locator('.copy-msg').textContent()).length > 0, { what: 'the copy message' });
    const copied = await page.evaluate(() => navigator.clipboard.readText().catch(() => null));
    if (copied !== null) assert.equal(copied, key, 'the clipboard holds the key');
    assert.equal(await sendMessage({ key }), 200, 'the new key works at once');
    await page.getByRole('button', { name: 'Done, hide it' }).click();
    await page.reload();
    await page.locator(`tr[data-key="${name}"]`).waitFor();
    assert.equal((await page.content()).includes(key), false, 'the key is not shown again');
    await page.getByRole('button', { name: `Revoke ${name}` }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Revoke key' }).click();
    await page.locator(`tr[data-key="${name}"][data-revoked="true"]`).waitFor();
    assert.equal(await sendMessage({ key }), 401, 'a revoked key is refused');
  });

  const limKey = `e2e-lim-${RUN}`;
  await scenario('keys: a key created with limits shows them; an edit changes one and removes another', async () => {
    await goto('#/keys');
    const form = page.getByRole('form', { name: 'Create a client key' });
    await form.getByLabel('Name').fill(limKey);
    await form.getByLabel('Requests per minute').fill('60');
    await form.getByLabel('Tokens per minute').fill('400000');
    await form.getByLabel('USD per day').fill('20');
    await form.getByRole('button', { name: 'Create key' }).click();
    await page.locator('#new-key').waitFor();
    await page.getByRole('button', { name: 'Done, hide it' }).click();
    const row = page.locator(`tr[data-key="${limKey}"]`);
    const limits = row.locator('.key-limits');
    await waitFor(async () => (await limits.textContent()) === '60 req/min · 400k tok/min · $20/day', { what: 'the limits in the row' });
    const today = row.locator('.spend-line[data-period="today"]');
    assert.equal((await today.textContent()).replace(/\s+/g, ' ').trim(), '$0 today 0% of $20/day', 'nothing spent yet, with the daily budget');
    assert.equal(await today.getAttribute('data-level'), 'ok');
    assert.equal((await row.locator('.spend-line[data-period="month"]').textContent()).trim(), '$0 this month', 'no monthly budget: no share');
    const stored = (await apiJson('/api/keys')).keys.find((k) => k.name === limKey);
    assert.deepEqual(stored.limits, { requests_per_minute: 60, tokens_per_minute: 400000, budget_daily_usd: 20 });

    await row.getByRole('button', { name: `Edit limits of ${limKey}` }).click();
    const dlg = page.locator('dialog[open]');
    assert.equal(await dlg.getByLabel('Requests per minute').inputValue(), '60', 'prefilled');
    assert.equal(await dlg.getByLabel('Tokens per minute').inputValue(), '400000');
    assert.equal(await dlg.getByLabel('USD per day').inputValue(), '20');
    assert.equal(await dlg.getByLabel('USD per month').inputValue(), '');
    await dlg.getByLabel('Requests per minute').fill('120');
    await dlg.getByLabel('Tokens per minute').fill('');
    await dlg.getByRole('button', { name: 'Save limits' }).click();
    await dlg.waitFor({ state: 'detached' });
    await waitFor(async () => (await limits.textContent()) === '120 req/min · $20/day', { what: 'the row to show the new limits' });
    const after = (await apiJson('/api/keys')).keys.find((k) => k.name === limKey);
    assert.deepEqual(after.limits, { requests_per_minute: 120, budget_daily_usd: 20 }, 'GET /api/keys agrees');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), `Edit limits of ${limKey}`, 'focus back on the row');
  });

  await scenario('keys: a bad limit shows the server message next to its field (create and edit)', async () => {
    const name = `e2e-bad-${RUN}`;
    await goto('#/keys');
    const form = page.getByRole('form', { name: 'Create a client key' });
    await form.getByLabel('Name').fill(name);
    const rpm = form.getByLabel('Requests per minute');
    await rpm.fill('-5');
    await form.getByRole('button', { name: 'Create key' }).click();
    const errorOf = async (input) => page.locator(`#${await input.getAttribute('id')}-err`); // the field's error slot
    const err = await errorOf(rpm);
    await err.waitFor();
    const shown = (await err.textContent()).trim();
    const direct = await page.request.post(`${BASE}/api/keys`, { data: { name, limits: { requests_per_minute: -5 } }, headers: { origin: new URL(BASE).origin } });
    assert.equal(direct.status(), 400);
    assert.equal(shown, (await direct.json()).error.message, 'the server message, as is');
    assert.ok(shown.startsWith('requests_per_minute:'), shown);
    assert.equal(await rpm.getAttribute('aria-invalid'), 'true', 'the field is marked invalid');
    assert.equal(await page.locator('#new-key').count(), 0, 'no key shown');
    assert.equal((await apiJson('/api/keys')).keys.some((k) => k.name === name), false, 'no key was created');
    await rpm.fill('');
    await form.getByLabel('Name').fill('');

    await page.locator(`tr[data-key="${limKey}"]`).getByRole('button', { name: `Edit limits of ${limKey}` }).click();
    const dlg = page.locator('dialog[open]');
    await dlg.getByLabel('USD per month').fill('lots');
    await dlg.getByRole('button', { name: 'Save limits' }).click();
    const dErr = await errorOf(dlg.getByLabel('USD per month'));
    await dErr.waitFor();
    const dShown = (await dErr.textContent()).trim();
    const dDirect = await page.request.patch(`${BASE}/api/keys/${limKey}`, { data: { limits: { budget_monthly_usd: 'lots' } }, headers: { origin: new URL(BASE).origin } });
    assert.equal(dDirect.status(), 400);
    assert.equal(dShown, (await dDirect.json()).error.message);
    assert.ok(dShown.startsWith('budget_monthly_usd:'), dShown);
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    await dlg.waitFor({ state: 'detached' });
    assert.deepEqual((await apiJson('/api/keys')).keys.find((k) => k.name === limKey).limits, { requests_per_minute: 120, budget_daily_usd: 20 }, 'unchanged');
  });

  await scenario('keys: a tiny daily budget used by one request shows the spend, danger, then warning after an edit', async () => {
    const name = `e2e-budget-${RUN}`;
    const origin = new URL(BASE).origin;
    const res = await page.request.post(`${BASE}/api/keys`, { data: { name, limits: { budget_daily_usd: 0.00001, budget_monthly_usd: 100 } }, headers: { origin } });
    assert.equal(res.status(), 201);
    const { key } = await res.json();
    assert.equal(await sendMessage({ key }), 200, 'the first request passes (nothing spent yet)');
    const usage = await waitFor(async () => {
      const k = (await apiJson('/api/keys')).keys.find((x) => x.name === name);
      return k.usage.spent_today_usd > 0 ? k.usage : null;
    }, { what: 'the request to count against the budget' });
    assert.ok(usage.spent_today_usd > 0.00001, `one request spends more than the budget (${usage.spent_today_usd})`);
    assert.equal(await sendMessage({ key }), 429, 'the next one is refused: the budget is spent');

    const colorOf = (v) => page.evaluate((name) => {
      const probe = document.createElement('span');
      probe.style.color = `var(${name})`;
      document.body.append(probe);
      const c = getComputedStyle(probe).color;
      probe.remove();
      return c;
    }, v);
    await goto('#/keys');
    await page.reload();
    const row = page.locator(`tr[data-key="${name}"]`);
    const today = row.locator('.spend-line[data-period="today"]');
    await today.waitFor();
    assert.equal(await today.getAttribute('data-level'), 'danger');
    assert.match((await today.locator('.spend-amount').textContent()).trim(), /^\$0\.0\d*[1-9]\d* today$/, 'the spend, not $0');
    const pct = (await today.locator('.budget-share').textContent()).trim();
    assert.match(pct, /^[\d,]+% of \$0\.00001\/day$/, pct);
    assert.ok(Number(pct.split('%')[0].replace(/,/g, '')) >= 100, pct);
    assert.equal(await today.locator('.budget-share').evaluate((el) => getComputedStyle(el).color), await colorOf('--bad'), 'in the danger colour');
    const month = row.locator('.spend-line[data-period="month"]');
    assert.equal(await month.getAttribute('data-level'), 'ok', 'the monthly budget is far away');
    assert.match((await month.locator('.budget-share').textContent()).trim(), /^(<1|0)% of \$100\/month$/);
    assert.notEqual(await month.locator('.budget-share').evaluate((el) => getComputedStyle(el).color), await colorOf('--bad'));

    // Raise the daily budget through the dashboard so that the spend is 90 % of it: a warning.
    const budget = Number((usage.spent_today_usd / 0.9).toPrecision(6));
    await row.getByRole('button', { name: `Edit limits of ${name}` }).click();
    const dlg = page.locator('dialog[open]');
    assert.equal(await dlg.getByLabel('USD per day').inputValue(), '0.00001');
    await dlg.getByLabel('USD per day').fill(String(budget));
    await dlg.getByRole('button', { name: 'Save limits' }).click();
    await dlg.waitFor({ state: 'detached' });
    await waitFor(async () => (await today.getAttribute('data-level')) === 'warn', { what: 'the warning level' });
    const share = Number((await today.locator('.budget-share').textContent()).split('%')[0]);
    assert.ok(share >= 80 && share < 100, `between 80 and 100 % (${share})`);
    assert.equal(await today.locator('.budget-share').evaluate((el) => getComputedStyle(el).color), await colorOf('--warn'), 'in the warning colour');
    const stored = (await apiJson('/api/keys')).keys.find((k) => k.name === name);
    assert.deepEqual(stored.limits, { budget_daily_usd: budget, budget_monthly_usd: 100 }, 'GET /api/keys agrees');
  });

  await scenario('settings: every setting is listed; a bad value shows the server message', async () => {
    await goto('#/settings');
    const forms = page.locator('form.setting');
    await forms.first().waitFor();
    const api = await apiJson('/api/settings');
    assert.equal(await forms.count(), api.settings.length, 'one row per setting');
    const key = api.settings.find((s) => s.kind === 'duration')?.key || api.settings[0].key;
    const before = api.settings.find((s) => s.key === key).value;
    const row = page.locator(`form.setting[data-key="${key}"]`);
    await row.locator('input').fill('banana');
    await row.getByRole('button', { name: 'Save' }).click();
    const err = row.locator('.field-error');
    await err.waitFor();
    const shown = (await err.textContent()).trim();
    const direct = await page.request.put(`${BASE}/api/settings/${encodeURIComponent(key)}`, { data: { value: 'banana' }, headers: { origin: new URL(BASE).origin } });
    assert.equal(direct.status(), 400);
    assert.equal(shown, (await direct.json()).error.message, 'the server message, as is');
    assert.ok(shown.startsWith(`${key}:`), shown);
    assert.equal((await apiJson(`/api/settings/${encodeURIComponent(key)}`)).value, before, 'the value is unchanged');
  });

  await scenario('sessions: a Claude Code session is listed with its endpoint', async () => {
    const sid = uuid();
    assert.equal(await sendMessage({ session: sid }), 200);
    await goto('#/sessions');
    await page.locator('table.data, .empty').first().waitFor();
    await waitFor(async () => {
      if (await page.getByText(sid).count()) return true;
      await page.getByRole('button', { name: 'Refresh' }).click();
      return false;
    }, { intervalMs: 1000, what: `session ${sid}` });
  });

  await scenario('narrow window (400 px): no page scrolls sideways', async () => {
    await page.setViewportSize({ width: 400, height: 800 });
    try {
      for (const hash of ['#/overview', '#/requests', '#/endpoints', '#/sessions', '#/keys', '#/settings']) {
        await goto(hash);
        await page.locator('main h1').first().waitFor();
        await sleep(300);
        const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
        assert.ok(sw <= cw + 1, `${hash}: content ${sw} px wide in a ${cw} px window`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  await scenario('a state-changing request from another Origin is refused (403)', async () => {
    const c = await sessionCookie();
    const res = await fetch(`${BASE}/api/keys`, {
      method: 'POST',
      headers: { cookie: `${c.name}=${c.value}`, origin: 'http://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ name: `evil-${RUN}` }),
    });
    await res.arrayBuffer();
    assert.equal(res.status, 403);
    const keys = await apiJson('/api/keys');
    assert.equal(keys.keys.some((k) => k.name === `evil-${RUN}`), false, 'no key was created');
  });

  await scenario('a 401 from the API (session gone) returns to the login form', async () => {
    await goto('#/overview');
    const saved = await ctx.cookies(BASE);
    await ctx.clearCookies();
    await page.evaluate(() => { location.hash = '#/keys'; });
    await page.locator('#token').waitFor();
    assert.match(await page.locator('#login-msg').textContent(), /session has ended/i);
    await ctx.addCookies(saved);
    await page.reload();
    await page.locator('nav.nav').waitFor();
  });

  await scenario('logout returns to the login form and invalidates the cookie', async () => {
    await goto('#/overview');
    const c = await sessionCookie();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.locator('#token').waitFor();
    const res = await page.request.get(`${BASE}/api/status`, { headers: { cookie: `${c.name}=${c.value}` } });
    assert.equal(res.status(), 401, 'the old cookie no longer works');
    await page.reload();
    await page.locator('#token').waitFor();
  });

  await scenario('no console errors or warnings on any page', async () => {
    assert.deepEqual(consoleProblems, []);
  });
}

try {
  await main();
} catch (e) {
  if (!String(e.message).startsWith('critical scenario failed')) {
    failed += 1;
    console.log(`FAIL ${current}: ${e.stack || e}`);
  }
} finally {
  if (browser) await browser.close();
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
