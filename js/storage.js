// Where the session is kept: localStorage, sessionStorage or memory. Storage that
// throws (disabled, private mode, quota) falls back to memory, and says so.
/** @typedef {{ kind: string, read(): string | null, write(value: string | null): boolean }} Store
 * `kind`: what is really in use; `write` stores ("" or null removes) and answers true when
 * storage just fell back to memory. Some browsers hand out a storage object whose every
 * access throws: the first read() (the client's, before its first snapshot) finds out. */

/** @param {string} kind @param {string} key @returns {Store} */
export function openStore(kind, key) {
  // localStorage or sessionStorage (the engine allows no other kind but "memory", which
  // never reads the window: a page's own `memoryStorage` global is not taken); none
  // (false, undefined) where there is no window (its ReferenceError) or the access throws.
  /** @type {Storage | false | null | undefined} */
  let web;
  try {
    web = kind !== "memory" && window[/** @type {"localStorage" | "sessionStorage"} */ (`${kind}Storage`)];
  } catch {}
  /** @type {string | null} */
  let memory = null;
  // A failed access switches to memory (`web` none), which `kind` then says.
  return {
    get kind() {
      return web ? kind : "memory";
    },
    read() {
      if (web) {
        try {
          return web.getItem(key);
        } catch {
          web = null;
        }
      }
      return memory;
    },
    write(value) {
      memory = value;
      if (!web) return false;
      try {
        if (value) web.setItem(key, value);
        else web.removeItem(key);
        return false;
      } catch {
        // Only web storage fails: the storage in use changed.
        web = null;
        return true;
      }
    },
  };
}
