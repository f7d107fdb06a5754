// Hash routes: "#/requests/12?errors=1" -> {page: 'requests', param: '12', query}.
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const pathPart = q < 0 ? raw : raw.slice(0, q);
  const queryPart = q < 0 ? '' : raw.slice(q + 1);
  const parts = pathPart.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { page: parts[0] || 'overview', param: parts.slice(1).join('/') || null, query: new URLSearchParams(queryPart) };
}

export function hashFor(page, param, query) {
  const qs = query ? query.toString() : '';
  return `#/${page}${param ? `/${encodeURIComponent(param)}` : ''}${qs ? `?${qs}` : ''}`;
}

/**
 * Changes the query of the current route without re-rendering the page (the page already shows
 * it); push adds a history entry (Back then re-renders with the previous query).
 */
export function setQuery(query, { push = false } = {}) {
  const { page, param } = parseHash();
  const hash = hashFor(page, param, query);
  if (hash === location.hash) return;
  if (push) history.pushState(null, '', hash);
  else history.replaceState(null, '', hash);
}
