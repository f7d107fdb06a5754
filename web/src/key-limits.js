// Client-key limits and budgets: how they read in the keys table, and how the form's fields turn
// into the `limits` object of POST /api/keys and PATCH /api/keys/{name}. Pure (no DOM): unit-tested.
import * as fmt from './format.js';

/** The four limits, in the order they are shown and asked for. */
export const LIMIT_FIELDS = [
  { key: 'requests_per_minute', label: 'Requests per minute', kind: 'count', unit: 'req/min', words: 'requests per minute' },
  { key: 'tokens_per_minute', label: 'Tokens per minute', kind: 'tokens', unit: 'tok/min', words: 'tokens per minute' },
  { key: 'budget_daily_usd', label: 'USD per day', kind: 'usd', unit: '/day', words: 'USD per UTC day' },
  { key: 'budget_monthly_usd', label: 'USD per month', kind: 'usd', unit: '/month', words: 'USD per calendar month' },
];

/** Share of a budget from which the spend is shown as a warning (the server logs one too). */
export const WARN_SHARE = 0.8;

const isSet = (v) => !fmt.missing(v) && v > 0;

/** A budget or an amount: "$20", "$12.50", "$0.0001" (whole dollars without cents). */
export function usd(v) {
  if (fmt.missing(v)) return fmt.DASH;
  return Number.isInteger(v) ? `$${fmt.count(v)}` : fmt.cost(v);
}

/** One limit for the table: "60 req/min", "400k tok/min", "$20/day", "$300/month". */
export function limitText(field, v) {
  if (!isSet(v)) return fmt.DASH;
  if (field.kind === 'usd') return `${usd(v)}${field.unit}`;
  return `${field.kind === 'tokens' ? fmt.tokens(v) : fmt.count(v)} ${field.unit}`;
}

/** Restrictions on where a key's requests may go (shown, not edited here): "tiers 1, 2". */
function restrictions(limits) {
  const out = [];
  for (const k of ['tiers', 'endpoints']) {
    if (limits && Array.isArray(limits[k]) && limits[k].length) out.push(`${k} ${limits[k].join(', ')}`);
  }
  return out;
}

/** "60 req/min · 400k tok/min · $20/day · $300/month"; "—" when the key has none. */
export function limitsText(limits) {
  const parts = LIMIT_FIELDS.filter((f) => limits && isSet(limits[f.key])).map((f) => limitText(f, limits[f.key]));
  parts.push(...restrictions(limits));
  return parts.length ? parts.join(' · ') : fmt.DASH;
}

/** The same in words with exact numbers (a tooltip): "60 requests per minute, 400,000 tokens per minute". */
export function limitsTitle(limits) {
  const parts = LIMIT_FIELDS.filter((f) => limits && isSet(limits[f.key]))
    .map((f) => (f.kind === 'usd' ? `${usd(limits[f.key])} per ${f.unit.slice(1)}` : `${fmt.count(limits[f.key])} ${f.words}`));
  parts.push(...restrictions(limits).map((r) => `only ${r}`));
  return parts.length ? parts.join(', ') : 'No limits';
}

/** spent / budget, or null without a budget. */
export function budgetShare(spent, budget) {
  if (!isSet(budget)) return null;
  return (fmt.missing(spent) || spent < 0 ? 0 : spent) / budget;
}

/** '' (no budget), 'ok', 'warn' (≥ 80 %), 'danger' (spent: ≥ 100 %). */
export function budgetLevel(share) {
  if (fmt.missing(share)) return '';
  if (share >= 1) return 'danger';
  if (share >= WARN_SHARE) return 'warn';
  return 'ok';
}

/** Whole percent, rounded down so that a budget shows 100% only once it is spent: "62%", "<1%". */
export function shareText(share) {
  if (fmt.missing(share)) return fmt.DASH;
  if (share > 0 && share < 0.01) return '<1%';
  // 0.29 * 100 = 28.999999999999996: round away float noise before rounding down.
  return `${fmt.count(Math.floor(Math.round(share * 1e6) / 1e4))}%`;
}

/**
 * The key's spend, one entry per period: {period, spent, text: "$1.23 today", budget,
 * budgetText: "$20/day", share, level}. Null for a key without usage (revoked).
 */
export function spendLines(usage, limits) {
  if (!usage) return null;
  const l = limits || {};
  return [
    ['today', 'today', usage.spent_today_usd, l.budget_daily_usd, LIMIT_FIELDS[2]],
    ['month', 'this month', usage.spent_this_month_usd, l.budget_monthly_usd, LIMIT_FIELDS[3]],
  ].map(([period, words, spent, budget, field]) => {
    const share = budgetShare(spent, budget);
    return {
      period,
      spent: fmt.missing(spent) ? 0 : spent,
      text: `${fmt.missing(spent) ? fmt.DASH : fmt.cost(spent)} ${words}`,
      budget: isSet(budget) ? budget : null,
      budgetText: isSet(budget) ? limitText(field, budget) : '',
      share,
      level: budgetLevel(share),
    };
  });
}

/** "$1.23 today · $12.40 this month" (no budget shares). */
export function spendText(usage) {
  const lines = spendLines(usage, null);
  return lines ? lines.map((x) => x.text).join(' · ') : fmt.DASH;
}

/** The worst level of the key's budgets: '', 'ok', 'warn' or 'danger'. */
export function worstLevel(lines) {
  const order = ['', 'ok', 'warn', 'danger'];
  return (lines || []).reduce((w, x) => (order.indexOf(x.level) > order.indexOf(w) ? x.level : w), '');
}

/** A stored limit as the form shows it: 60 -> "60", 1e-5 -> "0.00001", none -> "". */
export function inputValue(v) {
  if (!isSet(v)) return '';
  return v.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * What the form sends for one field: "" -> null (blank), "60" -> 60, "$20" -> 20 (budgets), and
 * anything else as typed, so that the server's message names the problem.
 */
export function parseLimit(field, raw) {
  let t = String(raw ?? '').trim();
  if (t === '') return null;
  if (field.kind === 'usd') t = t.replace(/^\$\s*/, '');
  return NUMBER.test(t) ? Number(t) : t;
}

/** `limits` for POST /api/keys: only the filled fields; null when none is. */
export function createLimits(values) {
  const out = {};
  for (const f of LIMIT_FIELDS) {
    const v = parseLimit(f, values[f.key]);
    if (v !== null) out[f.key] = v;
  }
  return Object.keys(out).length ? out : null;
}

/**
 * `limits` for PATCH /api/keys/{name}: the fields that differ from `current` (a blank field
 * removes its limit: 0). {} when nothing changed.
 */
export function patchLimits(values, current) {
  const cur = current || {};
  const out = {};
  for (const f of LIMIT_FIELDS) {
    const v = parseLimit(f, values[f.key]);
    const before = isSet(cur[f.key]) ? cur[f.key] : 0;
    const after = v === null ? 0 : v;
    if (after !== before) out[f.key] = after;
  }
  return out;
}

/** The form field a server message names ("budget_daily_usd: must be …" -> 'budget_daily_usd'). */
export function fieldOfMessage(text) {
  const m = /^([a-z_]+):/.exec(String(text || ''));
  return m ? m[1] : null;
}
