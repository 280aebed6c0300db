// js/return-to.js's safeReturnTo (auth-wasm/next and /next/client), in Node: what it
// answers is used as a navigation target (`router.replace(...)`, a Location), so it must
// never be a path a browser reads as another host. Run by scripts/lint.
import assert from "node:assert/strict";
import { test } from "node:test";
import { safeReturnTo } from "../../js/return-to.js";

const APP = "https://app.example";

test("safeReturnTo: dot segments that normalise to `//host` are refused", () => {
  // The URL parser removes `.` and `..` segments (also `%2e` forms) and turns `\` into
  // `/`: `/.//evil.example` is the path `//evil.example`, which a browser navigates to
  // as the host evil.example.
  for (const bad of ["/.//evil.example", "/..//evil.example", "/%2e//evil.example", "/%2E%2E//evil.example", "/a/..//evil.example/x", "/./\\evil.example", "/.\\/evil.example"]) {
    const answer = safeReturnTo(bad, APP);
    assert.equal(answer, null, `${bad} -> ${answer}`);
  }
});

test("safeReturnTo: whatever it answers stays on this origin when navigated to", () => {
  const values = ["/notes?x=1#top", "/a/./b", "/a/../b", "/%2e", "/.", "/..", "/a//b", "/./", "/.//", "/.///x", "/?//x", "/#//x"];
  for (const value of values) {
    const answer = safeReturnTo(value, APP);
    if (answer === null) continue;
    let origin;
    try {
      origin = new URL(answer, `${APP}/some/page`).origin;
    } catch {
      // `//` alone: a host that is none (no navigation on this origin either).
    }
    assert.equal(origin, APP, `${value} -> ${answer}`);
  }
  assert.equal(safeReturnTo("/notes?x=1#top", APP), "/notes?x=1#top");
  assert.equal(safeReturnTo("/a//b", APP), "/a//b");
});
