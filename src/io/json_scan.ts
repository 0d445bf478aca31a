// JSON text parsed with two checks JSON.parse does not make: nesting depth within a limit (so
// a header nested 1e5 deep is a clear error, not a stack overflow anywhere later), and no
// object with the same key twice (JSON.parse silently keeps the last; a file that names a
// tensor twice is ambiguous). A header is read once, before V8 has compiled any of this, so
// the work is left to JSON.parse and native string passes where it can be (a character loop
// in JavaScript took ~10 ms on DenseNet-121's 83 KB header; this takes ~2 ms).
import { check } from "../errors.js";

/** A JSON string, quotes included (an unterminated one is left to JSON.parse to reject). */
const STRING = /"(?:[^"\\]|\\.)*"/g;
/** Outside strings, a colon follows a key and nothing else. */
const NOT_COLON = /[^:]+/g;

/**
 * JSON.parse(text), or a one-line DenseNetError (prefixed with `what`) if `text` is not JSON,
 * nests deeper than `maxDepth` or repeats a key in an object. `invalid` is the message for
 * text JSON.parse refuses. (V8's JSON.parse nests without recursion, so the depth is checked
 * on what it gives, before anything recursive sees it.)
 */
export function parseCheckedJson(text: string, what: string, maxDepth: number, invalid: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    check(false, `${what}: ${invalid}`);
  }
  const keys = countKeys(parsed, what, maxDepth);
  // JSON.parse keeps one of each repeated key: fewer keys parsed than the text has colons
  // outside strings means a repeat. Colons are counted in the whole text first (the common
  // case, no colon inside a string), then outside strings, then the repeat is found by name.
  if (colons(text) === keys) return parsed;
  if (colons(text.replace(STRING, '""')) !== keys) checkRepeatedKeys(text, what, invalid);
  return parsed;
}

const colons = (text: string) => text.replace(NOT_COLON, "").length;

/** Keys of every object in a parsed JSON value (JSON.parse makes no inherited keys); throws past `maxDepth` levels of nesting. */
function countKeys(value: unknown, what: string, maxDepth: number): number {
  let keys = 0;
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 1 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > maxDepth) check(false, `${what}: header nests deeper than ${maxDepth} levels`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof x === "object" && x !== null) stack.push({ v: x, depth: depth + 1 });
      }
    } else {
      for (const key in v) {
        keys++;
        const x: unknown = (v as Record<string, unknown>)[key];
        if (typeof x === "object" && x !== null) stack.push({ v: x, depth: depth + 1 });
      }
    }
  }
  return keys;
}

/** Finds the repeated key (one linear pass over the text, keys read as JSON reads them) and throws naming it. */
function checkRepeatedKeys(text: string, what: string, invalid: string): void {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: find its end, honouring escapes
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c ? 2 : 1;
      const top = open[open.length - 1];
      if (expectKey && top) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          check(false, `${what}: ${invalid}`);
        }
        check(!top.has(key), () => `${what}: header names '${key.slice(0, 80)}' twice`);
        top.add(key);
      }
      expectKey = false;
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      open.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = open[open.length - 1] instanceof Set;
    }
  }
}
