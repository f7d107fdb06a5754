#!/usr/bin/env node
// Unit tests of the formatting and form helpers (no browser needed): node test/format.test.mjs
import assert from 'node:assert/strict';
import * as fmt from '../src/format.js';
import { attemptsOf } from '../src/attempts.js';
import { parseModelMap } from '../src/model-map.js';
import * as kl from '../src/key-limits.js';

let passed = 0;
let failed = 0;
function test(name, fn) {
  try {
    fn();
    passed += 1;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}\n     ${e.message.split('\n').join('\n     ')}`);
  }
}

test('cost keeps significant digits and never shows $0.0000 for a real cost', () => {
  assert.equal(fmt.cost(0.00004), '$0.00004');
  assert.equal(fmt.cost(0.0123), '$0.0123');
  assert.equal(fmt.cost(0.000129), '$0.000129');
  assert.equal(fmt.cost(0.0001234567), '$0.000123');
  assert.equal(fmt.cost(0.00000012345), '$0.000000123');
  assert.equal(fmt.cost(0.5), '$0.50');
  assert.equal(fmt.cost(0.05), '$0.05');
  assert.equal(fmt.cost(0.999999), '$1.00');
  assert.equal(fmt.cost(1.5), '$1.50');
  assert.equal(fmt.cost(1234.567), '$1,234.57');
  assert.equal(fmt.cost(0), '$0');
  assert.equal(fmt.cost(null), '—');
  assert.equal(fmt.cost(undefined), '—');
});

test('durations: ms below 1 s, else seconds with 1-2 decimals', () => {
  assert.equal(fmt.ms(0), '0 ms');
  assert.equal(fmt.ms(3.25), '3.3 ms');
  assert.equal(fmt.ms(850), '850 ms');
  assert.equal(fmt.ms(999.6), '1,000 ms');
  assert.equal(fmt.ms(1234), '1.23 s');
  assert.equal(fmt.ms(12345), '12.3 s');
  assert.equal(fmt.ms(125000), '2 min 5 s');
  assert.equal(fmt.ms(-1), '—', '-1 = nothing sent');
  assert.equal(fmt.ms(null), '—');
});

test('tokens: 1.2k / 3.4M', () => {
  assert.equal(fmt.tokens(950), '950');
  assert.equal(fmt.tokens(1000), '1.0k');
  assert.equal(fmt.tokens(1234), '1.2k');
  assert.equal(fmt.tokens(34567), '34.6k');
  assert.equal(fmt.tokens(345678), '346k');
  assert.equal(fmt.tokens(3400000), '3.4M');
  assert.equal(fmt.tokens(2.5e9), '2.5B');
  assert.equal(fmt.tokens(undefined), '—');
});

test('counts, ratios, rates, bytes', () => {
  assert.equal(fmt.count(1234567), '1,234,567');
  assert.equal(fmt.pct(1), '100%');
  assert.equal(fmt.pct(0.9876), '98.8%');
  assert.equal(fmt.pct(0.99999), '99.99%');
  assert.equal(fmt.pct(0.9996), '99.96%');
  assert.equal(fmt.pct(0.00001), '<0.01%');
  assert.equal(fmt.pct(0), '0%');
  assert.equal(fmt.rate(3.2), '3.2/s');
  assert.equal(fmt.rate(0.5), '30/min');
  assert.equal(fmt.rate(0.01), '0.6/min');
  assert.equal(fmt.bytes(512), '512 B');
  assert.equal(fmt.bytes(2048), '2 KiB');
  assert.equal(fmt.bytes(1536), '1.5 KiB');
});

test('countdowns and relative times', () => {
  assert.equal(fmt.countdown(42000), '42 s');
  assert.equal(fmt.countdown(41001), '42 s');
  assert.equal(fmt.countdown(65000), '1:05');
  assert.equal(fmt.countdown(3723000), '1:02:03');
  assert.equal(fmt.countdown(-5), '0 s');
  assert.equal(fmt.duration(3 * 3600e3 + 5 * 60e3), '3 h 5 min');
  assert.equal(fmt.duration(3 * 86400e3 + 4 * 3600e3), '3 d 4 h');
  assert.equal(fmt.ago(1000, 13000), '12 s ago');
  assert.equal(fmt.ago(0.5e3, 177e3), '2 min ago');
  assert.equal(fmt.ago(1e3, 1e3 + 3 * 3600e3 + 5e3), '3 h ago');
  assert.equal(fmt.ago(0), '—');
});

test('attempts: attempts_detail when present, else parsed from tried', () => {
  const exact = attemptsOf({ attempts_detail: [{ endpoint: 'a', status: 529, error_class: 'overloaded', duration_ms: 30 }, { endpoint: 'b', status: 200, error_class: '', duration_ms: 40 }] });
  assert.equal(exact.exact, true);
  assert.equal(exact.list.length, 2);
  const parsed = attemptsOf({ tried: 'a:overloaded,b', status: 200, error_class: '' });
  assert.equal(parsed.exact, false);
  assert.deepEqual(parsed.list, [{ endpoint: 'a', error_class: 'overloaded' }, { endpoint: 'b', status: 200, error_class: '' }]);
  assert.deepEqual(attemptsOf({ tried: '' }).list, []);
});

test('model map: key=value lines or a JSON object', () => {
  assert.deepEqual(parseModelMap(''), {});
  assert.deepEqual(parseModelMap('a=b\n# comment\n\n c = d '), { a: 'b', c: 'd' });
  assert.deepEqual(parseModelMap('{"a":"b"}'), { a: 'b' });
  assert.throws(() => parseModelMap('oops'), /model_map: line 1/);
  assert.throws(() => parseModelMap('{bad'), /model_map: not valid JSON/);
});

test('key limits: one line in the table, "—" when none', () => {
  assert.equal(kl.limitsText({ requests_per_minute: 60, tokens_per_minute: 400000, budget_daily_usd: 20, budget_monthly_usd: 300 }),
    '60 req/min · 400k tok/min · $20/day · $300/month');
  assert.equal(kl.limitsText({ budget_monthly_usd: 12.5, requests_per_minute: 1200 }), '1,200 req/min · $12.50/month', 'in the fixed order');
  assert.equal(kl.limitsText({ budget_daily_usd: 1e-5 }), '$0.00001/day');
  assert.equal(kl.limitsText({ tokens_per_minute: 1500 }), '1.5k tok/min');
  assert.equal(kl.limitsText({}), '—');
  assert.equal(kl.limitsText(null), '—');
  assert.equal(kl.limitsText({ requests_per_minute: 0, budget_daily_usd: null }), '—', '0 and null are no limit');
  assert.equal(kl.limitsTitle({ tokens_per_minute: 400000, budget_daily_usd: 20 }), '400,000 tokens per minute, $20 per day');
  assert.equal(kl.limitsTitle({}), 'No limits');
  assert.equal(kl.limitsText({ requests_per_minute: 5, tiers: [1, 2], endpoints: ['relay-a'] }), '5 req/min · tiers 1, 2 · endpoints relay-a',
    'where the key may send requests is shown too');
  assert.equal(kl.limitsText({ tiers: [] }), '—');
  assert.equal(kl.limitsTitle({ endpoints: ['relay-a', 'relay-b'] }), 'only endpoints relay-a, relay-b');
});

test('key limits: budget share, level and percent', () => {
  assert.equal(kl.budgetShare(5, 20), 0.25);
  assert.equal(kl.budgetShare(5, 0), null, 'no budget');
  assert.equal(kl.budgetShare(5, undefined), null);
  assert.equal(kl.budgetShare(null, 20), 0, 'nothing spent yet');
  assert.equal(kl.budgetLevel(null), '');
  assert.equal(kl.budgetLevel(0.79), 'ok');
  assert.equal(kl.budgetLevel(0.8), 'warn');
  assert.equal(kl.budgetLevel(0.999), 'warn');
  assert.equal(kl.budgetLevel(1), 'danger');
  assert.equal(kl.budgetLevel(1.29), 'danger');
  assert.equal(kl.shareText(0.62), '62%');
  assert.equal(kl.shareText(0.29), '29%', 'no float noise (0.29 * 100 = 28.999…)');
  assert.equal(kl.shareText(0.999), '99%', 'rounded down: 100% only once spent');
  assert.equal(kl.shareText(1), '100%');
  assert.equal(kl.shareText(12.9), '1,290%');
  assert.equal(kl.shareText(0.001), '<1%');
  assert.equal(kl.shareText(0), '0%');
  assert.equal(kl.shareText(null), '—');
});

test('key spend: one entry per period with the budget share; null for a revoked key', () => {
  const usage = { requests_this_minute: 1, tokens_this_minute: 27, spent_today_usd: 1.23, spent_this_month_usd: 12.4 };
  assert.equal(kl.spendText(usage), '$1.23 today · $12.40 this month');
  assert.equal(kl.spendText(null), '—');
  assert.equal(kl.spendLines(null, {}), null);
  const [day, month] = kl.spendLines(usage, { budget_daily_usd: 1.5, budget_monthly_usd: 12.4 });
  assert.deepEqual(day, { period: 'today', spent: 1.23, text: '$1.23 today', budget: 1.5, budgetText: '$1.50/day', share: 0.82, level: 'warn' });
  assert.equal(month.text, '$12.40 this month');
  assert.equal(month.level, 'danger');
  assert.equal(kl.worstLevel([day, month]), 'danger');
  const plain = kl.spendLines({ spent_today_usd: 0, spent_this_month_usd: 0.000129 }, { requests_per_minute: 5 });
  assert.deepEqual(plain.map((x) => [x.text, x.budget, x.share, x.level]), [['$0 today', null, null, ''], ['$0.000129 this month', null, null, '']]);
  assert.equal(kl.worstLevel(plain), '');
});

test('key limits form: blank fields are left out of a new key, numbers sent as numbers', () => {
  assert.equal(kl.createLimits({ requests_per_minute: '', tokens_per_minute: ' ', budget_daily_usd: '', budget_monthly_usd: '' }), null);
  assert.deepEqual(kl.createLimits({ requests_per_minute: '60', tokens_per_minute: '', budget_daily_usd: '$20', budget_monthly_usd: '0.5' }),
    { requests_per_minute: 60, budget_daily_usd: 20, budget_monthly_usd: 0.5 });
  assert.deepEqual(kl.createLimits({ requests_per_minute: '-5', tokens_per_minute: 'lots' }), { requests_per_minute: -5, tokens_per_minute: 'lots' },
    'bad values go to the server as typed, which names the problem');
  assert.equal(kl.parseLimit(kl.LIMIT_FIELDS[0], '$5'), '$5', 'a dollar sign only on budgets');
  assert.equal(kl.parseLimit(kl.LIMIT_FIELDS[2], '1e-5'), 0.00001);
  assert.equal(kl.inputValue(1e-5), '0.00001');
  assert.equal(kl.inputValue(400000), '400000');
  assert.equal(kl.inputValue(0), '');
  assert.equal(kl.inputValue(undefined), '');
});

test('key limits form: an edit sends only the changes, a blank field as 0 (removed)', () => {
  const current = { requests_per_minute: 60, tokens_per_minute: 400000, budget_daily_usd: 20 };
  const same = { requests_per_minute: '60', tokens_per_minute: '400000', budget_daily_usd: '20', budget_monthly_usd: '' };
  assert.deepEqual(kl.patchLimits(same, current), {});
  assert.deepEqual(kl.patchLimits({ ...same, requests_per_minute: '120', tokens_per_minute: '' }, current),
    { requests_per_minute: 120, tokens_per_minute: 0 });
  assert.deepEqual(kl.patchLimits({ ...same, budget_monthly_usd: '300' }, current), { budget_monthly_usd: 300 });
  assert.deepEqual(kl.patchLimits({ ...same, budget_monthly_usd: '0' }, current), {}, '0 on an unset limit changes nothing');
  assert.deepEqual(kl.patchLimits({ ...same, budget_daily_usd: '-1' }, current), { budget_daily_usd: -1 });
  assert.deepEqual(kl.patchLimits({ requests_per_minute: '5' }, {}), { requests_per_minute: 5 });
  assert.equal(kl.fieldOfMessage('budget_daily_usd: must be between 0 and 1000000000000'), 'budget_daily_usd');
  assert.equal(kl.fieldOfMessage("a client key named 'x' exists (revoke it first)"), null);
});

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
