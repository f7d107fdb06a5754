// Builds the dashboard into dist/: index.html + content-hashed assets/app-<hash>.{js,css}.
//   node build.mjs            production build (minified), prints raw and gzip sizes
//   node build.mjs --dev      unminified with inline source maps (never ship this)
//   node build.mjs --watch    --dev, rebuilding on every change (used by `npm run dev -- --watch`)
import * as esbuild from 'esbuild';
import { mkdir, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const srcDir = path.join(root, 'src');
const outDir = path.join(root, 'dist');
const assetsDir = path.join(outDir, 'assets');
// The page must load in at most this many gzip-compressed bytes (index.html + JS + CSS).
const BUDGET_GZIP = 200 * 1024;

// uPlot's MIT notice has no /*! marker, so the minifier would drop it: keep it as a banner.
const uplotVersion = JSON.parse(await readFile(path.join(root, 'node_modules/uplot/package.json'), 'utf8')).version;
const BANNER = `/*! QCC dashboard. Includes uPlot v${uplotVersion}, (c) Leon Sorokin, MIT License, https://github.com/leeoniya/uPlot */`;

function options(dev) {
  return {
    banner: { js: BANNER },
    absWorkingDir: root,
    entryPoints: { app: path.join(srcDir, 'main.js') },
    bundle: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: !dev,
    sourcemap: dev ? 'inline' : false,
    legalComments: dev ? 'inline' : 'eof',
    charset: 'utf8',
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    define: { 'globalThis.QCC_DEV': dev ? 'true' : 'false' },
  };
}

// Writes dist/index.html from src/index.html with the hashed asset names of this build.
async function writeIndex(metafile) {
  let js = null;
  let css = null;
  for (const [file, info] of Object.entries(metafile.outputs)) {
    if (info.entryPoint && file.endsWith('.js')) {
      js = path.basename(file);
      if (info.cssBundle) css = path.basename(info.cssBundle);
    }
  }
  if (!js || !css) throw new Error('build: missing JS or CSS output in the metafile');
  let html = await readFile(path.join(srcDir, 'index.html'), 'utf8');
  const replaceOnce = (from, to) => {
    if (!html.includes(from)) throw new Error(`build: src/index.html lacks ${from}`);
    html = html.replace(from, to);
  };
  replaceOnce('href="assets/app.css"', `href="assets/${css}"`);
  replaceOnce('src="assets/app.js"', `src="assets/${js}"`);
  await writeFile(path.join(outDir, 'index.html'), html);
  return { js, css };
}

// Removes assets of previous builds (the names change with each content change).
async function pruneAssets(keep) {
  for (const name of await readdir(assetsDir)) {
    if (!keep.has(name)) await rm(path.join(assetsDir, name), { force: true });
  }
}

async function sizes(files) {
  const rows = [];
  for (const rel of files) {
    const data = await readFile(path.join(outDir, rel));
    rows.push({ file: rel, raw: data.length, gzip: gzipSync(data, { level: 9 }).length });
  }
  return rows;
}

async function buildOnce(dev) {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(assetsDir, { recursive: true });
  const result = await esbuild.build(options(dev));
  const { js, css } = await writeIndex(result.metafile);
  await pruneAssets(new Set([js, css]));
  const rows = await sizes(['index.html', `assets/${js}`, `assets/${css}`]);
  let raw = 0;
  let gz = 0;
  for (const r of rows) {
    raw += r.raw;
    gz += r.gzip;
    console.log(`${r.file.padEnd(32)} ${String(r.raw).padStart(8)} B  ${String(r.gzip).padStart(7)} B gzip`);
  }
  console.log(`${'total first load'.padEnd(32)} ${String(raw).padStart(8)} B  ${String(gz).padStart(7)} B gzip (budget ${BUDGET_GZIP})`);
  if (!dev && gz > BUDGET_GZIP) {
    console.error(`build: first-load size ${gz} B gzip is over the budget of ${BUDGET_GZIP} B`);
    process.exitCode = 1;
  }
}

async function watch() {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(assetsDir, { recursive: true });
  const ctx = await esbuild.context({
    ...options(true),
    plugins: [{
      name: 'index-html',
      setup(b) {
        b.onEnd(async (result) => {
          if (result.errors.length || !result.metafile) return;
          const { js, css } = await writeIndex(result.metafile);
          await pruneAssets(new Set([js, css]));
          console.log(`rebuilt ${js} ${css}`);
        });
      },
    }],
  });
  await ctx.watch();
  console.log('watching src/ for changes');

}

const args = new Set(process.argv.slice(2));
if (args.has('--watch')) {
  await watch();
} else {
  await buildOnce(args.has('--dev'));
}
