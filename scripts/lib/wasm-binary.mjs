// Reading a wasm module's bytes: LEB128 numbers and the sections. Shared by the build's
// steps that read the module as bytes (scripts/lib/panic-data.mjs, gzip-order.mjs).

/** Reads an unsigned LEB128 of `wasm` at `at`: [value, next offset]. */
export function uleb(wasm, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = wasm[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

/** Reads a signed LEB128 (an i32.const's immediate) of `wasm` at `at`: [value, next offset]. */
export function sleb(wasm, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = wasm[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte >= 0x80);
  if (byte & 0x40) value -= 2 ** shift;
  return [value, at];
}

/** The module's sections in order: { id, header (its id byte), start (its content's
 * first byte), end }. */
export function sections(wasm) {
  const found = [];
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, start] = uleb(wasm, at + 1);
    found.push({ id, header: at, start, end: start + size });
    at = start + size;
  }
  return found;
}
