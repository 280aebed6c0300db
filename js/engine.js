// The wasm engine (src/core/engine.rs) behind its ops (js/ops.js names them, re-exported
// here): the one `call` that passes an op's arguments and answers its text
// (src/web/engine.rs is the other side of that encoding), and functions for the ops
// whose arguments or answers need more than a JSON read or a flag. Each takes the client
// that holds the Engine (a handle in the wasm) first. One way to call: an op returns its
// answer or throws the AuthError the engine met (and recorded: it shows in the
// snapshot); those that cannot fail never throw.
import { engineCall, engineMemory } from "./auth_wasm.js";
import { authError, errorFromText } from "./auth-error.js";
import { ACCOUNT, CONFIGURE, DECODE, EXPIRED, FREE, INPUT, PASSKEY, REPLY, SCRATCH, SESSIONS } from "./ops.js";

export * from "./ops.js";

/** @typedef {import("./auth-error.js").AuthError} AuthError */
/** @typedef {import("./http.js").EngineRequest} EngineRequest */
/** @typedef {import("./http.js").Reply} Reply */
/** @typedef {{ storage: "local" | "session" | "memory", key: string, lockTimeout: number, timeout: number, cookie?: true, dpop?: true }} Settings */
/** @typedef {"anonymous" | "authenticated" | "expired" | "mfa_required"} Status */
/** The snapshot's session part (VIEW's answer).
 * @typedef {{ status: Status, user: object | null, claims: object | null, expiresAt: number | null, mfa: { methods: string[] } | null }} View */
/** Which sessions call: 0 list, 1 revoke one, 2 revoke all.
 * @typedef {0 | 1 | 2} SessionsCall */
/** Which account call: 0 verify email, 1 resend verification, 2 identities, 3 unlink.
 * @typedef {0 | 1 | 2 | 3} AccountCall */
/** Which passkey call: 0 register options, 1 register, 2 sign-up options, 3 sign up,
 * 4 sign-in options, 5 sign in, 6 list, 7 rename, 8 remove.
 * @typedef {0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8} PasskeyCall */
/** What the ops take: the AuthClient (js/client.js), or anything holding an
 * Engine as `engine`.
 * @typedef {{ engine: Engine }} Client */
/** The callback parameters of a social sign-in, as read from the URL.
 * @typedef {{ state: string, code: string, error: string, iss: string, at: string }} Returned */

/** UTF-8, for the wasm and for what dpop.js and social.js hash and sign. */
export const encoder = new TextEncoder();
const decoder = new TextDecoder();
// An answer's JSON (a request unless its reader says otherwise); `parsed` also reads
// "" (none) as undefined.
/** @template [T=EngineRequest] @param {string} text @returns {T} */
export const request = (text) => JSON.parse(text);
/** @template [T=any] @param {string} text @returns {T | undefined} */
export const parsed = (text) => (text ? request(text) : undefined);
// Views of the wasm's memory, made once and again only after it grew (a new buffer: the
// old views are then empty). A view made per call cost getAccessToken a third of its speed.
let memoryBytesView = new Uint8Array(0);
let memoryWords = new DataView(memoryBytesView.buffer);
function memoryBytes() {
  if (!memoryBytesView.byteLength) {
    memoryBytesView = new Uint8Array(engineMemory().buffer);
    memoryWords = new DataView(memoryBytesView.buffer);
  }
  return memoryBytesView;
}
/** An engine in the wasm, as the function that runs its ops: an op with its strings
 * `a`..`d` and `p` ("", null, false or undefined = absent: RESTORE and ADOPT pass null,
 * the DPoP and social calls what `get` answers; anything else crosses as its text; `p`,
 * last, only SOCIAL_START's step-up password), a count `n` and a number `y`; its
 * answer's text (but REPLY's next request, which it answers parsed: see `reply`). A
 * closure over the engine's handle, not a class: no private fields, accessor nor
 * `static` block to write.
 * @typedef {(op: number, a?: string | null, b?: string | null, c?: string | null, d?: string | null, n?: number, y?: number, p?: string | false) => string} Engine */

/** An op of the client's engine. It takes the client, not its engine: `op.call(this, ...)`
 * at each of the client's fifty uses, the `.engine` read once here.
 * @type {(client: Client, ...args: Parameters<Engine>) => string} */
export const call = (client, ...args) => client.engine(...args);

// An engine's slot in the wasm is freed once its Engine is collected (the shell never
// frees one by hand).
const engines = new FinalizationRegistry((/** @type {number} */ handle) => engineCall((handle << 6) | FREE));

/** A new engine for `config` (JSON text; undefined: none); throws AuthError `config` for an
 * invalid one. `onFailure` is told before a failure is thrown (the recorded error changed).
 *
 * Every op also gets the local time. The strings cross as UTF-8 written into the engine's
 * input buffer; the answer's UTF-8 stays in the wasm's memory until the next call, which
 * answers where its address and length are, and its kind (little-endian u32s, as the
 * wasm's memory is): 1 an AuthError's JSON (thrown), 2 REPLY's next request (parsed).
 * The views are checked after each call, which may have grown the memory (a new buffer;
 * the old one's views are then empty). A trap (a bug, or the memory exhausted) is an
 * AuthError too, never the wasm's RuntimeError. A string absent (or null, or any falsy
 * value) is passed as "" (length 0, no default needed); any other value as its text;
 * `n` absent: 0 (the wasm reads `undefined` as 0 for
 * its u32); `y` absent: NaN (an f64), which no op that reads `y` is passed without it
 * but FAIL, which reads it as no status, as it reads 0.
 * @param {string | undefined} config @param {() => void} onFailure
 * @returns {Engine} */
export function engineOf(config, onFailure) {
  /** The engine's handle in the wasm (src/web/engine.rs `engine_call`); none (the wasm
   * reads undefined as 0) for CONFIGURE, which answers it.
   * @type {number | undefined} */
  let handle;
  /** @type {Engine} */
  const run = (op, a, b, c, d, n, y, p) => {
    // `failed`: the kept answer's third word, 1 an AuthError's JSON, 2 REPLY's next
    // request (src/web/engine.rs `keep`).
    let answer, failed;
    try {
      // The strings' UTF-8 one after the other, each followed by 255 (a byte UTF-8 never
      // has), `len` bytes in all; the input buffer is asked for (INPUT) only when a string
      // is not empty: most calls (the token, the status) pass none, and this is
      // getAccessToken's path. The handle and the op are one number.
      let len = 0;
      if (a || b || c || d || p) {
        // At most 3 UTF-8 bytes per UTF-16 code unit, and the five 255s. An argument
        // crosses as its text (the public methods pass what they were given; Node's
        // encodeInto takes only a string), which `join` reads as String does: the bound
        // holds whatever was passed.
        const at = engineCall(INPUT, 3 * [a, b, c, d, p].join("").length + 5);
        const bytes = memoryBytes();
        for (const arg of [a, b, c, d, p]) {
          // A falsy one (null: RESTORE's and ADOPT's absent text) is "", as the engine reads it.
          if (arg) len += encoder.encodeInto(String(arg), bytes.subarray(at + len)).written;
          bytes[at + len++] = 255;
        }
      }
      const at = engineCall((/** @type {number} */ (handle) << 6) | op, n, Date.now(), y, len);
      const bytes = memoryBytes();
      const start = memoryWords.getUint32(at, true);
      answer = decoder.decode(bytes.subarray(start, start + memoryWords.getUint32(at + 4, true)));
      failed = memoryWords.getUint32(at + 8, true);
    } catch (err) {
      throw authError("config", `auth-wasm: the engine failed (${err})`);
    }
    if (failed) {
      // REPLY's next request (2), answered parsed: no `>` before its text to test and cut.
      if (failed > 1) return /** @type {any} */ (request(answer));
      onFailure();
      throw errorFromText(answer);
    }
    return answer;
  };
  handle = +run(CONFIGURE, config);
  engines.register(run, handle);
  return run;
}

// ---- the ops that need a function ------------------------------------------------------

/** The request of one call of SESSIONS (`which`: a `SessionsCall`; `a`: the session to
 * revoke), ACCOUNT (an `AccountCall`; `a`: the token or provider) or PASSKEY (a
 * `PasskeyCall`; `a`..`c`: the password (0), the email and name (2), the ceremony, the
 * credential's JSON and the passkey's name (1, 3, 5), the id and the new name (7), the
 * id (8)). One function for the three ops: a function each cost the bundle 17 B more.
 * @param {Client} client @param {number} code the op @param {number} which
 * @param {string} [a] @param {string} [b] @param {string} [c] absent: "" */
export const subcall = (client, code, which, a, b, c) => request(call(client, code, a, b, c, "", which));

/** The answer to a request: a request to send next (Better Auth's exchange), or the
 * answer's text: "" (done), "login" (log in now), "mfa" (a second factor follows),
 * or the JSON text of what was asked for (the user, a list, the provider's URL).
 * @param {Reply} reply the response, as js/http.js `read` gives it
 * @returns {EngineRequest | string} */
export const reply = (/** @type {Client} */ client, reply) => call(client, REPLY, ...reply);

// ---- tokens (decodeJwt, isExpired: src/web/functions.rs) ------------------------------
// A token crosses through a buffer in the wasm's memory: its UTF-8 is written there, the
// engine checks it in place and leaves the payload's own JSON text (or the error's) at
// the buffer's start, for JSON.parse. No allocation or char-by-char copy to cross.

let tokenView = new Uint8Array(0);

/** The buffer's bytes; made again after the wasm's memory grew (the old view is then empty). */
function tokenBuffer() {
  if (!tokenView.byteLength) {
    tokenView = new Uint8Array(engineMemory().buffer, engineCall(SCRATCH), engineCall(SCRATCH, 1));
  }
  return tokenView;
}

/** Writes `token` (a string, or what String makes of it) into the buffer: its length in
 * bytes, or one more than fits (refused).
 * @param {string} token */
function putToken(token) {
  const text = String(token);
  const { read, written } = encoder.encodeInto(text, tokenBuffer());
  return read < text.length ? tokenView.length + 1 : written;
}

/** The claims of a JWT (not verified: the backend does that); throws AuthError
 * `invalid_token` when it is not one. The package's `decodeJwt` (js/jwt.js).
 * @param {string} token
 * @returns {import("./index.js").JwtClaims} */
export function decodeJwt(token) {
  // An i32 read back from engineCall's u32 (`| 0`): negative for an error.
  const answer = engineCall(DECODE, putToken(token)) | 0;
  const text = decoder.decode(tokenBuffer().subarray(0, answer < 0 ? -1 - answer : answer));
  if (answer < 0) throw errorFromText(text);
  // JSON.parse through the module's one reader (the bundle spells it once).
  return request(text);
}

/** Whether `token` is expired now (device clock), allowing `leeway` seconds (none when
 * absent or null); a malformed token counts as expired. The package's `isExpired`.
 * @param {string} token
 * @param {number | null} [leeway] */
export function isExpired(token, leeway) {
  // NaN, not null (which the wasm's f64 would read as 0): the engine reads it as none.
  return engineCall(EXPIRED, putToken(token), Date.now(), leeway ?? NaN) > 0;
}
