// model_map as typed in the endpoint form: requested=sent lines, or a JSON object.
/** "a=b" lines (or a JSON object) -> object; throws Error("model_map: …"). */
export function parseModelMap(text) {
  const t = text.trim();
  if (!t) return {};
  if (t.startsWith('{')) {
    let obj;
    try {
      obj = JSON.parse(t);
    } catch (e) {
      throw new Error(`model_map: not valid JSON (${e.message})`);
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('model_map: expected a JSON object');
    return obj;
  }
  const out = {};
  t.split('\n').forEach((line, i) => {
    const l = line.trim();
    if (!l || l.startsWith('#')) return;
    const eq = l.indexOf('=');
    if (eq <= 0) throw new Error(`model_map: line ${i + 1}: expected requested-model=sent-model`);
    out[l.slice(0, eq).trim()] = l.slice(eq + 1).trim();
  });
  return out;
}

export function formatModelMap(map) {
  return Object.entries(map || {}).map(([k, v]) => `${k}=${v}`).join('\n');
}
