// Turns bench/out/results.jsonl (one JSON object per measurement, written by run.sh) into the
// markdown results table, with ratios against nginx and PASS/MISS against the targets.
// Usage: node report.js RESULTS_JSONL > results.md
'use strict';
const fs = require('fs');

const rows = fs.readFileSync(process.argv[2], 'utf8')
                 .split('\n')
                 .filter((l) => l.trim())
                 .map((l) => JSON.parse(l));
const meta = Object.assign({}, ...rows.filter((r) => r.phase === 'meta'));
const pick = (phase, target, extra = {}) => rows.filter(
    (r) => r.phase === phase && r.target === target &&
        Object.entries(extra).every(([k, v]) => r[k] === v));
const median = (xs) => {
    const s =
        xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
    if (s.length === 0) return null;
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const byRound = (list) => Object.fromEntries(list.map((r) => [r.round, r]));
const fmt = (x, digits = 0) => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));
const signed = (x, digits = 0) => (x === null ? 'n/a' : (x >= 0 ? '+' : '') + x.toFixed(digits));
const ratio = (a, b) => (a === null || b === null || b <= 0 ? 'n/a' : (a / b).toFixed(2) + 'x');
const verdict = (ok) => (ok === null ? 'n/a' : ok ? 'PASS' : 'MISS');

const warnings = [];
const wrkErrors = (r) => r.err_connect + r.err_read + r.err_write + r.err_status + r.err_timeout;
for (const r of rows) {
    if (r.requests !== undefined && wrkErrors(r) > 0) {
        warnings.push(
            `${r.phase} ${r.target}${r.conc ? ' c=' + r.conc : ''} round ${r.round}: ` +
            `${wrkErrors(r)} errors (connect ${r.err_connect}, read ${r.err_read}, ` +
            `write ${r.err_write}, status ${r.err_status}, timeout ${r.err_timeout})`);
    }
    if (r.phase === 'sse' && r.errors > 0) {
        warnings.push(`sse ${r.target}: ${r.errors} errors (${r.first_error})`);
    }
    if (r.phase === 'hold' && (r.ready < r.count || r.errors > 0)) {
        warnings.push(
            `held streams ${r.target}: only ${r.ready}/${r.count} streams were receiving ` +
            `(${r.errors} errors, ${r.first_error})`);
    }
}

// Added latency of `target` over direct, paired per round (same minute, same machine load), then
// the median over rounds.
function added(phase, target, base, field, extra) {
    const t = byRound(pick(phase, target, extra));
    const d = byRound(pick(phase, base, extra));
    const diffs = Object.keys(t).filter((k) => d[k]).map((k) => t[k][field] - d[k][field]);
    return median(diffs);
}
const med = (phase, target, field, extra) =>
    median(pick(phase, target, extra).map((r) => r[field]));

const table = [];
const row = (...cells) => table.push('| ' + cells.join(' | ') + ' |');

for (const conc of [1, 32]) {
    const x = {conc};
    const dP50 = med('latency', 'direct', 'p50_us', x);
    const nP50 = added('latency', 'nginx', 'direct', 'p50_us', x);
    const qP50 = added('latency', 'qcc', 'direct', 'p50_us', x);
    const p50Target = conc === 1 ? 1.5 : 1.25;
    row(`Added latency p50, 100 KB request, c=${conc} (µs)`, fmt(dP50), signed(nP50), signed(qP50),
        ratio(qP50, nP50), `≤ ${p50Target}x nginx`,
        verdict(qP50 === null || nP50 === null ? null : qP50 <= p50Target * Math.max(nP50, 0)));
    const dP99 = med('latency', 'direct', 'p99_us', x);
    const nP99 = added('latency', 'nginx', 'direct', 'p99_us', x);
    const qP99 = added('latency', 'qcc', 'direct', 'p99_us', x);
    if (conc === 1) {
        row(`Added latency p99, 100 KB request, c=${conc} (µs)`, fmt(dP99), signed(nP99),
            signed(qP99), ratio(qP99, nP99), '≤ 2x nginx',
            verdict(qP99 === null || nP99 === null ? null : qP99 <= 2 * Math.max(nP99, 0)));
    } else {
        row(`Added latency p99, 100 KB request, c=${conc} (µs)`, fmt(dP99), signed(nP99),
            signed(qP99), ratio(qP99, nP99), '—', 'info');
    }
}

const clk = meta.clk_tck || 100;
const cpuPerReq = (target) =>
    median(pick('cpu', target).map((r) => (r.ticks * (1e6 / clk)) / Math.max(1, r.requests)));
const rps = (target) => median(pick('cpu', target).map((r) => r.requests / (r.duration_us / 1e6)));
const nCpu = cpuPerReq('nginx');
const qCpu = cpuPerReq('qcc');
row('Proxy CPU per request, 2 KB request, c=64 (µs)', '—', fmt(nCpu, 1), fmt(qCpu, 1),
    ratio(qCpu, nCpu), '≤ 1.5x nginx',
    verdict(qCpu === null || nCpu === null ? null : qCpu <= 1.5 * nCpu));
const splitPerReq = (target) => {
    const u = median(
        pick('cpu', target).map((r) => (r.user_ticks * (1e6 / clk)) / Math.max(1, r.requests)));
    const k = median(
        pick('cpu', target).map((r) => (r.sys_ticks * (1e6 / clk)) / Math.max(1, r.requests)));
    return u === null || k === null ? 'n/a' : `${u.toFixed(1)} / ${k.toFixed(1)}`;
};
row('… of which user / kernel (µs)', '—', splitPerReq('nginx'), splitPerReq('qcc'), '—', '—',
    'info');
row('Throughput in that run, c=64 (requests/s)', '—', fmt(rps('nginx')), fmt(rps('qcc')),
    ratio(rps('qcc'), rps('nginx')), '—', 'info');

const sse = (t) => pick('sse', t)[0] || null;
const sd = sse('direct');
const sn = sse('nginx');
const sq = sse('qcc');
const sf = (s, f) => (s ? s[f] : null);
const addTtfb = (s) => (s && sd ? s.ttfb_p50_ms - sd.ttfb_p50_ms : null);
row('SSE added time to first event, p50 (ms)', fmt(sf(sd, 'ttfb_p50_ms'), 3),
    signed(addTtfb(sn), 3), signed(addTtfb(sq), 3), ratio(addTtfb(sq), addTtfb(sn)), '—', 'info');
const addTtft = (s) => (s && sd ? s.ttft_p50_ms - sd.ttft_p50_ms : null);
row('SSE added time to first content (first token), p50 (ms)', fmt(sf(sd, 'ttft_p50_ms'), 3),
    signed(addTtft(sn), 3), signed(addTtft(sq), 3), ratio(addTtft(sq), addTtft(sn)), '—', 'info');
const gapDiff = (s) => (s && sd ? s.gap_p99_ms - sd.gap_p99_ms : null);
row('SSE inter-event gap p99 (ms; vs direct)', fmt(sf(sd, 'gap_p99_ms'), 3),
    `${fmt(sf(sn, 'gap_p99_ms'), 3)} (${signed(gapDiff(sn), 3)})`,
    `${fmt(sf(sq, 'gap_p99_ms'), 3)} (${signed(gapDiff(sq), 3)})`, '—', 'within 1 ms of direct',
    verdict(gapDiff(sq) === null ? null : Math.abs(gapDiff(sq)) <= 1));
row('SSE bunched events (gaps < 5 ms)', `${fmt(sf(sd, 'bunched'))} / ${fmt(sf(sd, 'gaps'))}`,
    `${fmt(sf(sn, 'bunched'))} / ${fmt(sf(sn, 'gaps'))}`,
    `${fmt(sf(sq, 'bunched'))} / ${fmt(sf(sq, 'gaps'))}`, '—', '0',
    verdict(sq ? sq.bunched === 0 && sq.errors === 0 : null));
row('SSE inter-event gap p50 / max (ms)',
    `${fmt(sf(sd, 'gap_p50_ms'), 2)} / ${fmt(sf(sd, 'gap_max_ms'), 2)}`,
    `${fmt(sf(sn, 'gap_p50_ms'), 2)} / ${fmt(sf(sn, 'gap_max_ms'), 2)}`,
    `${fmt(sf(sq, 'gap_p50_ms'), 2)} / ${fmt(sf(sq, 'gap_max_ms'), 2)}`, '—', '—', 'info');

const hold = (t) => pick('hold', t)[0] || null;
const hn = hold('nginx');
const hq = hold('qcc');
const holdOk = (h) => h && h.ready === h.count;
row(`Memory per held stream, ${hq ? hq.count : 500} streams (KiB RSS)`, '—',
    fmt(sf(hn, 'per_stream_kb'), 1), fmt(sf(hq, 'per_stream_kb'), 1),
    ratio(sf(hq, 'per_stream_kb'), sf(hn, 'per_stream_kb')), '≤ 1.5x nginx',
    verdict(
        hn && hq ? holdOk(hn) && holdOk(hq) && hq.per_stream_kb <= 1.5 * hn.per_stream_kb : null));
row(`Held streams receiving at once (of ${hq ? hq.count : 'n/a'})`, '—', fmt(sf(hn, 'ready')),
    fmt(sf(hq, 'ready')), '—', 'all', verdict(hq ? holdOk(hq) : null));
row('Idle → held RSS (MiB)', '—',
    hn ? `${fmt(hn.idle_kb / 1024, 1)} → ${fmt(hn.held_kb / 1024, 1)}` : 'n/a',
    hq ? `${fmt(hq.idle_kb / 1024, 1)} → ${fmt(hq.held_kb / 1024, 1)}` : 'n/a', '—', '—', 'info');

function failoverRow(target, label, withTarget) {
    const add = added('failover', target, 'qcc-live', 'p50_us', {});
    const runs = pick('failover', target);
    const counted = runs.reduce((a, r) => a + r.counted, 0);
    const multi = runs.reduce((a, r) => a + r.multi_attempt, 0);
    const share = counted ? (100 * multi) / counted : null;
    row(label, fmt(med('failover', 'qcc-live', 'p50_us', {}) / 1000, 3) + ' (QCC, live only)', '—',
        signed(add === null ? null : add / 1000, 3) +
            ` (${fmt(share, 1)} % of requests failed over)`,
        '—', withTarget ? '≤ 0.3 ms' : '—',
        withTarget ? verdict(add === null || !runs.length ? null : add <= 300) : 'info');
}
failoverRow(
    'qcc-failover',
    'Refused first endpoint, every request fails over: added p50, 2 KB request, c=1 (ms)', true);
failoverRow(
    'qcc-failover-default',
    'Same with default breaker settings (dead endpoint skipped once open) (ms)', false);

const header = [
    '| Figure | direct | nginx | QCC | QCC / nginx | Target | Result |',
    '|---|---:|---:|---:|---:|---|---|',
];
const out = [];
out.push(`# QCC vs nginx: benchmark results (${meta.date || ''})`);
out.push('');
out.push(
    `Machine: ${meta.cpus} cores (${meta.cpu_model}), ${meta.os}, kernel ${meta.kernel}. ` +
    `Load average before/after: ${meta.load_before} / ${meta.load_after}.`);
out.push(
    `QCC tree ${meta.qcc_commit} (release), ${meta.nginx_version}, wrk ${meta.wrk_version}, ` +
    `node ${meta.node_version}. Proxy pinned to CPU ${meta.proxy_cpu}, load generator and ` +
    `upstream to CPU ${meta.load_cpu}` +
    (meta.nice && meta.nice !== '0' ? `, all of them at nice ${meta.nice}` : '') +
    `. wrk runs ${meta.duration_s} s, ${meta.rounds} rounds ` +
    '(figures are medians over rounds; added = proxy − direct in the same round).');
out.push('');
out.push(...header, ...table);
out.push('');
out.push(
    'direct = client straight to the simulated upstream; nginx and QCC columns for latency ' +
    'and TTFB rows are the time added over direct. Targets are from the benchmark issue.');
const sys = rows.filter((r) => r.phase === 'syscalls');
if (sys.length) {
    out.push('');
    out.push('System calls per request (BENCH_PROFILE=1; counted under strace, so not timed):');
    out.push('');
    out.push('| Request | Proxy | Syscalls / request | Main calls / request |');
    out.push('|---|---|---:|---|');
    for (const r of sys) {
        const n = Math.max(1, r.requests);
        const total = Object.values(r.calls).reduce((a, b) => a + b, 0);
        const top = Object.entries(r.calls)
                        .sort((a, b) => b[1] - a[1])
                        .filter(([, c]) => c / n >= 0.5)
                        .map(([name, c]) => `${name} ${(c / n).toFixed(1)}`)
                        .join(', ');
        const what = r.body === 'big' ? '100 KB' : '2 KB';
        out.push(`| ${what}, c=${r.conc} | ${r.target} | ${(total / n).toFixed(1)} | ${top} |`);
    }
}
if (warnings.length) {
    out.push('');
    out.push('**Warnings (figures affected by these are not trustworthy):**');
    for (const w of warnings) out.push(`- ${w}`);
}
console.log(out.join('\n'));
