// scripts/lib/gzip-order.mjs (scripts/build's last wasm step) over small modules
// assembled by binaryen's wasm-as: the reordered module, its locals renumbered, computes
// what the original did, its model renumbers every reference to a function exactly as
// binaryen writes them, the search is deterministic and never makes the module compress
// worse, and an instruction the decoder does not know is refused rather than skipped.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { applyLayout, codeSection, orderModel, searchLayout } from "../../scripts/lib/gzip-order.mjs";

const root = mkdtempSync(path.join(os.tmpdir(), "gzip-order-"));
after(() => rmSync(root, { recursive: true, force: true }));
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../node_modules/.bin");
process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;

function assemble(name, wat, flags = []) {
  const watFile = path.join(root, `${name}.wat`);
  const wasmFile = path.join(root, `${name}.wasm`);
  writeFileSync(watFile, wat);
  const as = spawnSync("wasm-as", [...flags, watFile, "-o", wasmFile], { encoding: "utf8" });
  assert.equal(as.status, 0, as.stderr);
  return readFileSync(wasmFile);
}

/** The module as binaryen writes it (what scripts/build's wasm-opt hands the step). */
function canonical(bytes) {
  return applyLayout(bytes, { order: [...Array(orderModel(bytes).count).keys()] });
}

/** Each function's locals with the numbers of its first two locals of one type swapped
 * (parameters keep theirs), and how many functions had such a pair. */
function swappedLocals(bytes) {
  let swapped = 0;
  const locals = orderModel(bytes).bodies.map(({ params, localTypes }) => {
    const numbers = [...Array(params + localTypes.length).keys()];
    for (let i = 0; i < localTypes.length; i++) {
      const j = localTypes.indexOf(localTypes[i], i + 1);
      if (j > 0) {
        [numbers[params + i], numbers[params + j]] = [params + j, params + i];
        swapped++;
        break;
      }
    }
    return numbers;
  });
  return { locals, swapped };
}

// Every kind of instruction the build's features give the engine's code, and every way a
// function is named: call, return_call, ref.func, a table's element segment, exports.
const FEATURES = ["--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
  "--enable-reference-types", "--enable-tail-call"];
const WAT = `(module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (type $unary (func (param i32) (result i32)))
  (memory 1)
  (data $text (i32.const 1024) "abcdefgh")
  (table $fns 4 funcref)
  (elem (table $fns) (i32.const 0) func $inc $dec $square $pair_sum)
  (global $count (mut i32) (i32.const 0))
  (func $inc (param $x i32) (result i32) (global.set $count (i32.add (global.get $count) (i32.const 1))) (i32.add (local.get $x) (i32.const 1)))
  (func $dec (param $x i32) (result i32) (i32.sub (local.get $x) (i32.const 1)))
  (func $square (param $x i32) (result i32) (local $y i64) (local.set $y (i64.extend_i32_s (local.get $x)))
    (i32.wrap_i64 (i64.mul (local.get $y) (local.get $y))))
  (func $pair_sum (param $x i32) (result i32) (local $n i32) (local $wide i64) (local $sum i32)
    (local.set $n (i32.and (local.get $x) (i32.const 7)))
    (loop $again (if (local.get $n) (then (local.set $sum (call $inc (local.get $sum)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $again))))
    (local.set $wide (i64.extend_i32_u (local.tee $n (i32.mul (local.get $sum) (i32.const 3)))))
    (block $done (result i32) (br_if $done (local.get $sum) (i32.eqz (local.get $x))) (drop)
      (i32.add (i32.add (local.get $sum) (local.get $x)) (i32.sub (i32.wrap_i64 (local.get $wide)) (local.get $n)))))
  (func $tail (param $x i32) (result i32) (return_call $square (local.get $x)))
  (func $pick (param $k i32) (param $x i32) (result i32)
    (block $b2 (block $b1 (block $b0 (br_table $b0 $b1 $b2 (local.get $k)))
      (return (call_indirect $fns (type $unary) (local.get $x) (i32.const 0))))
      (return (call_indirect $fns (type $unary) (local.get $x) (local.get $k))))
    (table.set $fns (i32.const 3) (ref.func $square))
    (call_indirect $fns (type $unary) (local.get $x) (i32.const 3)))
  (func $memory (param $x i32) (result i32)
    (memory.copy (i32.const 2048) (i32.const 1024) (i32.const 8))
    (memory.fill (i32.const 2056) (local.get $x) (i32.const 4))
    (i32.add (i32.load8_u offset=3 (i32.const 2048)) (i32.extend8_s (i32.load8_u (i32.const 2056)))))
  (func $float (param $x i32) (result i32) (local $a f64) (local $b f64)
    (local.set $a (f64.convert_i32_s (local.get $x))) (local.set $b (f64.const 2.5))
    (i32.trunc_sat_f64_s (f64.sub (f64.mul (local.get $a) (local.get $b)) (local.get $b))))
  (func $choose (param $x i32) (result i32)
    (select (result i32) (call $twice (local.get $x)) (call $dec (local.get $x)) (i32.gt_s (local.get $x) (i32.const 10))))
  (func (export "run") (param $x i32) (result i32)
    (if (result i32) (i32.eqz (local.get $x)) (then (global.get $count))
      (else (i32.add (i32.add (i32.add (call $pick (i32.const 0) (local.get $x)) (call $pick (i32.const 2) (local.get $x)))
        (i32.add (call $pick (i32.const 9) (local.get $x)) (call $tail (local.get $x))))
        (i32.add (i32.add (call $memory (local.get $x)) (call $float (local.get $x)))
          (i32.add (call $choose (local.get $x)) (call $pair_sum (local.get $x))))))))
)`;

async function run(bytes, inputs) {
  const { instance } = await WebAssembly.instantiate(bytes, { env: { twice: (x) => 2 * x } });
  return inputs.map((x) => instance.exports.run(x));
}

const INPUTS = [0, 1, 7, 12, -3, 0];

test("the functions in another order, their locals renumbered, compute what they did, and binaryen agrees with the model", async () => {
  const bytes = canonical(assemble("all", WAT, FEATURES));
  const count = orderModel(bytes).count;
  assert.ok(count >= 10);
  const expected = await run(bytes, INPUTS);
  const { locals, swapped } = swappedLocals(bytes);
  assert.ok(swapped >= 2, "the module has functions with two locals of one type");
  for (const order of [[...Array(count).keys()].reverse(), [3, 0, 9, 1, 8, 2, 7, 4, 6, 5, ...[...Array(count).keys()].slice(10)]]) {
    for (const layout of [{ order }, { order, locals }]) {
      const moved = applyLayout(bytes, layout);
      assert.deepEqual(await run(moved, INPUTS), expected);
      assert.notDeepEqual(codeSection(moved), codeSection(bytes));
      // The model the search measures writes the same bodies, with the same call and local indices.
      assert.deepEqual(codeSection(orderModel(bytes).write(layout)), codeSection(moved));
    }
  }
  // Locals alone: the same order, other bytes, the same results.
  const renumbered = applyLayout(bytes, { order: [...Array(count).keys()], locals });
  assert.notDeepEqual(codeSection(renumbered), codeSection(bytes));
  assert.deepEqual(await run(renumbered, INPUTS), expected);
});

test("the search is deterministic and never compresses worse than wasm-opt's order and numbers", () => {
  const bytes = canonical(assemble("search", WAT, FEATURES));
  const first = searchLayout(bytes, 300);
  assert.deepEqual(searchLayout(bytes, 300), first);
  assert.deepEqual(searchLayout(bytes, 0).order, [...Array(first.order.length).keys()]);
  const gzip = (b) => gzipSync(b, { level: 9 }).length;
  assert.ok(gzip(applyLayout(bytes, first)) <= gzip(bytes));
  assert.deepEqual(applyLayout(bytes, searchLayout(bytes, 0)), bytes);
});

test("an instruction the decoder does not know is refused", () => {
  const bytes = assemble("simd", `(module (func (export "f") (result i32)
    (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4))))`, ["--enable-simd"]);
  assert.throws(() => orderModel(bytes), /unknown opcode 0xfd/);
});
