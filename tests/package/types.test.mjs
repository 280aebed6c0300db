// The .d.ts as a TypeScript user sees it: tsc --strict, skipLibCheck false, under each
// moduleResolution, with a lib that lacks esnext.disposable and with one that has it.
import path from "node:path";
import test from "node:test";
import { fixture, run } from "./lib.mjs";

const dir = fixture("types");
const tsc = path.join(dir, "node_modules", ".bin", "tsc");

for (const config of ["bundler", "node16", "nodenext", "disposable"]) {
  test(`tsc --strict, moduleResolution ${config === "disposable" ? "nodenext with lib esnext" : config}`, () => {
    run(tsc, ["-p", `tsconfig.${config}.json`], { cwd: dir });
  });
}
