// Number and time formatting for people. Every function returns "—" for a missing value.
export const DASH = '—';

const nf = new Map();
function numberFormat(min, max) {
  const key = `${min}:${max}`;
  let f = nf.get(key);
  if (!f) {
    f = new Intl.NumberFormat(undefined, { minimumFractionDigits: min, maximumFractionDigits: max });
    nf.set(key, f);
  }
  return f;
}

export function missing(v) {
  return v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v));
}

/** 1234567 -> "1,234,567" */
export function count(n) {
  if (missing(n)) return DASH;
  return numberFormat(0, 0).format(Math.round(n));
}

/** A number with at most `max` decimals (locale separators). */
export function num(n, max = 2, min = 0) {
  if (missing(n)) return DASH;
  return numberFormat(min, max).format(n);
}

/** Milliseconds: "850 ms", "3.2 ms", "1.25 s", "12.3 s", "2 min 5 s". Negative (= none) -> "—". */
export function ms(v) {
  if (missing(v) || v < 0) return DASH;
  if (v < 10) return `${num(v, 1)} ms`;
  if (v < 1000) return `${count(v)} ms`;
  const s = v / 1000;
  if (s < 10) return `${num(s, 2, 2)} s`;
  if (s < 120) return `${num(s, 1, 1)} s`;
  return duration(v);
}

/** A length of time in words: "45 s", "3 min 12 s", "2 h 5 min", "3 d 4 h". */
export function duration(v) {
  if (missing(v) || v < 0) return DASH;
  const totalS = Math.round(v / 1000);
  if (totalS < 60) return `${totalS} s`;
  const m = Math.floor(totalS / 60);
  if (m < 60) return totalS % 60 ? `${m} min ${totalS % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** A countdown that ticks each second: "42 s", "1:05", "1:02:03". */
export function countdown(v) {
  if (missing(v)) return DASH;
  const t = Math.max(0, Math.ceil(v / 1000));
  if (t < 60) return `${t} s`;
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = String(t % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Tokens: "950", "1.2k", "34k", "3.4M", "1.1B". */
export function tokens(n) {
  if (missing(n)) return DASH;
  const a = Math.abs(n);
  if (a < 1000) return count(n);
  const unit = a < 1e6 ? [1e3, 'k'] : a < 1e9 ? [1e6, 'M'] : [1e9, 'B'];
  const v = n / unit[0];
  const a2 = Math.abs(v);
  return `${a2 < 10 ? num(v, 1, 1) : num(v, a2 < 100 ? 1 : 0)}${unit[1]}`;
}

/** US dollars with significant digits: "$12.35", "$0.50", "$0.0123", "$0.00004" (never "$0.0000"). */
export function cost(usd) {
  if (missing(usd)) return DASH;
  if (usd === 0) return '$0';
  const a = Math.abs(usd);
  const sign = usd < 0 ? '-' : '';
  if (a >= 1) return `${sign}$${num(a, 2, 2)}`;
  // three significant digits, trailing zeros dropped, at least two decimals
  const decimals = Math.min(12, Math.max(2, 2 - Math.floor(Math.log10(a))));
  const rounded = Number(a.toFixed(decimals));
  const fixed = rounded.toFixed(decimals).replace(/0+$/, '');
  const shown = Math.max(2, (fixed.split('.')[1] || '').length);
  return `${sign}$${num(rounded, shown, Math.min(shown, 2))}`;
}

/** 0.9876 -> "98.8%", 1 -> "100%". */
export function pct(ratio) {
  if (missing(ratio)) return DASH;
  const p = ratio * 100;
  if (p === 100 || p === 0) return `${p}%`;
  if (p > 0 && p < 0.01) return '<0.01%';
  // Never round a failure away: 99.999% shows as 99.99%, not 100%.
  if (p >= 99.95) return `${num(Math.min(99.99, Math.floor(p * 100) / 100), 2)}%`;
  return `${num(p, p < 10 ? 2 : 1)}%`;
}

/** Requests per second, shown per minute when slow: "3.2/s", "12/min". */
export function rate(perSecond) {
  if (missing(perSecond)) return DASH;
  if (perSecond >= 1) return `${num(perSecond, perSecond < 10 ? 2 : 1)}/s`;
  const perMin = perSecond * 60;
  return `${num(perMin, perMin < 10 ? 2 : 1)}/min`;
}

export function bytes(n) {
  if (missing(n)) return DASH;
  if (n < 1024) return `${count(n)} B`;
  if (n < 1024 * 1024) return `${num(n / 1024, 1)} KiB`;
  return `${num(n / 1024 / 1024, 1)} MiB`;
}

const dtf = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const tf = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const df = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** Full date and time in the browser's time zone. */
export function dateTime(unixMs) {
  if (missing(unixMs) || unixMs <= 0) return DASH;
  return dtf.format(new Date(unixMs));
}

/** Time of day for today, else "Mar 3, 14:02:11": compact for tables. */
export function when(unixMs) {
  if (missing(unixMs) || unixMs <= 0) return DASH;
  const d = new Date(unixMs);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return tf.format(d);
  return `${df.format(d)}, ${tf.format(d)}`;
}

/** "12 s ago", "5 min ago", "in 3 s". */
export function ago(unixMs, now = Date.now()) {
  if (missing(unixMs) || unixMs <= 0) return DASH;
  const diff = now - unixMs;
  if (Math.abs(diff) < 1000) return 'just now';
  const text = coarse(Math.abs(diff));
  return diff > 0 ? `${text} ago` : `in ${text}`;
}

/** One unit, rounded down: "12 s", "5 min", "3 h", "2 d". */
export function coarse(v) {
  const s = Math.floor(v / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}
