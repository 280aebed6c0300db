// Zeroes the data that only a panic would read, so that the next wasm-opt's memory-packing
// drops it from the `.wasm` (scripts/build). The package's panic handler traps without
// reading its message or location (src/lib.rs), but std's precompiled alloc still builds
// them on its two failure paths, so rustc links their texts: alloc's source paths
// (`/rustc/<commit>/library/...`), "memory allocation of ... bytes failed" and "capacity
// overflow"; and core's two-digit table for integer formatting, which the formatting code
// that read it leaves behind once wasm-opt has removed that code. About 400 B of data.
//
// Zeroing keeps every address as it was: the panic paths still store pointers to these
// bytes, and nothing reads them. The digit table is zeroed only when no code names an
// address inside it (a formatter linked again would read it): otherwise the build fails,
// to be looked at. `node scripts/lib/panic-data.mjs <wasm>`; prints what it zeroed;
// `--check <wasm>` fails when any is left
// (unit-tested in tests/unit/panic-data.test.mjs; scripts/test-wasm checks pkg/'s wasm).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sections, sleb, uleb } from "./wasm-binary.mjs";

/** The active data segments of memory 0: where each one's bytes are in `wasm` and the
 * address they are placed at. */
function dataSegments(wasm) {
  const segments = [];
  for (const section of sections(wasm).filter((s) => s.id === 11)) {
    let [count, p] = uleb(wasm, section.start);
    while (count-- > 0) {
      const [flags, afterFlags] = uleb(wasm, p);
      p = afterFlags;
      let memory = 0;
      if (flags === 2) [memory, p] = uleb(wasm, p);
      let address = null;
      if (flags !== 1) {
        if (wasm[p] !== 0x41) throw new Error("a data segment placed by an expression that is not i32.const");
        [address, p] = sleb(wasm, p + 1);
        if (wasm[p++] !== 0x0b) throw new Error("a data segment's offset expression is not one i32.const");
      }
      const [length, bytesAt] = uleb(wasm, p);
      if (address !== null && memory === 0) segments.push({ address, bytesAt, length });
      p = bytesAt + length;
    }
  }
  return segments;
}

const digitPairs = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0")).join("");
/** Texts only std's panics read, matched whole over the bytes (as latin1). `unread`: zeroed
 * only when no code names an address inside it. */
const PANIC_ONLY = [
  { what: "std's source paths", pattern: /\/rustc\/[0-9a-f]{40}\/library\/[a-z_]+\/src\/[a-z_/]+\.rs/g },
  { what: "alloc's out-of-memory message", pattern: /memory allocation of /g },
  { what: "alloc's out-of-memory message", pattern: / bytes failed/g },
  { what: "alloc's capacity overflow", pattern: /capacity overflow/g },
  { what: "core's digit table", pattern: new RegExp(digitPairs, "g"), unread: true },
];

/** Every address a module's code names (i32.const immediates, load and store offsets),
 * read from binaryen's text of it. */
export function addressesNamed(file) {
  const dis = spawnSync("wasm-dis", [file], { encoding: "utf8", maxBuffer: 1 << 28 });
  if (dis.status !== 0) throw new Error(`wasm-dis ${file}: ${dis.stderr || dis.error}`);
  const code = dis.stdout.replace(/^ \(data [^\n]*$/gm, "");
  return [...code.matchAll(/\(i32\.const (\d+)\)|offset=(\d+)/g)].map((m) => Number(m[1] ?? m[2]));
}

/** Every panic-only text in `wasm`'s data: what it is, its bytes, where they are in the
 * file (`at`) and the address they are placed at (`address`). */
function panicTexts(wasm) {
  const texts = [];
  for (const segment of dataSegments(wasm)) {
    const data = Buffer.from(wasm.subarray(segment.bytesAt, segment.bytesAt + segment.length)).toString("latin1");
    for (const { what, pattern, unread } of PANIC_ONLY) {
      for (const match of data.matchAll(pattern)) {
        texts.push({ what, unread, text: match[0], at: segment.bytesAt + match.index, address: segment.address + match.index });
      }
    }
  }
  return texts;
}

/** The panic-only texts left in `wasm`'s data, one line each (scripts/test-wasm: none). */
export function panicDataIn(wasm) {
  return panicTexts(wasm).map(({ what, text }) => `${what}: ${text.slice(0, 40)}`);
}

/** Zeroes, in `wasm` (changed in place), the panic-only data; `named()` lists the addresses
 * the code names. Returns what was zeroed, one line each. Throws, zeroing nothing, when code
 * names an address inside the digit table. */
export function zeroPanicData(wasm, named) {
  const texts = panicTexts(wasm);
  if (texts.some(({ unread }) => unread)) {
    const addresses = named();
    for (const { what, text, address, unread } of texts) {
      if (unread && addresses.some((named) => named >= address - 8 && named < address + text.length)) {
        throw new Error(`code names an address in ${what} at ${address}: something formats numbers with core::fmt again; find what, or stop zeroing it`);
      }
    }
  }
  for (const { text, at } of texts) wasm.fill(0, at, at + text.length);
  return texts.map(({ what, text, address }) => `${what} (${text.length} B at ${address})`);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "--check") {
  const found = panicDataIn(readFileSync(process.argv[3]));
  if (found.length > 0) {
    console.error(`panic-only data in ${process.argv[3]} (scripts/build zeroes it):\n  ${found.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`panic-only data: none in ${process.argv[3]}`);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  const wasm = readFileSync(file);
  const zeroed = zeroPanicData(wasm, () => addressesNamed(file));
  writeFileSync(file, wasm);
  console.log(`panic-only data zeroed: ${zeroed.length ? zeroed.join(", ") : "none"}`);
}
