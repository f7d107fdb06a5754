// Held-streams memory probe: reads the proxy's resident memory (sum of VmRSS over PIDS) while idle,
// opens COUNT slow streams through it, waits until every one of them has received at least two
// `data:` events (all are open and relaying at once), samples VmRSS again, then drops them all.
// Usage: node hold.js URL KEY HEADERS_FILE BODY_FILE COUNT DELTAS GAP_MS PID[,PID...]
// Prints one JSON object; "ready" < COUNT means some streams never got going (the figure is then
// not comparable and the caller reports it).
'use strict';
const fs = require('fs');
const http = require('http');

const [url, key, headersFile, bodyFile, countArg, deltas, gapMs, pidsArg] = process.argv.slice(2);
const count = Number(countArg);
const pids = pidsArg.split(',').filter(Boolean);
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
const target = new URL('/v1/messages?beta=true', url);
const agent = new http.Agent({keepAlive: false, maxSockets: Infinity});
const kReadyDeadlineMs = 8000;
const kSettleMs = 300;

function rssKb() {
    let total = 0;
    for (const pid of pids) {
        const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) total += Number(m[1]);
    }
    return total;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
    const idle = [];
    for (let i = 0; i < 3; ++i) {
        idle.push(rssKb());
        await sleep(50);
    }
    let ready = 0;
    let errors = 0;
    let firstError = null;
    const requests = [];
    let allReady;
    const allReadyP = new Promise((r) => {
        allReady = r;
    });
    const fail = (e) => {
        ++errors;
        firstError = firstError || String(e);
    };
    const started = Date.now();
    for (let i = 0; i < count; ++i) {
        const req = http.request(target, {method: 'POST', headers, agent}, (res) => {
            if (res.statusCode !== 200) fail(`status ${res.statusCode}`);
            let seen = 0;
            let counted = false;
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
                seen += (chunk.match(/^data:/gm) || []).length;
                if (!counted && seen >= 2) {
                    counted = true;
                    if (++ready === count) allReady();
                }
            });
            res.on('error', () => {});
        });
        req.on('error', (e) => {
            if (!req.benchDone) fail(e);
        });
        req.end(body);
        requests.push(req);
    }
    await Promise.race([allReadyP, sleep(kReadyDeadlineMs)]);
    const rampMs = Date.now() - started;
    await sleep(kSettleMs);
    const held = [];
    for (let i = 0; i < 3; ++i) {
        held.push(rssKb());
        await sleep(50);
    }
    const stillReady = ready;
    for (const req of requests) {
        req.benchDone = true;
        req.destroy();
    }
    const idleKb = median(idle);
    const heldKb = median(held);
    console.log(JSON.stringify({
        count,
        ready: stillReady,
        ramp_ms: rampMs,
        errors,
        first_error: firstError,
        idle_kb: idleKb,
        held_kb: heldKb,
        per_stream_kb: Math.round(((heldKb - idleKb) / count) * 100) / 100,
    }));
    agent.destroy();
    setTimeout(() => process.exit(0), 100);
}
main();
