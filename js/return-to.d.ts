/** The same-origin path `value` names (path, query and fragment), or null for anything
 * that would leave `origin`: another origin, `//host`, `/\host`, other schemes. */
export declare function safeReturnTo(value: string | null | undefined, origin: string): string | null;
