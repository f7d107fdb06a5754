#!/usr/bin/env node
// Unit tests of the number/time formatting (no browser needed): node test/format.test.mjs
import assert from 'node:assert/strict';
import * as fmt from '../src/format.js';
import { attemptsOf } from '../src/attempts.js';
import { parseModelMap } from '../src/model-map.js';

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

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
