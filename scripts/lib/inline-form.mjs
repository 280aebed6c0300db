// The form wasm-text.js carries the wasm in (engine-inline.js decodes it), shared by scripts/lib/finish-package.mjs
// (which writes it) and tests/package/lib.mjs (which finds it in bundlers' output).
//
// One character per byte (Latin-1), not hex or base64: it keeps the wasm's byte
// boundaries, so gzip and brotli still see its repeats, and a byte costs one or two bytes
// of UTF-8 instead of hex's two. Each byte is XORed with KEY first: the wasm's most
// frequent byte, 0, becomes "5" instead of a NUL that bundlers print as `\0`, and other
// frequent bytes leave the control characters they escape. Measured on this wasm (gzip -9
// of the string as esbuild prints it, UTF-8 / ASCII output): hex +2.8 KB over the .wasm
// alone, Latin-1 +1.9 / +2.4 KB, XORed with 53 (the best of all 256 keys in both)
// +0.7 / +1.0 KB. docs/design-notes.md, "the inlined wasm as Latin-1".
export const KEY = 53;

/** The wasm's first 8 bytes ("\0asm", version 1) as the string holds them: each XORed with
 * KEY, all printable ASCII, so no bundler escapes them and a build's output can be searched
 * for them. */
export const HEADER_MARK = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00].map((byte) => byte ^ KEY)).toString("latin1");

/** The bytes as the body of a double-quoted JS string literal, char code = byte: escaped
 * only where a string literal must be (quote, backslash, line breaks); other control
 * characters, NUL among them, are legal in string literals and stay as they are (escaping
 * NUL as `\0` alone cost 0.5 KB gzip: bundlers that print it so pay it, the file does not). */
export function latin1Literal(bytes) {
  const escapes = { 0x22: '\\"', 0x5c: "\\\\", 0x0a: "\\n", 0x0d: "\\r" };
  let text = "";
  for (const byte of bytes) text += escapes[byte] ?? String.fromCharCode(byte);
  return text;
}
