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
  - the catalog prefix awsdatacatalog is dropped (the local engine has one catalog);
  - where Trino's answer depends on a type (DATE + INTERVAL is a DATE, cardinality of a map, typeof),
    the types come from sqlglot's annotation and, for table columns, from the request's schema
    ({"table": {"column": "glue type"}}, the Glue catalog's), as Athena knows them.
Errors carry the line and column (1-based) in the user's text.
"""

import json
import logging
import os
import re
import sys

import sqlglot
from sqlglot import exp
from sqlglot.dialects.hive import Hive
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.time import format_time
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


DIALECT = sqlglot.Dialect.get_or_raise(READ)


def check_tokens(sql, tokens):
    """DuckDB-only syntax the Trino reader accepts: refused at its token, as Athena's parser would."""
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


def check_statement(tree, sql, tokens):
    first = tokens[0] if tokens else None
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
    if isinstance(node, exp.Anonymous) and node.name.lower().startswith("url_"):
        return url_function(node.name.lower(), node.expressions) or node
    if isinstance(node, exp.Anonymous) and node.name.lower() == "format_datetime" and len(node.expressions) == 2:
        # Trino's format_datetime takes a Joda-Time pattern, whose letters are Java's SimpleDateFormat's
        # (sqlglot's Hive mapping); only a literal pattern can be translated
        ts, pattern = node.expressions
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            fmt = format_time(pattern.this, Hive.TIME_MAPPING, Hive.TIME_TRIE).replace("strict", "")
            return exp.Anonymous(this="strftime", expressions=[ts, exp.Literal.string(fmt)])
        return node
    if isinstance(node, exp.ArrayDistinct):
        # DuckDB's list_distinct loses the order; Trino keeps each value's first appearance (NULL once)
        arr = node.this
        return duck("list_filter(__kl_a, (__kl_v, __kl_i) -> list_position(__kl_a, __kl_v) IS NOT DISTINCT FROM __kl_i OR (__kl_v IS NULL AND list_position(list_transform(__kl_a, __kl_w -> __kl_w IS NULL), true) = __kl_i))").transform(
            lambda n: arr.copy() if isinstance(n, exp.Column) and n.name == "__kl_a" else n
        )
    if isinstance(node, exp.RegexpReplace):
        # Trino's back-references are $1 … $9, DuckDB's \1 … \9
        rep = node.args.get("replacement")
        if isinstance(rep, exp.Literal) and rep.is_string and "$" in rep.this:
            node.set("replacement", exp.Literal.string(re.sub(r"\$(\d)", r"\\\1", rep.this)))
        return node
    return node


def duck(sql):
    return sqlglot.parse_one(sql, read=WRITE)


def url_part(url, group):
    """A part of a URL by RFC 3986's own regular expression (appendix B); NULL when absent, as in Trino."""
    rfc3986 = exp.Literal.string(r"^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?")
    present = exp.Anonymous(this="regexp_extract", expressions=[url.copy(), rfc3986, exp.Literal.number(group - 1 if group in (2, 4, 7, 9) else group)])
    part = exp.Anonymous(this="regexp_extract", expressions=[url.copy(), rfc3986, exp.Literal.number(group)])
    return exp.If(this=exp.EQ(this=present, expression=exp.Literal.string("")), true=exp.Null(), false=part)


def decoded(e):
    # Trino reads a URL with java.net.URI, whose path, query and fragment are percent-decoded ('+' kept)
    return exp.Anonymous(this="url_decode", expressions=[e])


def url_function(name, args):
    """Trino's URL functions (DuckDB has none, sqlglot translates none)."""
    url = args[0]
    if name == "url_extract_protocol":
        return url_part(url, 2)
    if name == "url_extract_path":
        return decoded(exp.Anonymous(this="regexp_extract", expressions=[url.copy(), exp.Literal.string(r"^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)"), exp.Literal.number(5)]))
    if name == "url_extract_query":
        return decoded(url_part(url, 7))
    if name == "url_extract_fragment":
        return decoded(url_part(url, 9))
    authority = url_part(url, 4)
    if name == "url_extract_host":
        host = exp.Anonymous(this="regexp_extract", expressions=[authority, exp.Literal.string(r"^(?:[^@]*@)?(\[[^\]]*\]|[^:]*)"), exp.Literal.number(1)])
        return exp.Nullif(this=host, expression=exp.Literal.string(""))
    if name == "url_extract_port":
        port = exp.Anonymous(this="regexp_extract", expressions=[authority, exp.Literal.string(r":([0-9]+)$"), exp.Literal.number(1)])
        return exp.TryCast(this=exp.Nullif(this=port, expression=exp.Literal.string("")), to=exp.DataType.build("BIGINT"))
    if name == "url_extract_parameter" and len(args) == 2:
        # the first value of the parameter in the decoded query; '' for a name without '='
        query = decoded(url_part(url, 7))
        pattern = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("(?:^|&)"), expression=exp.Anonymous(this="regexp_escape", expressions=[args[1].copy()])), expression=exp.Literal.string("(?:=([^&]*))?(?:&|$)"))
        found = exp.Anonymous(this="regexp_matches", expressions=[query.copy(), pattern.copy()])
        return exp.If(this=found, true=exp.Anonymous(this="regexp_extract", expressions=[query, pattern, exp.Literal.number(1)]), false=exp.Null())
    return None


JSON_KIND = {"number": "json_type(__kl_e) IN ('BIGINT', 'UBIGINT', 'DOUBLE')", "boolean": "json_type(__kl_e) = 'BOOLEAN'", "string": "json_type(__kl_e) = 'VARCHAR'"}
JSON_VALUE = {"number": "CAST(__kl_e AS DOUBLE)", "boolean": "CAST(__kl_e AS BOOLEAN)", "string": "json_extract_string(__kl_e, '$')"}


def json_array_contains(node, value_type):
    """Trino's json_array_contains(json, value): a top-level element of the value's JSON kind that equals it."""
    kind = "number" if value_type in NUMBERS else "boolean" if value_type == exp.DataType.Type.BOOLEAN else "string"
    value = exp.Cast(this=node.expression.copy(), to=exp.DataType.build("DOUBLE")) if kind == "number" else node.expression.copy()
    template = duck(f"list_contains(list_transform(list_filter(json_extract(__kl_j, '$[*]'), __kl_e -> {JSON_KIND[kind]}), __kl_e -> {JSON_VALUE[kind]}), __kl_v)")
    def fill(n):
        if isinstance(n, exp.Column) and n.name == "__kl_j":
            return exp.Cast(this=node.this.copy(), to=exp.DataType.build("JSON"))
        if isinstance(n, exp.Column) and n.name == "__kl_v":
            return value
        if isinstance(n, exp.JSONExtract):  # the function, not DuckDB's -> (a lambda's arrow inside a call)
            return exp.Anonymous(this="json_extract", expressions=[fill(n.this), exp.Literal.string("$[*]")])
        return n

    return template.transform(fill)


NUMBERS = {exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL}
DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


class Nodes:
    """The parsed tree's nodes by class, from one walk (a query's passes would each walk it again)."""

    def __init__(self, tree):
        self.all = list(tree.walk())
        self.by = {}
        for n in self.all:
            self.by.setdefault(type(n), []).append(n)

    def of(self, *classes):
        return [n for c in classes for n in self.by.get(c, [])]


# the nodes whose translation depends on a type (typed() below)
TYPED = (exp.DateAdd, exp.DateSub, exp.ArraySize, exp.Typeof, exp.JSONArrayContains)


class Types:
    """What Athena knows of an expression's type: sqlglot's annotation, and each table column's type
    from the Glue catalog (sqlglot cannot resolve columns without qualifying the whole query)."""

    def __init__(self, tree, nodes, schema):
        # annotated on a copy: sqlglot's DuckDB writer changes what it writes for typed nodes (it casts
        # approx_percentile of an integer to DOUBLE), and Athena's answer is the untyped translation's
        self.known = {}
        if not any(isinstance(n, TYPED) or (isinstance(n, (exp.Add, exp.Sub)) and (isinstance(n.expression, exp.Interval) or isinstance(n.this, exp.Interval))) for n in nodes.all):
            return  # nothing here depends on a type: the annotation (most of a translation's time) is skipped
        try:
            shadow = annotate_types(tree.copy(), dialect=READ)
            self.known = {id(a): b.type for a, b in zip(tree.walk(), shadow.walk())}
        except Exception:  # an unusual query: no types, the translation as sqlglot writes it
            pass
        tables = {}
        for t in nodes.of(exp.Table):
            cols = (schema or {}).get(t.name.lower())
            if cols is not None:
                tables[t.alias_or_name.lower()] = {k.lower(): v for k, v in cols.items()}
        self.tables = tables

    def column(self, col):
        name = col.name.lower()
        if col.table:
            found = [self.tables.get(col.table.lower(), {}).get(name)]
        else:
            found = list({cols[name] for cols in self.tables.values() if name in cols})
        if len(found) != 1 or found[0] is None:
            return None
        try:
            return exp.DataType.build(found[0], dialect="hive")
        except Exception:
            return None

    def of(self, node):
        if isinstance(node, exp.Column):
            return self.column(node)
        if isinstance(node, exp.Paren):
            return self.of(node.this)
        if self.is_date_arith(node):
            return exp.DataType.build("DATE")
        t = self.known.get(id(node))
        return None if t is None or t.this == exp.DataType.Type.UNKNOWN else t

    def is_date(self, node):
        t = self.of(node)
        return t is not None and t.this == exp.DataType.Type.DATE

    def is_date_arith(self, node):
        """A DATE plus or minus days, weeks, months or years: a DATE in Trino, a TIMESTAMP in DuckDB."""
        if isinstance(node, (exp.DateAdd, exp.DateSub)):
            unit = node.args.get("unit")
            return (unit is None or unit.name.upper() in DATE_UNITS) and self.is_date(node.this)
        if isinstance(node, (exp.Add, exp.Sub)):
            for base, step in ((node.this, node.expression), (node.expression, node.this)):
                if isinstance(step, exp.Interval) and (step.unit is None or step.unit.name.upper() in DATE_UNITS) and self.is_date(base):
                    return True
        return False

    def trino_name(self, node):
        if isinstance(node, exp.Literal) and node.is_string:
            return f"varchar({len(node.this)})"
        t = self.of(node)
        return None if t is None else t.sql(dialect=READ).lower().replace(", ", ",")


def typed(nodes, types):
    """The translations that depend on a type: wrap, in place, what DuckDB would type otherwise."""
    for node in nodes.of(exp.DateAdd, exp.DateSub, exp.Add, exp.Sub):
        if types.is_date_arith(node) and not isinstance(node.parent, exp.Cast):
            cast = exp.Cast(to=exp.DataType.build("DATE"))
            node.replace(cast)
            cast.set("this", node)
    for node in nodes.of(exp.ArraySize):
        t = types.of(node.this)
        if t is not None and t.this == exp.DataType.Type.MAP:
            node.replace(exp.Anonymous(this="cardinality", expressions=[node.this]))
    for node in nodes.of(exp.Typeof):
        name = types.trino_name(node.this)
        if name is not None:
            node.replace(exp.Literal.string(name))
        else:  # DuckDB's own name, lower-cased as Trino names its types
            node.replace(duck("lower(replace(replace(typeof(__kl_x), 'VARCHAR', 'varchar'), 'FLOAT', 'real'))").transform(lambda n: node.this.copy() if isinstance(n, exp.Column) and n.name == "__kl_x" else n))
    for node in nodes.of(exp.JSONArrayContains):
        t = types.of(node.expression)
        node.replace(json_array_contains(node, t.this if t is not None else None))


HIDDEN = {"$path", "$file_size"}


def hidden_columns(nodes, schema):
    """Athena's "$path" and "$file_size": the engine keeps a table's rows in "<table>$hidden" with them,
    and the table's name is a view without them (so SELECT * has none); a query naming one reads the
    former under the table's name."""
    if not any(c.name.lower() in HIDDEN for c in nodes.of(exp.Column)):
        return
    tables = {k.lower() for k in (schema or {})}
    ctes = {c.alias_or_name.lower() for c in nodes.of(exp.CTE)}
    for t in nodes.of(exp.Table):
        if t.name.lower() in tables and t.name.lower() not in ctes:
            if not t.alias:
                t.set("alias", exp.TableAlias(this=exp.to_identifier(t.name)))
            t.set("this", exp.to_identifier(f"{t.name}$hidden", quoted=True))


def drop_catalog(nodes):
    for t in nodes.of(exp.Table):
        catalog = t.args.get("catalog")
        if catalog is not None and catalog.name.lower() == "awsdatacatalog":
            t.set("catalog", None)


def transpile(sql, schema=None):
    # tokenized once: the checks and the parser read the same tokens
    tokens = DIALECT.tokenize(sql)
    check_tokens(sql, tokens)
    trees = [t for t in DIALECT.parser().parse(tokens, sql) if t is not None]
    if len(trees) != 1:
        raise Refused("SYNTAX_ERROR", "no statement" if not trees else f"{len(trees)} statements: run one query at a time")
    tree = trees[0]
    check_statement(tree, sql, tokens)
    name_columns(tree)  # first: it replaces unnamed columns by aliased copies
    nodes = Nodes(tree)  # one walk of the named tree serves every pass below
    drop_catalog(nodes)
    typed(nodes, Types(tree, nodes, schema))
    hidden_columns(nodes, schema)
    tree = tree.transform(fill_gaps, copy=False)  # the tree is ours: transformed in place
    return tree.sql(dialect=WRITE, copy=False)  # the tree is ours: no copy to write it


def answer(req):
    sql = req.get("sql", "")
    try:
        return {"ok": True, "sql": transpile(sql, req.get("schema"))}
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
