"""Athena (Trino) SQL to DuckDB SQL, by sqlglot, for kafkalake's local query engine.

A long-lived worker: one JSON request per line on stdin, {"id": 1, "sql": "..."}, one JSON answer per
line on stdout, in order:
  {"id": 1, "ok": true, "sql": "<DuckDB SQL>"}
  {"id": 1, "ok": false, "kind": "SYNTAX_ERROR", "line": 1, "column": 8, "message": "..."}

What it adds to sqlglot's transpile (read="trino", write="duckdb"):
  - one statement only;
  - DuckDB-only syntax that sqlglot's Trino reader lets through is refused as Athena refuses it
    (`::` casts, `SELECT * EXCLUDE/REPLACE`, DuckDB's statements), and so is a call of a function
    Trino does not document (trino-functions.txt), though DuckDB may have it (list_sum, strftime);
  - unnamed result columns are named as Athena names them: _col0, _col1, ... by position;
  - the catalog prefix awsdatacatalog is dropped (the local engine has one catalog).
Errors carry the line and column (1-based) in the user's text.
"""

import json
import logging
import os
import re
import sys

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to a Command" (SHOW, EXPLAIN) is expected

READ = "trino"
WRITE = "duckdb"


class Refused(Exception):
    def __init__(self, kind, message, line=None, column=None):
        super().__init__(message)
        self.kind = kind
        self.line = line
        self.column = column


def position(sql, offset):
    """1-based line and column of a character offset."""
    before = sql[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def load_functions():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "trino-functions.txt"), encoding="utf-8") as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


# Trino's documented functions, and the constructs that read like calls (a type's length, GROUPING)
TRINO_FUNCTIONS = load_functions() | {"grouping", "row", "array", "rollup", "cube"}
# a name followed by "(" after these is no call: a table alias's column list, a type's length
NOT_A_CALL_AFTER = {TokenType.R_PAREN, TokenType.VAR, TokenType.ALIAS, TokenType.STRING, TokenType.DOT}
CALL_TOKENS = {TokenType.VAR, TokenType.LEFT, TokenType.RIGHT}
# "[" is Trino's subscript after these, and its array constructor after ARRAY; anywhere else, DuckDB's list
SUBSCRIPTED = {TokenType.VAR, TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.ARRAY}


def check_tokens(sql):
    """DuckDB-only syntax the Trino reader accepts: refused at its token, as Athena's parser would."""
    tokens = sqlglot.tokenize(sql, read=READ)
    for i, tok in enumerate(tokens):
        after_star = i > 0 and tokens[i - 1].token_type == TokenType.STAR
        call = tok.token_type in CALL_TOKENS and i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.L_PAREN and not after_star
        if call and (i == 0 or tokens[i - 1].token_type not in NOT_A_CALL_AFTER) and tok.text.lower() not in TRINO_FUNCTIONS:
            line, col = position(sql, tok.start)
            raise Refused("FUNCTION_NOT_FOUND", f"Function '{tok.text}' not registered", line, col)
        if i == 0 and tok.token_type == TokenType.FROM:
            raise Refused("SYNTAX_ERROR", "mismatched input 'FROM'. Athena's queries begin with SELECT, WITH or VALUES", 1, position(sql, tok.start)[1])
        if tok.token_type == TokenType.L_BRACE:
            line, col = position(sql, tok.start)
            raise Refused("SYNTAX_ERROR", "mismatched input '{'. Athena writes a row as ROW(...) or CAST(ROW(...) AS ROW(...))", line, col)
        if tok.token_type == TokenType.L_BRACKET and (i == 0 or tokens[i - 1].token_type not in SUBSCRIPTED):
            line, col = position(sql, tok.start)
            raise Refused("SYNTAX_ERROR", "mismatched input '['. Athena writes an array as ARRAY[...]", line, col)
        if tok.text.upper() == "SAMPLE" and i > 0 and tokens[i - 1].token_type == TokenType.USING:
            line, col = position(sql, tokens[i - 1].start)
            raise Refused("SYNTAX_ERROR", "mismatched input 'USING'. Athena samples with TABLESAMPLE", line, col)
        if tok.token_type == TokenType.DCOLON:
            line, col = position(sql, tok.start)
            raise Refused("SYNTAX_ERROR", "mismatched input '::'. Athena casts with CAST(x AS type)", line, col)
        if tok.text.upper() in ("EXCLUDE", "REPLACE", "EXCEPT") and i > 0 and tokens[i - 1].token_type == TokenType.STAR:
            line, col = position(sql, tok.start)
            raise Refused("SYNTAX_ERROR", f"mismatched input '{tok.text}'. Athena has no SELECT * {tok.text.upper()}", line, col)


# statements Athena's parser knows (what it then refuses to run locally, DuckDB's statement check says);
# anything else is a syntax error at its first word, as on Athena (INSTALL, LOAD, PRAGMA, COPY, ATTACH)
STATEMENTS = tuple(getattr(exp, n) for n in ("Query", "Values", "DDL", "DML", "Describe", "Set", "Use", "Transaction", "Commit", "Rollback", "Drop", "Show") if hasattr(exp, n))
NOT_TRINO = tuple(getattr(exp, n) for n in ("Pragma", "Copy") if hasattr(exp, n))
TRINO_COMMANDS = {"SHOW", "EXPLAIN", "DESCRIBE", "DESC", "USE", "SET", "RESET", "CALL", "PREPARE", "EXECUTE", "DEALLOCATE", "GRANT", "REVOKE", "DENY", "COMMENT", "ANALYZE", "MSCK", "UNLOAD", "VACUUM", "OPTIMIZE", "ALTER", "CREATE", "DROP", "INSERT", "DELETE", "UPDATE", "MERGE", "START", "COMMIT", "ROLLBACK", "TRUNCATE"}


def check_statement(tree, sql):
    first = next((t for t in sqlglot.tokenize(sql, read=READ)), None)
    word = first.text if first else sql.strip().split(" ")[0]
    known = isinstance(tree, STATEMENTS) and not isinstance(tree, NOT_TRINO)
    if isinstance(tree, exp.Command):
        known = str(tree.this).upper() in TRINO_COMMANDS
    if not known:
        line, col = position(sql, first.start) if first else (1, 1)
        raise Refused("SYNTAX_ERROR", f"mismatched input '{word}': not a statement Athena runs", line, col)


def first_select(node):
    """The SELECT whose select list names the result's columns (the leftmost of a set operation)."""
    while isinstance(node, exp.SetOperation):
        node = node.left
    if isinstance(node, exp.Subquery):
        return first_select(node.this)
    return node if isinstance(node, exp.Select) else None


def name_columns(tree):
    select = first_select(tree)
    if select is None:
        return
    for i, e in enumerate(select.expressions):
        if isinstance(e, (exp.Alias, exp.Column, exp.Star)) or (isinstance(e, exp.Dot) and isinstance(e.expression, exp.Identifier)):
            continue
        e.replace(exp.alias_(e.copy(), f"_col{i}", quoted=False))


# Trino functions sqlglot 30.31 passes to DuckDB by the Trino name (no such DuckDB function) or with
# Trino's arguments: what only this layer knows. Each is a case of the conformance suite
# (test/helpers/sql-conformance.ts); sqlglot's own translation is used everywhere else.
RENAMED = {"codepoint": "unicode", "hamming_distance": "hamming"}


def fill_gaps(node):
    if isinstance(node, exp.Anonymous) and node.name.lower() in RENAMED:
        return exp.Anonymous(this=RENAMED[node.name.lower()], expressions=node.expressions)
    if isinstance(node, exp.Format):
        # Trino's format() is Java's String.format (%s, %d, %.2f): DuckDB's printf, not its fmt-style format()
        return exp.Anonymous(this="printf", expressions=[node.this, *node.expressions])
    if isinstance(node, exp.ArraySlice) and node.args.get("end") is not None:
        # Trino's slice(array, start, length): sqlglot reads the length as the end
        start, length = node.args["start"], node.args["end"]
        node.set("end", exp.Sub(this=exp.Add(this=start.copy(), expression=length.copy()), expression=exp.Literal.number(1)))
        return node
    if isinstance(node, exp.RegexpReplace):
        # Trino's back-references are $1 … $9, DuckDB's \1 … \9
        rep = node.args.get("replacement")
        if isinstance(rep, exp.Literal) and rep.is_string and "$" in rep.this:
            node.set("replacement", exp.Literal.string(re.sub(r"\$(\d)", r"\\\1", rep.this)))
        return node
    return node


def drop_catalog(tree):
    for t in tree.find_all(exp.Table):
        catalog = t.args.get("catalog")
        if catalog is not None and catalog.name.lower() == "awsdatacatalog":
            t.set("catalog", None)


def transpile(sql):
    check_tokens(sql)
    trees = [t for t in sqlglot.parse(sql, read=READ) if t is not None]
    if len(trees) != 1:
        raise Refused("SYNTAX_ERROR", "no statement" if not trees else f"{len(trees)} statements: run one query at a time")
    tree = trees[0]
    check_statement(tree, sql)
    drop_catalog(tree)
    name_columns(tree)
    tree = tree.transform(fill_gaps)
    return tree.sql(dialect=WRITE)


def answer(req):
    sql = req.get("sql", "")
    try:
        return {"ok": True, "sql": transpile(sql)}
    except Refused as e:
        return {"ok": False, "kind": e.kind, "line": e.line, "column": e.column, "message": str(e)}
    except ParseError as e:
        err = (e.errors or [{}])[0]
        line, col, hl = err.get("line"), err.get("col"), err.get("highlight") or ""
        # sqlglot's column is the end of the token it stopped at; Athena names the token's start
        start = col - len(hl) + 1 if isinstance(col, int) and hl else col
        near = f"mismatched input '{hl}'" if hl else "syntax error"
        return {"ok": False, "kind": "SYNTAX_ERROR", "line": line, "column": start, "message": f"{near}: {err.get('description') or str(e).splitlines()[0]}"}
    except TokenError as e:
        return {"ok": False, "kind": "SYNTAX_ERROR", "line": None, "column": None, "message": str(e).splitlines()[0]}
    except RecursionError:
        return {"ok": False, "kind": "QUERY_FAILED", "line": None, "column": None, "message": "the query is nested too deeply to parse"}
    except Exception as e:  # one bad query never stops the worker
        return {"ok": False, "kind": "QUERY_FAILED", "line": None, "column": None, "message": f"cannot translate the query: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}


def main():
    sys.stdout.write(json.dumps({"ready": True, "sqlglot": sqlglot.__version__}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError:
            continue
        out = answer(req)
        out["id"] = req.get("id")
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
