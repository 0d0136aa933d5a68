// What every stage refuses in a JSON record beyond its syntax (glue/README.md, "Odd records"):
// - nesting deeper than MAX_JSON_DEPTH levels, or a number of more than MAX_JSON_NUMBER_DIGITS digits:
//   the limits of Jackson (StreamReadConstraints), the JSON reader of Spark and so of the Glue job, to
//   which such a record is no JSON. The consumer refuses them, and the DuckDB executor reads them as
//   Spark does ("not a JSON object");
// - a \u escape that is half of a surrogate pair: no character (DuckDB refuses the line, Spark reads
//   its fields as missing), so no stage reads it;
// - an object with the same key twice at its top level: which value counts differs between readers
//   (JSON.parse and Spark's json_tuple keep the last, DuckDB's json_extract the first), so no stage guesses.
export const MAX_JSON_DEPTH = 1000;
export const MAX_JSON_NUMBER_DIGITS = 1000;

export interface JsonShape {
  /** the deepest nesting; the top-level object or array is 1 */
  depth: number;
  /** the most digits in one number (its sign, point and exponent mark not counted) */
  digits: number;
  /** the first top-level key seen a second time, or null */
  duplicate: string | null;
  /** a \u escape that is half of a surrogate pair, alone (as `\ud800`): no character */
  loneSurrogate: boolean;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isNumberChar = (c: number) => isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d; // . e E + -

/**
 * The shape of a text that JSON.parse accepted (so valid JSON: no syntax is checked here). One pass,
 * no recursion, so any depth.
 */
export function jsonShape(text: string): JsonShape {
  let depth = 0;
  let maxDepth = 0;
  let digits = 0;
  let duplicate: string | null = null;
  let loneSurrogate = false;
  const keys = new Set<string>();
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          i += 2;
          continue;
        }
        if (d === QUOTE) break;
        i++;
      }
      const end = i; // the closing quote
      i++;
      // only an escape can make a surrogate alone: the text itself is well-formed UTF-16 from UTF-8
      if (escaped && !loneSurrogate && /\\u[dD][89a-fA-F]/.test(text.slice(start, end))) {
        loneSurrogate = LONE_SURROGATE.test(JSON.parse(text.slice(start, end + 1)) as string);
      }
      if (depth === 1 && duplicate === null) {
        let j = i;
        while (j < n && (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x09 || text.charCodeAt(j) === 0x0a || text.charCodeAt(j) === 0x0d)) j++;
        if (text.charCodeAt(j) === 0x3a) {
          const key = escaped ? (JSON.parse(text.slice(start, end + 1)) as string) : text.slice(start + 1, end);
          if (keys.has(key)) duplicate = key;
          else keys.add(key);
        }
      }
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > maxDepth) maxDepth = depth;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (isDigit(c) || c === 0x2d) {
      let count = 0;
      while (i < n && isNumberChar(text.charCodeAt(i))) {
        if (isDigit(text.charCodeAt(i))) count++;
        i++;
      }
      if (count > digits) digits = count;
      continue;
    }
    i++;
  }
  return { depth: maxDepth, digits, duplicate, loneSurrogate };
}
