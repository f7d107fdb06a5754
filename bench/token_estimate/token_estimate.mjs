// How far QCC's local count_tokens estimate (used for endpoints of kind "openai", which have no
// counting route) is from real tokenizers, on Claude-Code-shaped requests. Not a test.
//
// Usage: node bench/token_estimate/token_estimate.mjs <openai_translate_tool> [repo-root]
// (`make bench-tokens` builds the tool and runs this.) Installs @anthropic-ai/tokenizer and
// js-tiktoken from npm into bench/token_estimate/node_modules on first use.
//
// Reference count of a request = the tokenizer's count of exactly the content the estimate counts
// (system text, message text, tool_use name + input JSON, tool_result content, tool name +
// description + input_schema JSON), plus the estimate's own structural overheads (4 per message,
// 8 per tool, 3 for the reply), so the figure isolates the text heuristic. Tokenizers:
// - claude:  @anthropic-ai/tokenizer, Anthropic's published tokenizer (of older Claude models;
//            current Claude models do not publish theirs);
// - o200k:   GPT-4o / GPT-5 family (js-tiktoken o200k_base);
// - cl100k:  GPT-4 / GPT-3.5 and many open models' order of magnitude (js-tiktoken cl100k_base).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [tool, rootArg] = process.argv.slice(2);
if (!tool) {
  console.error('usage: node token_estimate.mjs <openai_translate_tool> [repo-root]');
  process.exit(2);
}
const root = rootArg ?? path.resolve(here, '../..');

if (!existsSync(path.join(here, 'node_modules', 'js-tiktoken'))) {
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--silent'], { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('token_estimate: npm install failed');
    process.exit(1);
  }
}
const require = createRequire(path.join(here, 'package.json'));
const { countTokens: claudeCount } = require('@anthropic-ai/tokenizer');
const { getEncoding } = require('js-tiktoken');
const o200k = getEncoding('o200k_base');
const cl100k = getEncoding('cl100k_base');

// ---- what the estimate counts, as texts -------------------------------------------------------
function pieces(req) {
  const out = [];
  let messages = 0;
  let tools = 0;
  const text = (t) => typeof t === 'string' && out.push(t);
  const blocks = (content) => {
    if (typeof content === 'string') return text(content);
    for (const b of content ?? []) {
      if (b.type === 'text') text(b.text);
      else if (b.type === 'tool_use') { text(b.name); text(JSON.stringify(b.input ?? {})); }
      else if (b.type === 'tool_result') blocks(b.content);
    }
  };
  blocks(req.system);
  for (const m of req.messages ?? []) { messages++; blocks(m.content); }
  for (const t of req.tools ?? []) {
    if (t.type && t.type !== 'custom') continue;
    tools++;
    text(t.name);
    text(t.description ?? '');
    text(JSON.stringify(t.input_schema ?? {}));
  }
  return { texts: out, overhead: 4 * messages + 8 * tools + 3 };
}

function reference(req, count) {
  const { texts, overhead } = pieces(req);
  return texts.reduce((a, t) => a + count(t), 0) + overhead;
}

function estimate(body) {
  const r = spawnSync(tool, ['--estimate'], { input: body });
  if (r.status !== 0) throw new Error(`estimate failed: ${r.stderr}`);
  return Number(String(r.stdout).trim());
}

// ---- the requests ---------------------------------------------------------------------------
const cases = [];
const fixtures = path.join(root, 'tests/fixtures/claude-code');
for (const f of readdirSync(fixtures).filter((f) => f.endsWith('.body.json')).sort()) {
  cases.push([`${f.replace('.body.json', '')} (filler prose)`, readFileSync(path.join(fixtures, f), 'utf8')]);
}
// Real text in the places Claude Code puts it: English prose as the system prompt, code in a tool
// result, the first fixture's tool definitions (their JSON schemas are real; descriptions filler).
const tools = JSON.parse(readFileSync(path.join(fixtures, 'cc-2.1.332-request1.body.json'), 'utf8')).tools;
const prose = ['README.md', 'docs/configuration.md', 'docs/operations.md']
  .map((f) => readFileSync(path.join(root, f), 'utf8')).join('\n\n');
const code = readFileSync(path.join(root, 'src/proxy/forwarder.cpp'), 'utf8');
const conversation = {
  model: 'claude-sonnet-4-5', max_tokens: 32000,
  system: [{ type: 'text', text: prose.slice(0, 40000) }],
  tools,
  messages: [
    { role: 'user', content: 'Read src/proxy/forwarder.cpp and explain the attempt loop.' },
    { role: 'assistant', content: [{ type: 'text', text: 'Reading it.' },
      { type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/work/src/proxy/forwarder.cpp' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: code }] },
  ],
};
cases.push(['docs as system + code as tool result + real tool schemas', JSON.stringify(conversation)]);
cases.push(['English prose only', JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: prose }] })]);
cases.push(['C++ code only', JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: code }] })]);
cases.push(['tool definitions only', JSON.stringify({ model: 'm', max_tokens: 1, tools, messages: [{ role: 'user', content: 'hi' }] })]);
const cjk = '这是一个用于测试的中文句子，包含标点符号和一些常见的词语。'.repeat(200);
cases.push(['Chinese prose', JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: cjk }] })]);

// ---- report -----------------------------------------------------------------------------------
const pct = (e, r) => `${e >= r ? '+' : ''}${(((e - r) / r) * 100).toFixed(1)} %`;
console.log('| request | estimate | claude | error | o200k | error | cl100k | error |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const [name, body] of cases) {
  const req = JSON.parse(body);
  const e = estimate(body);
  const c = reference(req, (t) => claudeCount(t));
  const o = reference(req, (t) => o200k.encode(t).length);
  const k = reference(req, (t) => cl100k.encode(t).length);
  console.log(`| ${name} | ${e} | ${c} | ${pct(e, c)} | ${o} | ${pct(e, o)} | ${k} | ${pct(e, k)} |`);
}
