// The few Playwright locators the suites use (getByLabel, getByRole("button"),
// locator("body")), emulated for the engines driven without Playwright: found and
// acted on inside the page, retried until the element exists, as Playwright waits.
import { setTimeout as sleep } from "node:timers/promises";

/** In the page: the element a locator names, or null. */
function find({ kind, text }) {
  const clean = (s) => (s ?? "").replace(/\s+/g, " ").trim();
  if (kind === "body") return document.body;
  if (kind === "label") {
    for (const label of document.querySelectorAll("label")) {
      if (clean(label.textContent) !== text && !clean(label.textContent).startsWith(text)) continue;
      const control = label.control ?? (label.htmlFor && document.getElementById(label.htmlFor)) ?? label.querySelector("input, textarea, select");
      if (control) return control;
    }
    return document.querySelector(`[aria-label="${CSS.escape(text)}"]`);
  }
  if (kind === "button") {
    const buttons = [...document.querySelectorAll("button, input[type=submit], [role=button]")];
    return buttons.find((b) => clean(b.textContent || b.value || b.getAttribute("aria-label")) === text) ?? null;
  }
  return null;
}

/** In the page: act on the element; false when it is not there yet. */
function act({ locator, action, value }, find) {
  const el = find(locator);
  if (!el) return { found: false };
  if (action === "fill") {
    el.focus();
    el.value = value;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
    return { found: true };
  }
  if (action === "click") {
    // After this call returns: the click may navigate away and end this script.
    setTimeout(() => el.click(), 0);
    return { found: true };
  }
  return { found: true, text: el.innerText };
}

/** The source of a one-argument function that runs `act` with `find` in the page. */
const ACT = `(arg) => (${act})(arg, ${find})`;

/** Locators over `evaluate(source, arg)`, a function that runs `source` (an
 * expression of a one-argument function) in the page and returns its result. */
export function locators(evaluate) {
  const locator = (spec) => {
    const run = async (action, value, timeout = 30_000) => {
      const deadline = Date.now() + timeout;
      for (;;) {
        const result = await evaluate(ACT, { locator: spec, action, value }).catch(() => ({ found: false }));
        if (result?.found) return result;
        if (Date.now() > deadline) throw new Error(`no element for ${JSON.stringify(spec)}`);
        await sleep(100);
      }
    };
    return {
      fill: (value) => run("fill", value),
      click: () => run("click"),
      innerText: async () => (await run("text")).text,
      waitFor: () => run("text"),
    };
  };
  return {
    getByLabel: (text) => locator({ kind: "label", text }),
    getByRole: (role, { name } = {}) => {
      if (role !== "button") throw new Error(`getByRole(${role}) is not emulated`);
      return locator({ kind: "button", text: name });
    },
    locator: (selector) => {
      if (selector !== "body") throw new Error(`locator(${selector}) is not emulated`);
      return locator({ kind: "body" });
    },
  };
}

/** Playwright's waitForURL: a URL string or a predicate on a URL object. */
export async function waitForUrl(currentUrl, expected, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  const matches = (href) => (typeof expected === "function" ? expected(new URL(href)) : href === expected);
  for (;;) {
    const href = await currentUrl().catch(() => "about:blank");
    if (matches(href)) return;
    if (Date.now() > deadline) throw new Error(`waitForURL: still at ${href}`);
    await sleep(50);
  }
}
