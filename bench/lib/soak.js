// Soak load: CONCURRENCY clients send Claude-Code-shaped requests through QCC for SECONDS,
// keep-alive like Claude Code, a share of them streaming, with session ids, bodies of 100 B to
// 20 KB, and a few clients hanging up early. Every answer is classified as the client saw it.
// Usage: node soak.js URL KEY SECONDS CONCURRENCY STREAM_PCT
// Prints one JSON object: requests, ok, errors by kind, hang-ups, per-endpoint stream counts.
'use strict';
const http = require('http');
const crypto = require('crypto');

const [url, key, secondsArg, concArg, streamPctArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const concurrency = Number(concArg);
const streamPct = Number(streamPctArg || 70);
const target = new URL('/v1/messages?beta=true', url);
const agent = new http.Agent({keepAlive: true, maxSockets: concurrency});
const sessions = Array.from({length: 200}, () => crypto.randomUUID());
const filler = 'lorem ipsum dolor sit amet consectetur adipiscing elit '.repeat(400);

const result = {
    requests: 0, ok: 0, hangups: 0, errors: {}, stream_endpoints: {}, streams: 0,
    first_error: null, started: Date.now(), finished: 0,
};
const count = (kind, detail) => {
    result.errors[kind] = (result.errors[kind] || 0) + 1;
    if (!result.first_error) result.first_error = `${kind}: ${String(detail).slice(0, 300)}`;
};

function body(stream, session) {
    const size = 100 + Math.floor(Math.random() * 20000);
    return JSON.stringify({
        model: 'claude-sonnet-4-5', max_tokens: 256, stream,
        metadata: {user_id: JSON.stringify({device_id: 'd'.repeat(64), account_uuid: '',
                                            session_id: session})},
        messages: [{role: 'user', content: filler.slice(0, size)}],
    });
}

function once() {
    return new Promise((resolve) => {
        const stream = Math.random() * 100 < streamPct;
        const hangup = Math.random() < 0.03;
        const session = sessions[Math.floor(Math.random() * sessions.length)];
        const data = body(stream, session);
        result.requests++;
        const req = http.request(target, {
            method: 'POST', agent,
            headers: {
                'content-type': 'application/json', 'anthropic-version': '2023-06-01',
                'x-api-key': key, 'x-claude-code-session-id': session,
                'user-agent': 'claude-cli/2.1.332 (external, sdk-cli)',
                'content-length': Buffer.byteLength(data),
                'x-sim-deltas': '20', 'x-sim-gap-ms': '50',
            },
        }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => {
                text += d;
                if (hangup) {
                    result.hangups++;
                    req.destroy();
                    resolve();
                }
            });
            res.on('end', () => {
                if (hangup) return;
                if (res.statusCode !== 200) {
                    count(`http_${res.statusCode}`, text);
                } else if (stream) {
                    result.streams++;
                    const ep = res.headers['x-qcc-endpoint'] || '?';
                    result.stream_endpoints[ep] = (result.stream_endpoints[ep] || 0) + 1;
                    if (text.includes('event: error')) count('sse_error_after_commit', text.slice(-300));
                    else if (!text.includes('event: message_stop')) count('stream_truncated', ep);
                    else result.ok++;
                } else {
                    result.ok++;
                }
                resolve();
            });
            res.on('error', (e) => {
                if (!hangup) count('response_error', e.message);
                resolve();
            });
        });
        req.on('error', (e) => {
            if (!hangup) count('connection_error', e.message);
            resolve();
        });
        req.end(data);
    });
}

async function client(deadline) {
    while (Date.now() < deadline) await once();
}

(async () => {
    const deadline = Date.now() + seconds * 1000;
    await Promise.all(Array.from({length: concurrency}, () => client(deadline)));
    result.finished = Date.now();
    agent.destroy();
    console.log(JSON.stringify(result));
})();
