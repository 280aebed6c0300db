// Orders the wasm's function bodies so that gzip compresses the module better.
//
// gzip finds repeats within a 32 KB window, and the engine's code section is 50 KB: which
// functions sit near each other decides which repeats it can reach. wasm-opt orders the
// functions by call count (small call indices); this step searches, from that order, for one
// that gzip -9 compresses smaller, counting what the order does to the call indices too.
// The search is a hill climb with a fixed seed and a fixed number of steps, so a build is
// reproducible. Only the order changes: the module's code, data and exports are the same, and
// binaryen writes the result (docs/design-notes.md, "Issue 19: functions ordered for gzip").
//
//   node scripts/lib/function-order.mjs <module.wasm> [steps]   (default 12000: about 40 s
//   on two cores; more steps find a little more, 8000 -464 B, 16000 -522 B on 27,081 B)
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import binaryen from "binaryen";
import { sections, uleb } from "./wasm-binary.mjs";

const gzipSize = (bytes) => gzipSync(bytes, { level: 9 }).length;

function skipLeb(bytes, at) {
  while (bytes[at++] & 0x80);
  return at;
}

function writeU32(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return Uint8Array.from(out);
}

/** The code section's content (the function bodies with their count). */
export function codeSection(bytes) {
  const code = sections(bytes).find((s) => s.id === 10);
  return code ? bytes.subarray(code.start, code.end) : undefined;
}

/** Where, in one function body, the immediates naming a function are (call, return_call,
 * ref.func): [{ at, end, index }]. Decodes the instructions the build's features allow
 * (MVP, bulk memory, sign extension, saturating conversions, reference types, multivalue)
 * and refuses anything else, so that an unknown opcode never goes unnoticed. */
function functionRefs(body) {
  const refs = [];
  let [groups, at] = uleb(body, 0);
  for (let g = 0; g < groups; g++) at = skipLeb(body, at) + 1;
  while (at < body.length) {
    const op = body[at++];
    if (op === 0x10 || op === 0x12 || op === 0xd2) {
      const [index, end] = uleb(body, at);
      refs.push({ at, end, index });
      at = end;
    } else if (op === 0x02 || op === 0x03 || op === 0x04) {
      at = body[at] === 0x40 || (body[at] >= 0x6f && body[at] <= 0x7f) ? at + 1 : skipLeb(body, at);
    } else if (op === 0x0c || op === 0x0d || (op >= 0x20 && op <= 0x26) || op === 0x3f || op === 0x40) {
      at = skipLeb(body, at);
    } else if (op === 0x0e) {
      let targets;
      [targets, at] = uleb(body, at);
      for (let t = 0; t <= targets; t++) at = skipLeb(body, at);
    } else if (op === 0x11 || op === 0x13) {
      at = skipLeb(body, skipLeb(body, at));
    } else if (op === 0x1c) {
      let types;
      [types, at] = uleb(body, at);
      at += types;
    } else if (op >= 0x28 && op <= 0x3e) {
      const [align, next] = uleb(body, at);
      at = skipLeb(body, align & 0x40 ? skipLeb(body, next) : next);
    } else if (op === 0x41 || op === 0x42) {
      at = skipLeb(body, at);
    } else if (op === 0x43) {
      at += 4;
    } else if (op === 0x44) {
      at += 8;
    } else if (op === 0xd0) {
      at += 1;
    } else if (op === 0xfc) {
      let sub;
      [sub, at] = uleb(body, at);
      const immediates = [0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2, 1, 2, 1, 2, 1, 1, 1][sub];
      if (immediates === undefined) throw new Error(`function-order: unknown 0xfc ${sub}`);
      for (let k = 0; k < immediates; k++) at = skipLeb(body, at);
    } else if (!(op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1 || (op >= 0x45 && op <= 0xc4))) {
      throw new Error(`function-order: unknown opcode 0x${op.toString(16)}`);
    }
  }
  return refs;
}

/** A model of the module in which the function order can be changed and the code section
 * (with every call index renumbered) written again: what the search measures. */
export function orderModel(bytes) {
  const all = sections(bytes);
  const code = all.find((s) => s.id === 10);
  const imports = all.find((s) => s.id === 2);
  if (!code) throw new Error("function-order: the module has no code");
  let imported = 0;
  if (imports) {
    let [count, at] = uleb(bytes, imports.start);
    for (let k = 0; k < count; k++) {
      for (let name = 0; name < 2; name++) {
        let length;
        [length, at] = uleb(bytes, at);
        at += length;
      }
      const kind = bytes[at++];
      if (kind === 0) imported++;
      at = skipLeb(bytes, at);
      if (kind !== 0) throw new Error("function-order: only function imports are expected");
    }
  }
  let [count, at] = uleb(bytes, code.start);
  const bodies = [];
  for (let k = 0; k < count; k++) {
    const [size, start] = uleb(bytes, at);
    const body = bytes.subarray(start, start + size);
    bodies.push({ body, refs: functionRefs(body) });
    at = start + size;
  }
  const before = bytes.subarray(0, code.header);
  const after = bytes.subarray(code.end);
  /** The module's bytes with the bodies in `order` (the code section only: the function,
   * export and element sections' indices are left, a few bytes gzip hardly sees). */
  const write = (order) => {
    const newIndex = new Map();
    order.forEach((old, position) => newIndex.set(imported + old, imported + position));
    const parts = [writeU32(count)];
    for (const old of order) {
      const { body, refs } = bodies[old];
      const pieces = [];
      let from = 0;
      for (const ref of refs) {
        pieces.push(body.subarray(from, ref.at), writeU32(newIndex.get(ref.index) ?? ref.index));
        from = ref.end;
      }
      pieces.push(body.subarray(from));
      const size = pieces.reduce((sum, piece) => sum + piece.length, 0);
      parts.push(writeU32(size), ...pieces);
    }
    const content = Buffer.concat(parts);
    return Buffer.concat([before, Uint8Array.of(10), writeU32(content.length), content, after]);
  };
  return { count, write };
}

/** A deterministic search: from wasm-opt's order, move or swap one function at a time and
 * keep the result when gzip -9 is not larger (a tie is kept, to cross flat ground). */
export function searchOrder(bytes, steps) {
  const { count, write } = orderModel(bytes);
  let seed = 0x9e3779b9;
  const random = (n) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  let order = [...Array(count).keys()];
  let best = gzipSize(write(order));
  for (let step = 0; step < steps; step++) {
    const candidate = order.slice();
    const from = random(count);
    const to = random(count);
    if (random(2) === 0) candidate.splice(to, 0, ...candidate.splice(from, 1));
    else [candidate[from], candidate[to]] = [candidate[to], candidate[from]];
    const size = gzipSize(write(candidate));
    if (size <= best) {
      best = size;
      order = candidate;
    }
  }
  return order;
}

/** The module with its defined functions in `order`, written by binaryen (which renumbers
 * every reference to them). */
export function reorder(bytes, order) {
  const module = binaryen.readBinary(bytes);
  try {
    module.setFeatures(binaryen.Features.All);
    const functions = [];
    for (let k = 0; k < module.getNumFunctions(); k++) {
      functions.push(binaryen.getFunctionInfo(module.getFunctionByIndex(k)));
    }
    const defined = functions.filter((f) => !f.module);
    for (const f of defined) module.removeFunction(f.name);
    for (const k of order) {
      const f = defined[k];
      module.addFunction(f.name, f.params, f.results, f.vars, f.body);
    }
    if (!module.validate()) throw new Error("function-order: the reordered module does not validate");
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, steps = "12000"] = process.argv.slice(2);
  const bytes = readFileSync(file);
  const order = searchOrder(bytes, Number(steps));
  const out = Buffer.from(reorder(bytes, order));
  // What ships is what the search measured: binaryen changed nothing but the order.
  if (!codeSection(out).equals(codeSection(orderModel(bytes).write(order)))) {
    throw new Error("function-order: binaryen wrote other code than the order's; nothing written");
  }
  writeFileSync(file, out);
  console.log(`function order: ${gzipSize(bytes)} -> ${gzipSize(out)} B gzip -9`);
}
