// Checks that what the OpenAI translation produces is accepted by the official Anthropic SDK:
// every upstream recording in a fixtures directory (*.openai.sse streams, *.openai.json bodies)
// goes through openai_translate_tool, and the output is served to @anthropic-ai/sdk through a stub
// fetch, so the SDK's own SSE parsing and message accumulation (messages.stream().finalMessage())
// or response parsing (messages.create()) run on it. Each result must match <name>.final.json:
// {"content": [...], "stop_reason": "..."} or, for upstream errors, {"error_type": "..."}.
// Streams are also translated in 1- and 7-byte pieces, which must not change a byte.
//
// Usage: node openai_sdk_parse.mjs <openai_translate_tool> <fixtures-dir> [sdk-dir]
// Without @anthropic-ai/sdk importable, it is installed into sdk-dir; exit 77 (skipped) when that
// is impossible. Exit 1 on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [tool, fixtures, sdkDir] = process.argv.slice(2);
if (!tool || !fixtures) {
  console.error('usage: node openai_sdk_parse.mjs <openai_translate_tool> <fixtures-dir> [sdk-dir]');
  process.exit(2);
}

async function loadSdk() {
  try {
    return await import('@anthropic-ai/sdk');
  } catch {
    // not importable from here: use (or fill) sdk-dir
  }
  if (!sdkDir) {
    console.log('openai_sdk_parse: @anthropic-ai/sdk not found and no sdk-dir given: skipped');
    process.exit(77);
  }
  const require = createRequire(path.join(path.resolve(sdkDir), 'package.json'));
  const resolve = () => require.resolve('@anthropic-ai/sdk');
  try {
    return await import(pathToFileURL(resolve()).href);
  } catch {
    mkdirSync(sdkDir, { recursive: true });
    const npm = spawnSync('npm', ['install', '--prefix', sdkDir, '--no-audit', '--no-fund', '--silent',
      '@anthropic-ai/sdk'], { stdio: 'ignore', timeout: 300_000 });
    if (npm.status !== 0) {
      console.log('openai_sdk_parse: cannot install @anthropic-ai/sdk from npm: skipped');
      process.exit(77);
    }
    return await import(pathToFileURL(resolve()).href);
  }
}

const { default: Anthropic, APIError } = await loadSdk();

const statusForType = {
  invalid_request_error: 400, authentication_error: 401, billing_error: 402, permission_error: 403,
  not_found_error: 404, request_too_large: 413, rate_limit_error: 429, api_error: 500,
  timeout_error: 504, overloaded_error: 529,
};

function translate(file, args) {
  const run = spawnSync(tool, args, { input: readFileSync(file), maxBuffer: 64 << 20 });
  if (run.error) throw run.error;
  if (run.status === 2 || run.status === null) {
    throw new Error(`${tool} ${args.join(' ')} failed: ${run.stderr}`);
  }
  return { status: run.status, output: run.stdout };
}

function client(body, status, contentType) {
  return new Anthropic({
    apiKey: 'test-key',
    baseURL: 'http://qcc.invalid',
    maxRetries: 0,
    fetch: async () => new Response(body, { status, headers: { 'content-type': contentType } }),
  });
}

const request = { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] };

// The parts of a final message a fixture pins down.
function summary(message) {
  return { content: message.content, stop_reason: message.stop_reason };
}

function checkShape(message) {
  for (const block of message.content) {
    switch (block.type) {
      case 'text':
        if (typeof block.text !== 'string') throw new Error('text block without text');
        break;
      case 'thinking':
        if (typeof block.thinking !== 'string' || typeof block.signature !== 'string') {
          throw new Error('malformed thinking block');
        }
        break;
      case 'tool_use':
        if (!/^[a-zA-Z0-9_-]+$/.test(block.id)) throw new Error(`tool id ${block.id} breaks the API pattern`);
        if (typeof block.name !== 'string' || !block.name) throw new Error('tool_use without name');
        if (block.input === null || typeof block.input !== 'object' || Array.isArray(block.input)) {
          throw new Error(`tool_use input is not an object: ${JSON.stringify(block.input)}`);
        }
        break;
      default:
        throw new Error(`unexpected block type ${block.type}`);
    }
  }
}

async function runStream(file) {
  // A fixed id: recordings without an upstream id would get a fresh generated one per run.
  const whole = translate(file, ['--id', 'msg_sdk_check', '--chunk', '4096']);
  for (const chunk of ['1', '7']) {
    const split = translate(file, ['--id', 'msg_sdk_check', '--chunk', chunk]);
    if (!split.output.equals(whole.output)) throw new Error(`output differs when fed in ${chunk}-byte pieces`);
  }
  const stream = client(whole.output, 200, 'text/event-stream').messages.stream(request);
  try {
    const message = await stream.finalMessage();
    checkShape(message);
    return summary(message);
  } catch (error) {
    if (error instanceof APIError) return { error_type: error.error?.error?.type ?? error.type };
    throw error;
  }
}

async function runJson(file) {
  const { status, output } = translate(file, ['--json']);
  let httpStatus = 200;
  if (status !== 0) httpStatus = statusForType[JSON.parse(output).error.type] ?? 500;
  try {
    const message = await client(output, httpStatus, 'application/json').messages.create(request);
    checkShape(message);
    return summary(message);
  } catch (error) {
    if (error instanceof APIError) return { error_type: error.error?.error?.type ?? error.type };
    throw error;
  }
}

// Key order of the expectation files does not matter.
function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  }
  return value;
}

const inputs = readdirSync(fixtures).filter((f) => /\.openai\.(sse|json)$/.test(f)).sort();
if (inputs.length === 0) {
  console.error(`openai_sdk_parse: no *.openai.sse / *.openai.json in ${fixtures}`);
  process.exit(1);
}
let failures = 0;
for (const name of inputs) {
  const file = path.join(fixtures, name);
  const base = name.replace(/\.openai\.(sse|json)$/, '');
  try {
    const got = name.endsWith('.sse') ? await runStream(file) : await runJson(file);
    const expectedFile = path.join(fixtures, `${base}.final.json`);
    if (!existsSync(expectedFile)) throw new Error(`missing ${base}.final.json; got ${JSON.stringify(got)}`);
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8'));
    const a = JSON.stringify(canonical(got));
    const b = JSON.stringify(canonical(expected));
    if (a !== b) throw new Error(`final message differs\n  got:      ${a}\n  expected: ${b}`);
    console.log(`ok   ${name}`);
  } catch (error) {
    failures += 1;
    console.log(`FAIL ${name}: ${error.stack ?? error}`);
  }
}
console.log(`openai_sdk_parse: ${inputs.length - failures}/${inputs.length} passed`);
process.exit(failures === 0 ? 0 : 1);
