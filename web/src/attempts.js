// The attempts of a request: attempts_detail when the server records it, else rebuilt from
// `tried` ("a:overloaded,b": endpoint[:error class], in order).
/** attempts_detail, or the same reconstructed from tried ("a:overloaded,b"). */
export function attemptsOf(r) {
  if (Array.isArray(r.attempts_detail) && r.attempts_detail.length) {
    return { exact: true, list: r.attempts_detail };
  }
  const list = String(r.tried || '').split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const i = s.indexOf(':');
    return i < 0 ? { endpoint: s } : { endpoint: s.slice(0, i), error_class: s.slice(i + 1) };
  });
  // The last attempt is the one that answered.
  if (list.length) {
    const last = list[list.length - 1];
    if (!last.error_class) {
      last.status = r.status;
      last.error_class = r.error_class || '';
    }
  }
  return { exact: false, list };
}
