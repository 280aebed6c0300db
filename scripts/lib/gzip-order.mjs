// Orders the wasm's function bodies, and numbers each function's locals, so that gzip
// compresses the module better.
//
// gzip finds repeats within a 32 KB window, and the engine's code section is 50 KB: which
// functions sit near each other decides which repeats it can reach. wasm-opt orders the
// functions by call count (small call indices); this step searches, from that order, for one
// that gzip -9 compresses smaller, counting what the order does to the call indices too.
// The same search renames locals: two locals of one type (not parameters) may swap numbers
// in a function's body without changing what it computes, and a body whose `local.get 3;
// i32.load` reads as another's finds more repeats (wasm-opt numbers them by use count).
// The search is a hill climb with a fixed seed and a fixed number of steps, so a build is
// reproducible. Only the order and the numbers change: the module's code, data and exports
// are the same, and binaryen writes the order (docs/design-notes.md, "Issue 19: functions
// ordered for gzip", and "locals numbered for gzip").
//
//   node scripts/lib/gzip-order.mjs <module.wasm> [steps]   (scripts/build gives 20000:
//   about a minute on two cores; on a 25,316 B module, 12000 steps -557 B, 20000 -626 B)
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

/** One function body's locals and the immediates that name a function (call,
 * return_call, ref.func) or a local (local.get, local.set, local.tee): { localTypes (the
 * declared locals' value types, parameters not included), refs: [{ at, end, index, local }] }.
 * Decodes the instructions the build's features allow (MVP, bulk memory, sign extension,
 * saturating conversions, reference types, multivalue) and refuses anything else, so that
 * an unknown opcode never goes unnoticed. */
function bodyRefs(body) {
  const refs = [];
  const localTypes = [];
  let [groups, at] = uleb(body, 0);
  for (let g = 0; g < groups; g++) {
    let count;
    [count, at] = uleb(body, at);
    const type = body[at++];
    for (let k = 0; k < count; k++) localTypes.push(type);
  }
  while (at < body.length) {
    const op = body[at++];
    if (op === 0x10 || op === 0x12 || op === 0xd2 || (op >= 0x20 && op <= 0x22)) {
      const [index, end] = uleb(body, at);
      refs.push({ at, end, index, local: op >= 0x20 && op <= 0x22 });
      at = end;
    } else if (op === 0x02 || op === 0x03 || op === 0x04) {
      at = body[at] === 0x40 || (body[at] >= 0x6f && body[at] <= 0x7f) ? at + 1 : skipLeb(body, at);
    } else if (op === 0x0c || op === 0x0d || (op >= 0x23 && op <= 0x26) || op === 0x3f || op === 0x40) {
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
      if (immediates === undefined) throw new Error(`gzip-order: unknown 0xfc ${sub}`);
      for (let k = 0; k < immediates; k++) at = skipLeb(body, at);
    } else if (!(op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1 || (op >= 0x45 && op <= 0xc4))) {
      throw new Error(`gzip-order: unknown opcode 0x${op.toString(16)}`);
    }
  }
  return { localTypes, refs };
}

/** How many parameters each defined function has (the type and function sections). */
function parameterCounts(bytes, all) {
  const typeSection = all.find((s) => s.id === 1);
  const functionSection = all.find((s) => s.id === 3);
  const params = [];
  if (typeSection) {
    let [count, at] = uleb(bytes, typeSection.start);
    for (let k = 0; k < count; k++) {
      if (bytes[at++] !== 0x60) throw new Error("gzip-order: only function types are expected");
      let n;
      [n, at] = uleb(bytes, at);
      params.push(n);
      at += n;
      [n, at] = uleb(bytes, at);
      at += n;
    }
  }
  const counts = [];
  if (functionSection) {
    let [count, at] = uleb(bytes, functionSection.start);
    for (let k = 0; k < count; k++) {
      let type;
      [type, at] = uleb(bytes, at);
      counts.push(params[type]);
    }
  }
  return counts;
}

/** A model of the module in which the function order and the locals' numbers can be
 * changed and the code section (every call index and local index renumbered) written
 * again: what the search measures. A layout is { order: the defined functions' indices in
 * their new order, locals: per function (by its index before), each local's new number by
 * its number before (parameters keep theirs) }. */
export function orderModel(bytes) {
  const all = sections(bytes);
  const code = all.find((s) => s.id === 10);
  const imports = all.find((s) => s.id === 2);
  if (!code) throw new Error("gzip-order: the module has no code");
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
      if (kind !== 0) throw new Error("gzip-order: only function imports are expected");
    }
  }
  const params = parameterCounts(bytes, all);
  let [count, at] = uleb(bytes, code.start);
  const bodies = [];
  for (let k = 0; k < count; k++) {
    const [size, start] = uleb(bytes, at);
    const body = bytes.subarray(start, start + size);
    const { localTypes, refs } = bodyRefs(body);
    bodies.push({
      body,
      params: params[k],
      // Locals are renumbered only where every number is one byte (fewer than 128), so
      // that a renumbered body keeps its length and its call immediates their places.
      localTypes: params[k] + localTypes.length <= 128 ? localTypes : [],
      calls: refs.filter((r) => !r.local),
      localRefs: refs.filter((r) => r.local),
    });
    at = start + size;
  }
  const before = bytes.subarray(0, code.header);
  const after = bytes.subarray(code.end);
  /** One body with its locals renumbered (`locals`: new number by old; none: as read). */
  const withLocals = ({ body, localTypes, localRefs }, locals) => {
    if (!locals || localTypes.length === 0) return body;
    const out = Buffer.from(body);
    for (const ref of localRefs) out[ref.at] = locals[ref.index];
    return out;
  };
  /** The code section of `bodies` (each [body, calls]) with calls renumbered by `newIndex`. */
  const section = (list, newIndex) => {
    const parts = [writeU32(list.length)];
    for (const [body, calls] of list) {
      const pieces = [];
      let from = 0;
      for (const ref of calls) {
        pieces.push(body.subarray(from, ref.at), writeU32(newIndex.get(ref.index) ?? ref.index));
        from = ref.end;
      }
      pieces.push(body.subarray(from));
      parts.push(writeU32(pieces.reduce((sum, piece) => sum + piece.length, 0)), ...pieces);
    }
    const content = Buffer.concat(parts);
    return Buffer.concat([before, Uint8Array.of(10), writeU32(content.length), content, after]);
  };
  /** The module's bytes in `layout` (the code section only: the function, export and
   * element sections' indices are left, a few bytes gzip hardly sees). `current` (the
   * search's) holds each body as its locals are numbered now, instead of `locals`. */
  const write = ({ order, locals = [] }, current = undefined) => {
    const newIndex = new Map();
    order.forEach((old, position) => newIndex.set(imported + old, imported + position));
    return section(order.map((old) => [current?.[old] ?? withLocals(bodies[old], locals[old]), bodies[old].calls]), newIndex);
  };
  /** `bytes` with each body's locals renumbered by `locals` (by position), nothing else
   * changed: the last step of `applyLayout`. */
  const renumberLocals = (locals) => section(bodies.map((b, k) => [withLocals(b, locals[k]), b.calls]), new Map());
  return { count, bodies, withLocals, write, renumberLocals };
}

/** The identity layout of `bodies`: wasm-opt's order, every local its own number. */
const identity = (bodies) => ({
  order: [...bodies.keys()],
  locals: bodies.map((b) => [...Array(b.params + b.localTypes.length).keys()]),
});

/** A deterministic search: from wasm-opt's order and numbers, either move or swap one
 * function, or swap the numbers of two locals of one type in one function (chosen by how
 * often bodies name locals), and keep the result when gzip -9 is not larger (a tie is
 * kept, to cross flat ground). */
export function searchLayout(bytes, steps) {
  const { bodies, withLocals: renumbered, write } = orderModel(bytes);
  const count = bodies.length;
  let seed = 0x9e3779b9;
  const random = (n) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const layout = identity(bodies);
  // A function is picked for a local swap in proportion to its local references (at most 200).
  const localSwapPicks = bodies.flatMap((b, k) =>
    b.localTypes.length > 1 ? Array(Math.min(200, b.localRefs.length)).fill(k) : []);
  // Each body as its locals are numbered now (written again only when they change).
  const current = bodies.map((b) => b.body);
  let best = gzipSize(write(layout, current));
  for (let step = 0; step < steps; step++) {
    let undo;
    if (localSwapPicks.length > 0 && random(2) === 0) {
      const k = localSwapPicks[random(localSwapPicks.length)];
      const { params, localTypes } = bodies[k];
      const [i, j] = [random(localTypes.length), random(localTypes.length)];
      if (i === j || localTypes[i] !== localTypes[j]) continue;
      const numbers = layout.locals[k];
      const swap = () => {
        [numbers[params + i], numbers[params + j]] = [numbers[params + j], numbers[params + i]];
        current[k] = renumbered(bodies[k], numbers);
      };
      swap();
      undo = swap;
    } else {
      const previous = layout.order;
      const candidate = previous.slice();
      const from = random(count);
      const to = random(count);
      if (random(2) === 0) candidate.splice(to, 0, ...candidate.splice(from, 1));
      else [candidate[from], candidate[to]] = [candidate[to], candidate[from]];
      layout.order = candidate;
      undo = () => (layout.order = previous);
    }
    const size = gzipSize(write(layout, current));
    if (size <= best) best = size;
    else undo();
  }
  return layout;
}

/** The module in `layout`: binaryen writes the functions in the new order (renumbering
 * every reference to them), then each body's local indices are renumbered in place. */
export function applyLayout(bytes, { order, locals = [] }) {
  const module = binaryen.readBinary(bytes);
  let ordered;
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
    if (!module.validate()) throw new Error("gzip-order: the reordered module does not validate");
    ordered = Buffer.from(module.emitBinary());
  } finally {
    module.dispose();
  }
  const out = orderModel(ordered).renumberLocals(order.map((old) => locals[old]));
  if (!WebAssembly.validate(out)) throw new Error("gzip-order: the module with its locals renumbered does not validate");
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, steps = "20000"] = process.argv.slice(2);
  const bytes = readFileSync(file);
  const layout = searchLayout(bytes, Number(steps));
  const out = applyLayout(bytes, layout);
  // What ships is what the search measured: binaryen changed nothing but the order.
  if (!codeSection(out).equals(codeSection(orderModel(bytes).write(layout)))) {
    throw new Error("gzip-order: binaryen wrote other code than the layout's; nothing written");
  }
  writeFileSync(file, out);
  console.log(`gzip order (functions, locals): ${gzipSize(bytes)} -> ${gzipSize(out)} B gzip -9`);
}
