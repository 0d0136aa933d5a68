// DuckDB's multi-line errors as one Athena-style line: "SYNTAX_ERROR: line 1:10: ...". The position
// comes from DuckDB's "LINE n: <excerpt>" and caret, placed back in the user's own query text.
import { KafkalakeError } from '../../lib/errors.js';

/** Line and column (1-based) of DuckDB's caret in the query, if its message shows one. */
export function errorPosition(message: string, sql: string): { line: number; column: number } | undefined {
  const m = /\nLINE (\d+): (.*)\n( *)\^/.exec(message);
  if (!m) return undefined;
  const line = Number(m[1]);
  const prefix = `LINE ${m[1]}: `.length;
  let excerpt = m[2]!;
  let caret = m[3]!.length - prefix;
  if (excerpt.startsWith('...')) {
    excerpt = excerpt.slice(3);
    caret -= 3;
  }
  if (excerpt.endsWith('...')) excerpt = excerpt.slice(0, -3);
  const text = sql.split('\n')[line - 1] ?? '';
  const at = text.indexOf(excerpt);
  if (at >= 0) return { line, column: at + caret + 1 };
  // the excerpt is of the text DuckDB ran, sqlglot's translation (names upper-cased, casts spelled out):
  // the word at the caret, where the user's text has it once, is the place
  const word = /^(?:[A-Za-z_][A-Za-z0-9_]*|"(?:[^"]|"")*"|'(?:[^']|'')*')/.exec(excerpt.slice(caret))?.[0];
  return word ? onlyPlace(sql, word) : undefined;
}

/** Line and column of the one place `word` stands in `sql` (case-insensitive, as a whole word), if one. */
function onlyPlace(sql: string, word: string): { line: number; column: number } | undefined {
  const esc = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const edge = /^[A-Za-z_]/.test(word) ? ['(?<![A-Za-z0-9_"])', '(?![A-Za-z0-9_])'] : ['', ''];
  const hits = sql.split('\n').flatMap((l, i) => [...l.matchAll(new RegExp(`${edge[0]}${esc}${edge[1]}`, 'gi'))].map((m) => ({ line: i + 1, column: (m.index ?? 0) + 1 })));
  return hits.length === 1 ? hits[0] : undefined;
}

const KINDS: Array<[RegExp, string]> = [
  [/^Parser Error: /, 'SYNTAX_ERROR'],
  [/^Catalog Error: Table with name /, 'TABLE_NOT_FOUND'],
  [/^Catalog Error: /, 'NOT_FOUND'],
  [/^Binder Error: /, 'COLUMN_OR_TYPE_ERROR'],
  [/^Conversion Error: /, 'INVALID_CAST'],
  [/^Out of Range Error: /, 'NUMERIC_VALUE_OUT_OF_RANGE'],
  [/^Permission Error: /, 'PERMISSION_DENIED'],
  [/^Invalid Input Error: /, 'INVALID_INPUT'],
  [/^Out of Memory Error: /, 'EXCEEDED_MEMORY_LIMIT'],
];

export class QueryError extends KafkalakeError {
  constructor(message: string, where: string, cause?: unknown) {
    super(message, { where, cause, explainsCause: true });
    this.name = 'QueryError';
  }
}

/** One line: "<KIND>: line L:C: <DuckDB's first line>". */
export function queryError(err: unknown, sql: string, where: string, database: string): QueryError {
  const message = err instanceof Error ? err.message : String(err);
  const first = (message.split('\n')[0] ?? '').trim().replace(/^Failed to extract statements: /, '');
  const kind = KINDS.find(([re]) => re.test(first));
  let text = kind ? first.replace(/^[A-Za-z ]+ Error: /, '') : first;
  const table = /^Table with name (\S+) does not exist!?/.exec(text);
  if (table) text = `table ${table[1]} does not exist in database ${database}`;
  text = text.replace(/!$/, '');
  const pos = errorPosition(message, sql);
  return new QueryError(`${kind?.[1] ?? 'QUERY_FAILED'}: ${pos ? `line ${pos.line}:${pos.column}: ` : ''}${text}`, where, err);
}
