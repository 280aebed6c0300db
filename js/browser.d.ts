// auth-wasm's browser entry (browser.js): the same API as index.js.
export * from "./index.js";
