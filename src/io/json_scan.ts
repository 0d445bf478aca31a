// A bounded pre-check of JSON text before JSON.parse: nesting depth within a limit (so a
// header nested 1e5 deep is a clear error, not a stack overflow anywhere later), and no
// object with the same key twice (JSON.parse silently keeps the last; a file that names a
// tensor twice is ambiguous). One linear pass over the text; it trusts JSON.parse to reject
// whatever else is malformed.
import { check } from "../errors.js";

/** Throws a one-line DenseNetError (prefixed with `what`) if `text` nests deeper than `maxDepth` or repeats a key. */
export function checkJsonStructure(text: string, what: string, maxDepth: number): void {
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
          check(false, `${what}: header is not valid UTF-8 JSON`);
        }
        check(!top.has(key), () => `${what}: header names '${key.slice(0, 80)}' twice`);
        top.add(key);
      }
      expectKey = false;
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      // { [
      open.push(c === 0x7b ? new Set() : null);
      check(open.length <= maxDepth, `${what}: header nests deeper than ${maxDepth} levels`);
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      // } ]
      open.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      // ,
      expectKey = open[open.length - 1] instanceof Set;
    }
  }
}
