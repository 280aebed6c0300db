// Where to go after signing in: a path on this origin, or nothing. Shared by the server
// entry (auth-wasm/next) and the browser's (auth-wasm/next/client), which loads no wasm.

/** The same-origin path `value` names, or null: absolute URLs to another origin,
 * protocol-relative `//host`, `/\host` (browsers read it as `//host`), other schemes
 * and anything unparsable are refused, so a crafted sign-in link cannot send the user away.
 * @param {string | null | undefined} value
 * @param {string} origin the app's origin, e.g. `location.origin` or the request's
 * @returns {string | null} */
export function safeReturnTo(value, origin) {
  if (typeof value !== "string" || value === "" || value.length > 2048) return null;
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return null;
  // Control characters (a tab or newline inside "/\t/host") are dropped by URL parsers.
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  let url;
  try {
    const base = new URL(origin);
    url = new URL(value, base);
    if (url.origin !== base.origin) return null;
  } catch {
    return null;
  }
  // Dot segments are gone only now: "/.//host" and "/..//host" are the path "//host",
  // which a browser reads as another host, so the path is judged again as parsed.
  if (url.pathname.startsWith("//")) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}
