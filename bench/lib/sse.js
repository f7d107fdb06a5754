// SSE timing client: runs STREAMS streaming requests, CONCURRENCY at a time, and measures, as the
// client receives them, the time to the first `data:` event, the time to the first content (the
// first content_block_delta: the first token, what a user waits for) and the gaps between
// successive `data:` events from the first content on (a buffering proxy delivers several events
// in one read: gap ~0).
// Usage: node sse.js URL KEY HEADERS_FILE BODY_FILE STREAMS CONCURRENCY DELTAS GAP_MS
// Prints one JSON object.
'use strict';
const fs = require('fs');
const http = require('http');

const [url, key, headersFile, bodyFile, streamsArg, concArg, deltas, gapMs] = process.argv.slice(2);
const streams = Number(streamsArg);
const concurrency = Number(concArg);
const body = fs.readFileSync(bodyFile);
const headers = {};
for (const line of fs.readFileSync(headersFile, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
}
Object.assign(headers, {
    'x-api-key': key,
    'content-length': body.length,
    'x-sim-deltas': deltas,
    'x-sim-gap-ms': gapMs,
});
const agent = new http.Agent({keepAlive: true, maxSockets: concurrency});
const target = new URL('/v1/messages?beta=true', url);
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

const ttfb = [];
const ttft = [];
const gaps = [];
const worst = [];  // the longest gaps with where they happened, to tell a stall from noise
let runStart = 0;
let streamSeq = 0;
const errors = [];
let events = 0;

function oneStream(measure = true, extraHeaders = {}) {
    return new Promise((resolve) => {
        const start = nowMs();
        const id = measure ? ++streamSeq : 0;
        let index = 0;
        let last = null;
        let content = false;
        let pending = '';
        const opts = {method: 'POST', headers: {...headers, ...extraHeaders}, agent};
        const req = http.request(target, opts, (res) => {
            if (measure && res.statusCode !== 200) errors.push(`status ${res.statusCode}`);
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
                const t = nowMs();
                pending += chunk;
                // Every complete event ("...\n\n") with a data: line counts, stamped with the
                // arrival time of the read that completed it.
                let end;
                while ((end = pending.indexOf('\n\n')) >= 0) {
                    const ev = pending.slice(0, end);
                    pending = pending.slice(end + 2);
                    if (!measure || !/^data:/m.test(ev)) continue;
                    ++events;
                    let first = false;
                    if (!content && ev.includes('content_block_delta')) {
                        content = true;
                        first = true;
                        ttft.push(t - start);
                    }
                    if (last === null) {
                        ttfb.push(t - start);
                    } else if (content && !first) {
                        // Gaps are measured from the first content on: the events before it
                        // (message_start, content_block_start, ping) carry nothing a user sees,
                        // and QCC deliberately holds them until the first delta.
                        gaps.push(t - last);
                        worst.push(
                            {gap_ms: t - last, stream: id, event: index, at_ms: t - runStart});
                        worst.sort((a, b) => b.gap_ms - a.gap_ms);
                        if (worst.length > 5) worst.pop();
                    }
                    ++index;
                    last = t;
                }
            });
            res.on('end', resolve);
            res.on('error', (e) => {
                errors.push(String(e));
                resolve();
            });
        });
        req.on('error', (e) => {
            errors.push(String(e));
            resolve();
        });
        req.end(body);
    });
}

function pct(sorted, p) {
    if (sorted.length === 0) return null;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[i];
}

async function main() {
    // Warm-up, not measured: opens the keep-alive connections (through the proxy and behind it)
    // and gets the JIT going, so the first measured streams do not pay for it.
    await Promise.all(Array.from(
        {length: concurrency}, () => oneStream(false, {'x-sim-deltas': '2', 'x-sim-gap-ms': '1'})));
    runStart = nowMs();
    let next = 0;
    const worker = async () => {
        while (next < streams) {
            ++next;
            await oneStream();
        }
    };
    await Promise.all(Array.from({length: concurrency}, worker));
    agent.destroy();
    const g = gaps.slice().sort((a, b) => a - b);
    const f = ttfb.slice().sort((a, b) => a - b);
    const c = ttft.slice().sort((a, b) => a - b);
    const r3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
    console.log(JSON.stringify({
        streams,
        events,
        errors: errors.length,
        first_error: errors[0] || null,
        ttfb_p50_ms: r3(pct(f, 50)),
        ttfb_p99_ms: r3(pct(f, 99)),
        ttft_p50_ms: r3(pct(c, 50)),
        ttft_p99_ms: r3(pct(c, 99)),
        gaps: g.length,
        gap_p50_ms: r3(pct(g, 50)),
        gap_p99_ms: r3(pct(g, 99)),
        gap_max_ms: r3(g.length ? g[g.length - 1] : null),
        gap_min_ms: r3(g.length ? g[0] : null),
        bunched: g.filter((x) => x < 5).length,
        worst: worst.map((w) => ({
                             gap_ms: r3(w.gap_ms),
                             stream: w.stream,
                             event: w.event,
                             at_ms: Math.round(w.at_ms)
                         })),
    }));
}
main();
