// Where the session is kept: localStorage, sessionStorage or memory. Storage that
// throws (disabled, private mode, quota) falls back to memory, and says so.
/** @param {string} kind "local" | "session" | "memory" */
function openWeb(kind) {
  if (kind === "memory" || typeof window === "undefined") return null;
  try {
    const storage = kind === "local" ? window.localStorage : window.sessionStorage;
    // Some browsers hand out a storage object whose every access throws: probe once.
    storage.getItem("auth-wasm:probe");
    return storage;
  } catch {
    return null;
  }
}

export class Store {
  /** @type {Storage | null} */
  #web;
  /** @type {string | null} */
  #memory = null;

  /** @param {string} kind
   * @param {string} key */
  constructor(kind, key) {
    this.key = key;
    this.#web = openWeb(kind);
    /** What is really in use. */
    this.kind = this.#web ? kind : "memory";
  }

  /** Switch to memory; true when this call changed the storage in use. */
  #fallBack() {
    const wasWeb = this.#web !== null;
    this.#web = null;
    this.kind = "memory";
    return wasWeb;
  }

  read() {
    if (this.#web) {
      try {
        return this.#web.getItem(this.key);
      } catch {
        this.#fallBack();
      }
    }
    return this.#memory;
  }

  /** Store `value` (null removes). True when storage just fell back to memory.
   * @param {string | null} value */
  write(value) {
    this.#memory = value;
    if (!this.#web) return false;
    try {
      if (value === null) this.#web.removeItem(this.key);
      else this.#web.setItem(this.key, value);
      return false;
    } catch {
      return this.#fallBack();
    }
  }
}
