// Builds the benchmark's request bodies and headers from a real Claude Code capture.
// Usage: node bodies.js FIXTURE_DIR OUT_DIR
// Writes OUT_DIR/big.json (100 KiB non-streaming Claude Code request), small.json (2 KiB,
// non-streaming), stream.json (2 KiB, "stream": true), headers.txt (one "name: value" a line, the
// capture's headers minus credentials and framing), and nosession.json / headers-nosession.txt
// (the same small request without any session key).
'use strict';
const fs = require('fs');
const path = require('path');

const [fixtureDir, outDir] = process.argv.slice(2);
if (!fixtureDir || !outDir) {
    console.error('usage: node bodies.js FIXTURE_DIR OUT_DIR');
    process.exit(2);
}
const kBigBytes = 100 * 1024;
const kSmallBytes = 2 * 1024;

// Pads `obj` to exactly `target` bytes of JSON by filling the string that `setFiller` stores.
function padTo(obj, target, setFiller) {
    setFiller(obj, '');
    const base = Buffer.byteLength(JSON.stringify(obj));
    if (base > target) throw new Error(`body is already ${base} bytes (> ${target})`);
    const sentence = 'Filler that stands in for earlier conversation turns. ';
    let filler = sentence.repeat(Math.ceil((target - base) / sentence.length));
    filler = filler.slice(0, target - base);
    setFiller(obj, filler);
    const text = JSON.stringify(obj);
    if (Buffer.byteLength(text) !== target) throw new Error('padding miscounted');
    JSON.parse(text);  // still valid JSON
    return text;
}

const fixture = path.join(fixtureDir, 'cc-2.1.197-request1');
const big = JSON.parse(fs.readFileSync(fixture + '.body.json', 'utf8'));
big.stream = false;
// One more system text block: Claude Code bodies grow by context, and a proxy treats every byte
// alike, so where the padding sits does not matter as long as the JSON stays valid.
big.system.push({type: 'text', text: ''});
const bigOut = padTo(big, kBigBytes, (o, s) => {
    o.system[o.system.length - 1].text = s;
});

function smallBody(stream, withSession = true) {
    const o = {model: big.model, max_tokens: 1024, stream};
    if (withSession) o.metadata = big.metadata;
    o.messages = [{role: 'user', content: ''}];
    return padTo(o, kSmallBytes, (x, s) => {
        x.messages[0].content = s;
    });
}

// Headers as Claude Code sends them, without the ones each client sets itself.
const skip = new Set(
    ['x-api-key', 'authorization', 'content-length', 'connection', 'accept-encoding', 'host']);
const headerLines = fs.readFileSync(fixture + '.headers.txt', 'utf8')
                        .split('\n')
                        .slice(1)  // request line
                        .filter((l) => l.includes(':'))
                        .filter((l) => !skip.has(l.slice(0, l.indexOf(':')).trim().toLowerCase()));

fs.mkdirSync(outDir, {recursive: true});
fs.writeFileSync(path.join(outDir, 'big.json'), bigOut);
fs.writeFileSync(path.join(outDir, 'small.json'), smallBody(false));
fs.writeFileSync(path.join(outDir, 'stream.json'), smallBody(true));
fs.writeFileSync(path.join(outDir, 'headers.txt'), headerLines.join('\n') + '\n');
// Without a session key (header or metadata.user_id) QCC has no affinity to follow, so every
// request walks the tiers in order: what the failover figure needs to measure.
fs.writeFileSync(path.join(outDir, 'nosession.json'), smallBody(false, false));
fs.writeFileSync(
    path.join(outDir, 'headers-nosession.txt'),
    headerLines.filter((l) => !/^x-claude-code-session-id:/i.test(l)).join('\n') + '\n');
