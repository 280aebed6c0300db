// The part of Playwright's locators the suites use, emulated for the engines driven
// without Playwright: getByLabel, getByRole (button, heading, link, alert, main),
// getByTestId, getByText, locator(css, { hasText }), filter({ hasText }), first(), and
// fill, click, innerText, getAttribute, count, waitFor. Found and acted on inside the
// page, retried until the element exists, as Playwright waits. Text and names match as
// Playwright's do by default: whitespace-normalised, case-insensitive substrings (an
// exact name is preferred when several elements match).
import { setTimeout as sleep } from "node:timers/promises";

/** In the page: every element a chain of steps names, in document order. */
function findAll(steps) {
  const clean = (s) => (s ?? "").replace(/\s+/g, " ").trim();
  const contains = (haystack, needle) => clean(haystack).toLowerCase().includes(clean(needle).toLowerCase());
  const ROLES = {
    button: "button, input[type=submit], input[type=button], input[type=reset], [role=button]",
    heading: "h1, h2, h3, h4, h5, h6, [role=heading]",
    link: "a[href], [role=link]",
    alert: "[role=alert]",
    main: "main, [role=main]",
  };
  const nameOf = (el) => clean(el.getAttribute("aria-label") || el.textContent || el.value);
  const within = (root, step) => {
    if (step.kind === "body") return [document.body];
    if (step.kind === "css") return [...root.querySelectorAll(step.selector)];
    if (step.kind === "label") {
      const found = [];
      for (const label of root.querySelectorAll("label")) {
        if (clean(label.textContent) !== step.text && !clean(label.textContent).startsWith(step.text)) continue;
        const control = label.control ?? (label.htmlFor && document.getElementById(label.htmlFor)) ?? label.querySelector("input, textarea, select");
        if (control) found.push(control);
      }
      return found.length ? found : [...root.querySelectorAll(`[aria-label="${CSS.escape(step.text)}"]`)];
    }
    if (step.kind === "role") {
      const all = [...root.querySelectorAll(ROLES[step.role])];
      if (step.name === undefined) return all;
      const exact = all.filter((el) => nameOf(el) === step.name);
      return exact.length ? exact : all.filter((el) => contains(nameOf(el), step.name));
    }
    if (step.kind === "testid") return [...root.querySelectorAll(`[data-testid="${CSS.escape(step.text)}"]`)];
    if (step.kind === "text") {
      // The innermost elements whose text contains it, the scope itself included (as
      // Playwright's: getByRole("alert").getByText(...) finds the alert's own text).
      const scope = root instanceof Element ? [root] : [];
      const all = [...scope, ...root.querySelectorAll("*")].filter((el) => el.tagName !== "SCRIPT" && el.tagName !== "STYLE" && contains(el.textContent, step.text));
      return all.filter((el) => !all.some((other) => other !== el && el.contains(other)));
    }
    if (step.kind === "hasText") return contains(root.textContent, step.text) ? [root] : [];
    return [];
  };
  let current = [document];
  for (const step of steps) {
    if (step.kind === "first") current = current.slice(0, 1);
    else current = [...new Set(current.flatMap((root) => within(root, step)))];
  }
  return current;
}

/** In the page: act on the element; `found: false` when it is not there yet. */
function act({ steps, action, value }, findAll) {
  const all = findAll(steps);
  if (action === "count") return { found: true, count: all.length };
  const el = all.find((e) => e.getClientRects().length > 0) ?? all[0];
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
  if (action === "attribute") return { found: true, value: el.getAttribute(value) };
  return { found: true, text: el.innerText };
}

/** The source of a one-argument function that runs `act` with `findAll` in the page. */
const ACT = `(arg) => (${act})(arg, ${findAll})`;

/** Locators over `evaluate(source, arg)`, a function that runs `source` (an
 * expression of a one-argument function) in the page and returns its result. */
export function locators(evaluate) {
  const within = (steps) => ({
    getByLabel: (text) => locator([...steps, { kind: "label", text }]),
    getByRole: (role, { name } = {}) => {
      if (!["button", "heading", "link", "alert", "main"].includes(role)) throw new Error(`getByRole(${role}) is not emulated`);
      return locator([...steps, { kind: "role", role, name }]);
    },
    getByTestId: (text) => locator([...steps, { kind: "testid", text }]),
    getByText: (text) => locator([...steps, { kind: "text", text }]),
    locator: (selector, { hasText } = {}) => {
      const step = selector === "body" ? { kind: "body" } : { kind: "css", selector };
      return locator([...steps, step, ...(hasText === undefined ? [] : [{ kind: "hasText", text: hasText }])]);
    },
  });
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
      getAttribute: async (name) => (await run("attribute", name)).value,
      /** Now, without waiting, as Playwright's count. */
      count: async () => (await evaluate(ACT, { steps, action: "count" })).count,
      waitFor: async ({ timeout } = {}) => {
        await run("text", undefined, timeout);
      },
      first: () => locator([...steps, { kind: "first" }]),
      filter: ({ hasText }) => locator([...steps, { kind: "hasText", text: hasText }]),
      ...within(steps),
    };
  };
  return within([]);
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
