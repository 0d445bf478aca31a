// A small strict parser for the Python literals a .npy header holds: what numpy reads with
// `ast.literal_eval` (numpy.lib.format.safe_eval), restricted to the forms a header uses —
// a dict of str keys whose values are str, bool, None, non-negative int, or tuples of those.
// A dict with a repeated key keeps the last value, as Python does. Anything else (calls,
// names, lists, floats, bytes, sets) is an error naming what was found; depth and length are
// bounded, so a hostile header costs linear time.
import { DenseNetError } from "../errors.js";

export type PyLiteral = string | number | boolean | null | PyTuple | Map<string, PyLiteral>;
/** A Python tuple (a JS array marked as such). */
export interface PyTuple extends ReadonlyArray<PyLiteral> {
  readonly tuple: true;
}

const MAX_DEPTH = 16;

/** Parses `text` as one Python literal (surrounding whitespace allowed). */
export function parsePyLiteral(text: string, what: string): PyLiteral {
  const p: Parser = new Parser(text, what);
  const value = p.value(0);
  p.space();
  p.expect(p.at === text.length, "unexpected text after the literal");
  return value;
}

class Parser {
  at = 0;
  constructor(
    private readonly text: string,
    private readonly what: string,
  ) {}

  expect(condition: boolean, message: string): asserts condition {
    if (!condition) throw new DenseNetError(`${this.what}: malformed header: ${message} at character ${this.at}`);
  }

  space(): void {
    while (this.at < this.text.length && " \t\r\n\f".includes(this.text[this.at])) this.at++;
  }

  value(depth: number): PyLiteral {
    this.expect(depth < MAX_DEPTH, "nested too deeply");
    this.space();
    const c = this.text[this.at];
    this.expect(c !== undefined, "unexpected end");
    if (c === "{") return this.dict(depth);
    if (c === "(") return this.tuple(depth);
    if (c === "'" || c === '"') return this.string();
    if (c >= "0" && c <= "9") return this.integer();
    for (const [word, v] of [
      ["True", true],
      ["False", false],
      ["None", null],
    ] as const) {
      if (this.text.startsWith(word, this.at) && !/[A-Za-z0-9_]/.test(this.text[this.at + word.length] ?? "")) {
        this.at += word.length;
        return v;
      }
    }
    this.expect(false, `unsupported token ${JSON.stringify(this.text.slice(this.at, this.at + 12))}`);
  }

  private dict(depth: number): Map<string, PyLiteral> {
    this.at++; // {
    const out = new Map<string, PyLiteral>();
    for (;;) {
      this.space();
      if (this.text[this.at] === "}") {
        this.at++;
        return out;
      }
      const key = this.value(depth + 1);
      this.expect(typeof key === "string", "dict keys must be strings");
      this.space();
      this.expect(this.text[this.at] === ":", "expected ':'");
      this.at++;
      out.delete(key); // a repeated key: the last one wins, as in Python
      out.set(key, this.value(depth + 1));
      this.space();
      if (this.text[this.at] === ",") {
        this.at++;
        continue;
      }
      this.expect(this.text[this.at] === "}", "expected ',' or '}'");
    }
  }

  /** `()`, `(x,)`, `(x, y)`; a parenthesised single value `(x)` is that value, not a tuple. */
  private tuple(depth: number): PyLiteral {
    this.at++; // (
    const items: PyLiteral[] = [];
    let comma = false;
    for (;;) {
      this.space();
      if (this.text[this.at] === ")") {
        this.at++;
        if (items.length === 1 && !comma) return items[0];
        return Object.assign(items, { tuple: true as const });
      }
      items.push(this.value(depth + 1));
      this.space();
      comma = this.text[this.at] === ",";
      if (comma) {
        this.at++;
        continue;
      }
      this.expect(this.text[this.at] === ")", "expected ',' or ')'");
    }
  }

  private string(): string {
    const quote = this.text[this.at++];
    let out = "";
    for (;;) {
      const c = this.text[this.at++];
      this.expect(c !== undefined && c !== "\n", "unterminated string");
      if (c === quote) return out;
      if (c === "\\") {
        const e = this.text[this.at++];
        const simple: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", t: "\t", r: "\r", "0": "\0" };
        this.expect(e !== undefined && e in simple, "unsupported escape in a string");
        out += simple[e];
      } else {
        out += c;
      }
    }
  }

  /** A decimal integer as Python writes it (no leading zeros but 0; no sign: shapes are not negative). */
  private integer(): number {
    const m = /^[0-9]+/.exec(this.text.slice(this.at, this.at + 40))!;
    const digits = m[0];
    this.expect(!/[A-Za-z0-9_.]/.test(this.text[this.at + digits.length] ?? ""), "only plain integers are supported");
    this.expect(digits === "0" || digits[0] !== "0" || /^0+$/.test(digits), "leading zeros in an integer");
    const n = Number(digits);
    this.expect(Number.isSafeInteger(n), `integer ${digits} is too large`);
    this.at += digits.length;
    return n;
  }
}

export function isTuple(v: PyLiteral | undefined): v is PyTuple {
  return Array.isArray(v) && (v as PyTuple).tuple === true;
}
