#!/usr/bin/env node
// Dashboard dev server (plain Node, no dependencies).
//
//   QCC_URL=http://127.0.0.1:7860 QCC_ADMIN_TOKEN=… PORT=0 node dev/server.mjs [--watch]
//
// Serves web/dist at /ui/ with the production security headers (CSP), implements the session
// routes itself (POST /api/login, POST /api/logout, GET /api/session: an in-memory session behind
// an HttpOnly cookie, the token checked against QCC_ADMIN_TOKEN), and proxies every other /api/*
// route (the SSE stream /api/events included, unbuffered) and /metrics to QCC_URL with
// `Authorization: Bearer $QCC_ADMIN_TOKEN`. /v1/* is passed through untouched (the client's own
// key), so tests can use one base URL. --watch also rebuilds on every source change.
import http from 'node:http';
import https from 'node:https';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distDir = path.join(webDir, 'dist');
const QCC_URL = new URL(process.env.QCC_URL || 'http://127.0.0.1:7860');
const TOKEN = process.env.QCC_ADMIN_TOKEN || '';
const HOST = process.env.HOST || '127.0.0.1';
const PORT = Number(process.env.PORT ?? 7861);
const SESSION_MS = Number(process.env.SESSION_TTL_MS || 12 * 3600e3);
const COOKIE = 'qcc_session';
const MAX_FAILURES = 10; // failed logins per client per minute before 429
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

if (!TOKEN) {
  console.error('dev server: set QCC_ADMIN_TOKEN (the admin token of the QCC at QCC_URL)');
  process.exit(2);
}

const sessions = new Map(); // sha256(cookie) -> expires_at
const failures = new Map(); // client ip -> {count, resetAt}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

function sendJson(res, status, body, headers = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

function sendError(res, status, type, message, headers) {
  sendJson(res, status, { type: 'error', error: { type, message } }, headers);
}

function hashId(v) {
  return createHash('sha256').update(v).digest('hex');
}

function cookieOf(req) {
  const header = req.headers.cookie || '';
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === COOKIE) return part.slice(i + 1).trim();
  }
  return null;
}

function sessionOf(req) {
  const c = cookieOf(req);
  if (!c) return null;
  const id = hashId(c);
  const exp = sessions.get(id);
  if (!exp) return null;
  if (exp <= Date.now()) {
    sessions.delete(id);
    return null;
  }
  return { id, expires_at: exp };
}

// A state-changing request (and the event stream) must come from this page's origin.
function originOk(req) {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin) return req.method === 'GET' || req.method === 'HEAD';
  return !!host && (origin === `http://${host}` || origin === `https://${host}`);
}

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > limit) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function tokenMatches(given) {
  const a = createHash('sha256').update(String(given)).digest();
  const b = createHash('sha256').update(TOKEN).digest();
  return timingSafeEqual(a, b);
}

async function login(req, res) {
  const ip = req.socket.remoteAddress || '';
  const now = Date.now();
  let f = failures.get(ip);
  if (f && f.resetAt <= now) {
    failures.delete(ip);
    f = null;
  }
  if (f && f.count >= MAX_FAILURES) {
    const wait = Math.ceil((f.resetAt - now) / 1000);
    return sendError(res, 429, 'rate_limit_error', `too many failed logins; try again in ${wait} s`, { 'retry-after': String(wait) });
  }
  let token = '';
  try {
    const body = JSON.parse((await readBody(req)) || '{}');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    for (const k of Object.keys(body)) {
      if (k !== 'token') return sendError(res, 400, 'invalid_request_error', `unknown field '${k}' (allowed: token)`);
    }
    if (typeof body.token !== 'string') return sendError(res, 400, 'invalid_request_error', 'token: expected a string');
    token = body.token;
  } catch {
    return sendError(res, 400, 'invalid_request_error', 'body: expected a JSON object');
  }
  if (!tokenMatches(token)) {
    f = f || { count: 0, resetAt: now + 60e3 };
    f.count += 1;
    failures.set(ip, f);
    return sendError(res, 401, 'authentication_error', 'invalid admin token');
  }
  failures.delete(ip);
  const cookie = randomBytes(32).toString('hex');
  const expires = now + SESSION_MS;
  sessions.set(hashId(cookie), expires);
  sendJson(res, 200, { expires_at: expires }, {
    'set-cookie': `${COOKIE}=${cookie}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(SESSION_MS / 1000)}`,
  });
}

function logout(req, res) {
  const s = sessionOf(req);
  if (s) sessions.delete(s.id);
  sendJson(res, 200, { logged_out: true }, { 'set-cookie': `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'cookie', 'origin', 'referer', 'authorization']);

function proxy(req, res, { admin }) {
  let clientGone = false; // the client left before the answer was complete (e.g. closed the event stream)
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (!HOP.has(k)) headers[k] = v;
  }
  if (admin) headers.authorization = `Bearer ${TOKEN}`;
  else if (req.headers.authorization) headers.authorization = req.headers.authorization;
  headers.host = QCC_URL.host;
  const lib = QCC_URL.protocol === 'https:' ? https : http;
  const up = lib.request({
    protocol: QCC_URL.protocol, hostname: QCC_URL.hostname, port: QCC_URL.port, method: req.method, path: req.url, headers,
  }, (upRes) => {
    const out = {};
    for (const [k, v] of Object.entries(upRes.headers)) {
      if (!HOP.has(k) && k !== 'set-cookie') out[k] = v;
    }
    res.writeHead(upRes.statusCode || 502, out);
    if (String(upRes.headers['content-type'] || '').startsWith('text/event-stream')) {
      res.flushHeaders();
      req.socket.setNoDelay(true);
    }
    upRes.pipe(res);
    upRes.on('error', (e) => {
      if (clientGone) return;
      console.error(`dev server: ${req.method} ${req.url}: upstream answer cut (${e.code || e.message})`);
      res.destroy();
    });
  });
  up.on('error', (e) => {
    if (clientGone) return;
    if (!res.writableEnded) console.error(`dev server: ${req.method} ${req.url}: ${e.code || e.message}`);
    if (!res.headersSent) sendError(res, 502, 'api_error', `dev server: QCC at ${QCC_URL.origin} is unreachable (${e.code || e.message})`);
    else res.destroy();
  });
  // The client left (e.g. the event stream closed): stop the upstream request too.
  res.on('close', () => {
    clientGone = !res.writableFinished;
    up.destroy();
  });
  req.pipe(up);
}

async function serveStatic(req, res, pathname) {
  let rel = pathname.slice('/ui/'.length);
  if (rel === '' || rel === 'index.html') rel = 'index.html';
  const file = path.normalize(path.join(distDir, decodeURIComponent(rel)));
  if (!file.startsWith(distDir + path.sep)) return sendError(res, 404, 'not_found_error', 'not found');
  let st;
  try {
    st = await stat(file);
    if (!st.isFile()) throw new Error('not a file');
  } catch {
    return sendError(res, 404, 'not_found_error', `not found: ${pathname}${rel === 'index.html' ? ' (run npm run build first)' : ''}`);
  }
  const immutable = rel.startsWith('assets/');
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
    'content-length': st.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
  if (req.method === 'HEAD') return res.end();
  createReadStream(file).pipe(res);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const p = url.pathname;
  try {
    if (p === '/' || p === '/ui') {
      res.writeHead(302, { location: '/ui/' });
      return res.end();
    }
    if (p.startsWith('/ui/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'invalid_request_error', 'method not allowed', { allow: 'GET, HEAD' });
      return serveStatic(req, res, p);
    }
    if (p.startsWith('/v1/')) return proxy(req, res, { admin: false });
    if (p === '/api/login' || p === '/api/logout' || p === '/api/session') {
      const method = p === '/api/session' ? 'GET' : 'POST';
      if (req.method !== method) return sendError(res, 405, 'invalid_request_error', `method not allowed (allowed: ${method})`, { allow: method });
      if (!originOk(req)) return sendError(res, 403, 'permission_error', `Origin ${req.headers.origin || '(none)'} is not allowed`);
      if (p === '/api/login') return login(req, res);
      if (p === '/api/logout') return logout(req, res);
      const s = sessionOf(req);
      return s ? sendJson(res, 200, { expires_at: s.expires_at }) : sendError(res, 401, 'authentication_error', 'not signed in');
    }
    if (p.startsWith('/api/') || p === '/metrics') {
      if (!sessionOf(req)) return sendError(res, 401, 'authentication_error', 'not signed in (or the session expired)');
      const stateChanging = !['GET', 'HEAD', 'OPTIONS'].includes(req.method);
      if ((stateChanging || p === '/api/events') && !originOk(req)) {
        return sendError(res, 403, 'permission_error', `Origin ${req.headers.origin || '(none)'} is not allowed`);
      }
      return proxy(req, res, { admin: true });
    }
    sendError(res, 404, 'not_found_error', `not found: ${p}`);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) sendError(res, 500, 'api_error', 'dev server error');
    else res.destroy();
  }
});

if (process.argv.includes('--watch')) {
  const child = spawn(process.execPath, [path.join(webDir, 'build.mjs'), '--watch'], { stdio: 'inherit' });
  const stop = () => child.kill();
  process.on('exit', stop);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  console.log(`listening on http://${HOST}:${port}/ui/`);
  console.log(`proxying /api/*, /metrics and /v1/* to ${QCC_URL.origin}`);
});
