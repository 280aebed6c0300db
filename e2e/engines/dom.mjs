// The few Playwright locators the suites use (getByLabel, getByRole("button"),
// getByTestId, getByText, filter({ hasText }), locator("body")), emulated for the
// engines driven without Playwright: found and acted on inside the page, retried until
// the element exists, as Playwright waits.
import { setTimeout as sleep } from "node:timers/promises";

/** In the page: the element a chain of steps names, or null. */
function find(steps) {
  const clean = (s) => (s ?? "").replace(/\s+/g, " ").trim();
  const visible = (el) => el.getClientRects().length > 0;
  const within = (root, step) => {
    if (step.kind === "body") return [document.body];
    if (step.kind === "label") {
      const found = [];
      for (const label of root.querySelectorAll("label")) {
        if (clean(label.textContent) !== step.text && !clean(label.textContent).startsWith(step.text)) continue;
        const control = label.control ?? (label.htmlFor && document.getElementById(label.htmlFor)) ?? label.querySelector("input, textarea, select");
        if (control) found.push(control);
      }
      return found.length ? found : [...root.querySelectorAll(`[aria-label="${CSS.escape(step.text)}"]`)];
    }
    if (step.kind === "button") {
      return [...root.querySelectorAll("button, input[type=submit], [role=button]")].filter((b) => clean(b.textContent || b.value || b.getAttribute("aria-label")) === step.text);
    }
    if (step.kind === "testid") return [...root.querySelectorAll(`[data-testid="${CSS.escape(step.text)}"]`)];
    if (step.kind === "text") {
      // The innermost elements whose text contains it.
      const all = [...root.querySelectorAll("*")].filter((el) => clean(el.textContent).includes(step.text));
      return all.filter((el) => !all.some((other) => other !== el && el.contains(other)));
    }
    if (step.kind === "hasText") return clean(root.textContent).includes(step.text) ? [root] : [];
    return [];
  };
  let current = [document];
  for (const step of steps) current = current.flatMap((root) => within(root, step));
  return current.find(visible) ?? current[0] ?? null;
}

/** In the page: act on the element; `found: false` when it is not there yet. */
function act({ steps, action, value }, find) {
  const el = find(steps);
  if (!el) return { found: false };
  if (action === "fill") {
    el.focus();
    // Through the prototype's setter, so a React-controlled input sees the change.
    const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, "value").set.call(el, value);
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
    return { found: true };
  }
  if (action === "click") {
    if (el.disabled) return { found: false };
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
  const locator = (steps) => {
    const run = async (action, value, timeout = 30_000) => {
      const deadline = Date.now() + timeout;
      for (;;) {
        const result = await evaluate(ACT, { steps, action, value }).catch(() => ({ found: false }));
        if (result?.found) return result;
        if (Date.now() > deadline) throw new Error(`no element for ${JSON.stringify(steps)}`);
        await sleep(100);
      }
    };
    return {
      fill: (value) => run("fill", value),
      click: () => run("click"),
      innerText: async () => (await run("text")).text,
      waitFor: async () => {
        await run("text");
      },
      filter: ({ hasText }) => locator([...steps, { kind: "hasText", text: hasText }]),
      getByText: (text) => locator([...steps, { kind: "text", text }]),
    };
  };
  return {
    getByLabel: (text) => locator([{ kind: "label", text }]),
    getByRole: (role, { name } = {}) => {
      if (role !== "button") throw new Error(`getByRole(${role}) is not emulated`);
      return locator([{ kind: "button", text: name }]);
    },
    getByTestId: (text) => locator([{ kind: "testid", text }]),
    getByText: (text) => locator([{ kind: "text", text }]),
    locator: (selector) => {
      if (selector !== "body") throw new Error(`locator(${selector}) is not emulated`);
      return locator([{ kind: "body" }]);
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
