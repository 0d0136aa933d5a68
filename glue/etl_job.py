"""kafkalake ETL job: staging JSON lines -> partitioned Snappy Parquet lake, protocol v3.

AWS Glue 5.0 (Spark 3.5, Python 3.11) runs this script; the tests and benchmarks run it under pyspark
3.5 in local mode on file paths. It interprets the job specs of glue/tables/*.json exactly as the local
DuckDB executor (daemons/local/etl/) does, reads and writes the same bookmark, and writes the same lake:
glue/README.md, "The write path, protocol v3", is the specification (layout, formats, crash points).

Per table, one run (`--kafkalake_action etl`, the default):
  0. delete the retired generations (_state/lake/<table>/_retired.json) older than the retention, never
     a partition's current location;
  1. list the staging objects the bookmark (_state/<job>.json) does not count merged (per Kafka
     partition the offsets of the newest object merged, and `listFrom`, the first dt= prefix to list:
     the same rule as daemons/lib/etl/state.ts); parse and cast each line per the spec; a row that fails
     goes to the DLQ object named after its staging object, with the reason (never a silent NULL);
  2. per partition the batch touches: find its pointer (the Glue catalog partition's Location with
     --kafkalake_database, else the manifest's `location`; generation 0, the partition folder, when
     there is none), list the location's files and reconcile them with the manifest
     (_state/lake/<table>/<k=v>.json): a file the manifest does not list, or lists with another size,
     is unknown;
  3. match: a known file may hold a batch key when every key column's value lies within the file's
     [min, max] (a join of the batch's keys with the files' ranges; no file is read); such a candidate
     matches when its key columns, read, hold a key of the batch (NULL equal to NULL); an unknown file
     matches every batch;
  4. a partition no file matches gets the batch's rows appended as new files into its current location;
  5. a partition some files match is copied on write: the matched files are read, merged with the
     batch (one row per envelope, then one per business key, the latest _offset wins) and written as
     generation N+1 (_v<N+1>/) with the unmatched files copied into it by name; the old generation is
     entered in _retired.json, then the pointer moves (UpdatePartition; without a catalog the manifest
     is the pointer);
  6. write the manifests (per file: name, rows, bytes, min/max of each key column), then move the
     bookmark past the input.
Files are named part-<run>-<nnnnn>.snappy.parquet, <run> being a hash of the input, so a rerun on the
same input writes the same names; a crash anywhere is repaired by the next run (README, Crash points).

`--kafkalake_action compact` bin-packs the partitions (those with a manifest) whose current generation
holds at least two small files (below 3/4 of maxRowsPerFile rows) and either more than
--kafkalake_compact_max_files files or more than one tiny file (below maxRowsPerFile / 4 rows; an
unknown file counts as both): the small files are rewritten into files of maxRowsPerFile rows, the full
ones copied, into a new generation committed and retired the same way (with an unknown file, every file
is rewritten); its run id hashes the merged files' keys.

Job arguments (Glue passes them as --name value; unknown ones such as --JOB_ID are ignored):
  --kafkalake_root   s3://bucket/ (or file:///dir/ locally): keys below are relative to it
  --kafkalake_job    the job name: the bookmark is _state/<job>.json
  --kafkalake_specs  the table specs as a JSON array (what `kafkalake run etl` sends), or
  --kafkalake_spec_files  spec files to read instead (local runs)
  --kafkalake_database    the Glue database of the lake tables: the catalog is the pointer (optional)
  --kafkalake_glue_endpoint  the Glue API's URL (tests against a local AWS twin; optional)
  --kafkalake_retain_minutes  how long a retired generation is kept (default 120)
  --kafkalake_action  etl (default) or compact
  --kafkalake_compact_max_files  a partition with more files than this is compacted (default 8)
The run lock (_state/<job>.lock) is held by the caller (`kafkalake run etl`) for the whole job run;
the Glue job's MaxConcurrentRuns=1 is the second guard.
"""

import argparse
import datetime
import gzip
import hashlib
import json
import os
import re
import sys
import urllib.parse
import uuid

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.storagelevel import StorageLevel

SPARK_TYPE_OBJECTS = {
    "string": T.StringType(),
    "int": T.IntegerType(),
    "bigint": T.LongType(),
    "double": T.DoubleType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
}
SPARK_TYPES = {name: t.simpleString() for name, t in SPARK_TYPE_OBJECTS.items()}  # string int bigint double date timestamp
ENVELOPE_KEY = ["_topic", "_partition", "_offset"]
STAGING_OBJECT = re.compile(r"/dt=(\d{4}-\d{2}-\d{2})/([^/]+)\+(\d+)\+(\d{20})\+(\d{20})\.jsonl\.gz$")
# how long before a listing a staging object may have been named and still land after it
LIST_MARGIN = datetime.timedelta(days=1)
# what Hadoop's S3 filesystems (EMRFS) write for a "directory": no data, passed over by every listing
FOLDER_MARKER = "_$folder$"
# Hive's folder name for a NULL partition value
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


class JobError(Exception):
    """A failure the job reports in one line (no traceback)."""


def parse_args(argv):
    p = argparse.ArgumentParser(description="kafkalake ETL job")
    p.add_argument("--kafkalake_root", required=True)
    p.add_argument("--kafkalake_job", required=True)
    p.add_argument("--kafkalake_specs")
    p.add_argument("--kafkalake_spec_files", nargs="*")
    p.add_argument("--kafkalake_database")
    p.add_argument("--kafkalake_glue_endpoint")
    p.add_argument("--kafkalake_retain_minutes", type=float, default=120)
    p.add_argument("--kafkalake_action", choices=["etl", "compact"], default="etl")
    p.add_argument("--kafkalake_compact_max_files", type=int, default=8)
    p.add_argument("--JOB_RUN_ID")  # Glue passes the run's id: the run's summary names it
    args, _unknown = p.parse_known_args(argv)
    if args.kafkalake_specs:
        specs = json.loads(args.kafkalake_specs)
    elif args.kafkalake_spec_files:
        specs = []
        for f in args.kafkalake_spec_files:
            with open(f, encoding="utf-8") as fh:
                specs.append(json.load(fh))
    else:
        p.error("one of --kafkalake_specs or --kafkalake_spec_files is required")
    args.root = args.kafkalake_root.rstrip("/") + "/"
    args.specs = sorted(specs, key=lambda s: s["table"])
    return args


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def iso_ms(t):
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    """The bucket (or directory) through Hadoop's FileSystem: s3:// on Glue, file:// locally."""

    def __init__(self, spark, root):
        jvm = spark._jvm
        self.jvm = jvm
        self.root = root
        self.Path = jvm.org.apache.hadoop.fs.Path
        self.conf = spark._jsc.hadoopConfiguration()
        fs = self.Path(root).getFileSystem(self.conf)
        fs.setWriteChecksum(False)  # the local file system: no .crc side files in the lake
        self.fs = fs
        self.qualified_root = fs.makeQualified(self.Path(root)).toString().rstrip("/") + "/"
        self._s3 = None
        self.local_dir = urllib.parse.urlparse(root).path if root.startswith("file:") else None

    def url(self, key):
        return self.root + key

    def path(self, key):
        return self.Path(self.root + key)

    def key_of(self, qualified):
        if not qualified.startswith(self.qualified_root):
            raise ValueError(f"{qualified} is not under {self.qualified_root}")
        return qualified[len(self.qualified_root):]

    def _statuses(self, key, recursive=False):
        try:
            if recursive:
                it = self.fs.listFiles(self.path(key), True)
                out = []
                while it.hasNext():
                    out.append(it.next())
                return out
            return list(self.fs.listStatus(self.path(key)))
        except Exception as err:  # noqa: BLE001 - py4j wraps java.io.FileNotFoundException
            if "FileNotFoundException" in str(err):
                return []
            raise

    def list(self, prefix):
        """Every file key under `prefix` (recursively), sorted."""
        base = prefix[: prefix.rfind("/")] if "/" in prefix else ""
        keys = (self.key_of(st.getPath().toString()) for st in self._statuses(base, recursive=True))
        return sorted(k for k in keys if k.startswith(prefix) and not k.endswith(FOLDER_MARKER))

    def list_dir(self, prefix):
        """The entries directly under the directory `prefix` (ending in /): files as keys, directories as key + '/'."""
        out = []
        for st in self._statuses(prefix):
            key = self.key_of(st.getPath().toString())
            if key.endswith(FOLDER_MARKER):
                continue
            out.append(key + "/" if st.isDirectory() else key)
        return sorted(out)

    def data_files(self, location):
        """A location's data files as a reader sees them: {name: bytes} of the .parquet files directly in it
        (a name starting with _ or . is hidden, and so is everything in such a folder)."""
        out = {}
        for st in self._statuses(location):
            if st.isDirectory():
                continue
            name = self.key_of(st.getPath().toString())[len(location):]
            if "/" not in name and name.endswith(".parquet") and not name.startswith(("_", ".")):
                out[name] = int(st.getLen())
        return dict(sorted(out.items()))

    def read(self, key):
        p = self.path(key)
        if not self.fs.exists(p):
            return None
        stream = self.fs.open(p)
        try:
            return bytes(self.jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def write(self, key, data):
        """Write an object whole: on S3 one PUT; in a local directory a temporary file renamed over the
        target (os.replace), so that a killed run never leaves a torn manifest or bookmark behind."""
        if self.local_dir is None:
            out = self.fs.create(self.path(key), True)
            try:
                out.write(bytearray(data))
            finally:
                out.close()
            return
        target = os.path.join(self.local_dir, *key.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)

    def read_json(self, key):
        """A JSON state object; an unreadable one counts as missing (a manifest is a cache, never trusted)."""
        raw = self.read(key)
        if raw is None:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            return None

    def write_json(self, key, doc):
        self.write(key, (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))

    def move(self, src_qualified, key):
        dst = self.path(key)
        if not self.url(key).startswith("s3"):
            # a local filesystem needs the parent to rename into; S3 needs no directories, and mkdirs on
            # s3:// (EMRFS on Glue) writes a `<dir>_$folder$` object that the crawler and listings would see
            self.fs.mkdirs(dst.getParent())
        if self.fs.exists(dst):
            self.fs.delete(dst, False)
        if not self.fs.rename(self.Path(src_qualified), dst):
            raise IOError(f"cannot move {src_qualified} to {self.url(key)}")

    def copy(self, src_key, dst_key):
        """Copy one object. On S3 a server-side CopyObject (boto3's managed copy: no byte passes through the
        job); elsewhere Hadoop's FileUtil.copy, which streams the bytes (on s3:// it would too, via EMRFS)."""
        if self.root.startswith("s3://"):
            bucket, _, prefix = self.root[len("s3://"):].partition("/")
            self.s3().copy({"Bucket": bucket, "Key": prefix + src_key}, bucket, prefix + dst_key)
            return
        if not self.jvm.org.apache.hadoop.fs.FileUtil.copy(self.fs, self.path(src_key), self.fs, self.path(dst_key), False, self.conf):
            raise IOError(f"cannot copy {self.url(src_key)} to {self.url(dst_key)}")

    def s3(self):
        if self._s3 is None:
            import boto3  # on Glue and in the venv; only an s3:// root needs it

            self._s3 = boto3.client("s3")
        return self._s3

    def delete(self, key, recursive=False):
        self.fs.delete(self.path(key), recursive)


# --- the spec's reading, the same as daemons/local/etl/sql.ts ------------------------------------

def field_of(c):
    return c.get("from", c["name"])


def matches(raw, pattern):
    return raw.rlike("^(?:" + pattern + ")\\z") if pattern else F.lit(True)


def cast_expr(spec, c, raw):
    rule = spec["types"][c["type"]]
    ok = matches(raw, rule["accept"])
    t = c["type"]
    if t == "string":
        return F.when(ok, raw) if rule["accept"] else raw
    if t == "bigint":
        return F.when(ok, F.regexp_replace(raw, "[.]0+$", "").cast("bigint"))
    if t == "timestamp":
        return F.when(matches(raw, rule.get("acceptEpochMs", "")), F.timestamp_millis(raw.cast("bigint"))).when(ok, raw.cast("timestamp"))
    return F.when(ok, raw.cast(SPARK_TYPES[t]))


# the strings Spark's JSON reader reads as a double (allowNonNumericNumbers): no number was sent
NON_NUMERIC_NUMBERS = ["NaN", "Infinity", "+Infinity", "-Infinity", "+INF", "-INF"]


def quoted(col):
    """A reason's quoted name, as daemons/local/etl/sql.ts quotes it: backslashes and double quotes escaped."""
    return F.concat(F.lit('"'), F.regexp_replace(F.regexp_replace(col, r"\\", r"\\\\"), '"', r'\\"'), F.lit('"'))


def typed_frame(spark, spec, store, objects):
    """The reasons, first that applies: not a JSON object (Jackson refuses nesting deeper than 1000 and
    numbers of more than 1000 digits; daemons/lib/json-shape.ts); a duplicate top-level key; then per
    column, a missing or null field, a string column given a number, true/false, an array or an object
    (whose text the two executors would render differently), a value that does not match or cast to its type."""
    cols = spec["columns"]
    prefix = spec["source"]["prefix"]
    lines = (
        spark.read.text([store.url(k) for k in objects])
        .select(F.concat(F.lit(prefix), F.substring_index(F.input_file_name(), prefix, -1)).alias("source"), F.col("value").alias("line"))
        .where(F.trim(F.col("line")) != "")
    )
    fields = [f"r{i}" for i in range(len(cols))]
    strings = [field_of(c) for c in cols if c["type"] == "string"]
    # what a string column was given, by probing: a field that reads as that type (partial results per field)
    probes = {
        t: F.from_json(F.col("line"), "struct<" + ",".join(f"`{f}`:{t}" for f in strings) + ">").alias(f"probe_{n}")
        for n, t in enumerate(["double", "boolean", "array<string>", "map<string,string>"])
    } if strings else {}
    parsed = lines.select(
        "source",
        "line",
        F.from_json(F.col("line"), "map<string,string>").isNotNull().alias("ok_json"),
        # json_object_keys keeps a key given twice: the first one seen a second time
        F.expr("element_at(filter(json_object_keys(line), (x, i) -> array_position(json_object_keys(line), x) < i + 1), 1)").alias("dup"),
        F.json_tuple(F.col("line"), *[field_of(c) for c in cols]).alias(*fields),
        *probes.values(),
    )
    values = [cast_expr(spec, c, F.col(f"r{i}")).alias(f"v{i}") for i, c in enumerate(cols)]
    casted = parsed.select("*", *values)
    reasons = []
    for i, c in enumerate(cols):
        raw, v = F.col(f"r{i}"), F.col(f"v{i}")
        missing = F.lit(None).cast("string") if c.get("nullable") else F.lit(f'field "{field_of(c)}" is missing or null')
        reason = F.when(raw.isNull(), missing)
        if c["type"] == "string":
            f = field_of(c)
            number = F.col("probe_0").getField(f).isNotNull() & ~raw.isin(NON_NUMERIC_NUMBERS)
            other = F.col("probe_1").getField(f).isNotNull() | F.col("probe_2").getField(f).isNotNull() | F.col("probe_3").getField(f).isNotNull()
            reason = reason.when(number | other, F.lit(f'field "{f}" is not a string'))
        reasons.append(reason.when(v.isNull(), F.lit(f'field "{field_of(c)}" is not a {c["type"]}')))
    reason = (
        F.when(~F.col("ok_json"), F.lit("not a JSON object"))
        .when(F.col("dup").isNotNull(), F.concat(F.lit("duplicate key "), quoted(F.col("dup"))))
        .otherwise(F.coalesce(*reasons))
    )
    return casted.select("source", "line", reason.alias("reason"), *[F.col(f"v{i}").alias(c["name"]) for i, c in enumerate(cols)])


def derived_expr(d):
    """year, month (1-12), day (the date) and hour (0-23) of a date or timestamp column, in UTC (the
    session time zone)."""
    return {"year": F.year, "month": F.month, "day": F.to_date, "hour": F.hour}[d["fn"]](F.col(d["of"]))


def column_names(spec):
    return [c["name"] for c in spec["columns"]]


def column_types(spec):
    return {c["name"]: c["type"] for c in spec["columns"]}


def key_order(spec):
    return [*spec["businessKey"], *ENVELOPE_KEY]


def key_columns(spec):
    """The columns a manifest keeps min/max of: the business key, or the envelope for a table without one."""
    return list(spec["businessKey"]) or list(ENVELOPE_KEY)


def parquet_schema(spec):
    return ", ".join(f"`{c['name']}` {SPARK_TYPES[c['type']]}" for c in spec["columns"])


def dedup(spec, rows):
    """One row per envelope (_topic, _partition, _offset), then one per business key: the highest _offset
    wins (ties: the higher _partition, then _topic)."""
    w1 = Window.partitionBy(*ENVELOPE_KEY).orderBy(F.col("_timestamp").desc())
    out = rows.withColumn("_rn", F.row_number().over(w1)).where("_rn = 1").drop("_rn")
    if spec["businessKey"]:
        w2 = Window.partitionBy(*spec["businessKey"]).orderBy(F.col("_offset").desc(), F.col("_partition").desc(), F.col("_topic").desc())
        out = out.withColumn("_rn", F.row_number().over(w2)).where("_rn = 1").drop("_rn")
    return out


# --- the DLQ ---------------------------------------------------------------------------------------

def dlq_key(spec, staging_key):
    m = re.search(r"/(dt=[^/]+)/([^/]+)\.jsonl\.gz$", staging_key)
    return f"{spec['dlq']['prefix']}{m.group(1)}/{m.group(2)}.etl.jsonl.gz"


def write_dlq(spec, store, typed):
    bad = typed.where(F.col("reason").isNotNull()).select("source", "line", "reason", "_topic", "_partition", "_offset").collect()
    by_source = {}
    for r in sorted(bad, key=lambda r: (r["source"], r["_offset"] is None, r["_offset"] or 0, r["line"])):
        rec = {
            "stage": "etl",
            "table": spec["table"],
            "reason": r["reason"],
            "source": r["source"],
            "_topic": r["_topic"],
            "_partition": r["_partition"],
            "_offset": r["_offset"],
            "raw": r["line"],
        }
        by_source.setdefault(r["source"], []).append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    keys = []
    for source, lines in by_source.items():
        key = dlq_key(spec, source)
        store.write(key, gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))
        keys.append(key)
    return len(bad), keys


# --- the input and the bookmark ------------------------------------------------------------------

def parse_staging_key(key):
    m = STAGING_OBJECT.search(key)
    if not m:
        return None
    return {"dt": m.group(1), "tp": f"{m.group(2)}+{int(m.group(3))}", "first": int(m.group(4)), "last": int(m.group(5))}


def is_merged(mark, key):
    n = parse_staging_key(key)
    if n is None or mark is None:
        return False
    w = mark["partitions"].get(n["tp"])
    return bool(mark["listFrom"] and n["dt"] < mark["listFrom"]) or (w is not None and (n["last"] <= w["last"] or n["first"] < w["first"]))


def unmerged_objects(store, spec, bookmark):
    """The staging objects not yet merged, in key order: the dt= directories from listFrom on, each listed."""
    mark = bookmark["tables"].get(spec["table"])
    list_from = mark["listFrom"] if mark else ""
    out = []
    for d in store.list_dir(spec["source"]["prefix"]):
        m = re.search(r"/dt=(\d{4}-\d{2}-\d{2})/$", d)
        if not m or (list_from and m.group(1) < list_from):
            continue
        out += [k for k in store.list_dir(d) if k.startswith(d + spec["source"]["topic"] + "+") and parse_staging_key(k) and not is_merged(mark, k)]
    return sorted(out)


def mark_merged(bookmark, spec, objects, listed_at):
    mark = bookmark["tables"].setdefault(spec["table"], {"listFrom": "", "partitions": {}})
    for k in objects:
        advance(mark["partitions"], k)
    mark["listFrom"] = (listed_at - LIST_MARGIN).date().isoformat()


def advance(marks, key):
    n = parse_staging_key(key)
    if n is None:
        return
    w = marks.get(n["tp"])
    if w is None or n["last"] > w["last"]:
        marks[n["tp"]] = {"first": n["first"], "last": n["last"]}


def read_bookmark(store, job):
    raw = store.read(f"_state/{job}.json")
    if raw is None:
        return {"version": 2, "job": job, "updatedAt": "", "tables": {}}
    b = json.loads(raw.decode("utf-8"))
    if b.get("version") not in (1, 2) or not isinstance(b.get("tables"), dict):
        raise JobError(f"{store.url('_state/' + job + '.json')}: unknown bookmark format (version must be 1 or 2)")
    if b["version"] == 1:  # the first format listed every merged key: read as the same marks
        tables = {}
        for t, v in b["tables"].items():
            marks = {}
            for k in v.get("merged", []):
                advance(marks, k)
            tables[t] = {"listFrom": "", "partitions": marks}
        b = {"version": 2, "job": b.get("job", job), "updatedAt": b.get("updatedAt", ""), "tables": tables}
    return b


def last_run_key(job, action):
    """The report of the job's last run of an action (etl, compact), for the runner (glue-runner.ts)."""
    return f"_state/{job}.last-{action}.json"


def write_bookmark(store, b):
    b["version"] = 2
    b["updatedAt"] = iso_ms(now_utc())
    b["tables"] = {t: {"listFrom": v["listFrom"], "partitions": dict(sorted(v["partitions"].items()))} for t, v in sorted(b["tables"].items())}
    store.write(f"_state/{b['job']}.json", (json.dumps(b, indent=1, sort_keys=False) + "\n").encode("utf-8"))


# --- the lake's layout (README: Layout, Formats) -------------------------------------------------

def run_id(names):
    """The first 12 hex digits of SHA-256 over the names (staging keys, or a compaction's merged files), sorted."""
    return hashlib.sha256("\n".join(sorted(names)).encode("utf-8")).hexdigest()[:12]


def file_name(run, n):
    return f"part-{run}-{n:05d}.snappy.parquet"


def partition_dir(spec, values):
    return spec["target"]["prefix"] + "".join(f"{p}={values[p]}/" for p in spec["partitionBy"])


def generation_dir(spec, values, generation):
    return partition_dir(spec, values) + (f"_v{generation:06d}/" if generation else "")


def generation_of(spec, values, location):
    base = partition_dir(spec, values)
    if location == base:
        return 0
    m = re.fullmatch(re.escape(base) + r"_v(\d{6})/", location)
    if not m:
        raise JobError(f"partition {base} points to {location}, which is not one of its generation folders")
    return int(m.group(1))


def manifest_key(spec, values):
    name = "/".join(f"{p}={values[p]}" for p in spec["partitionBy"]) or "_table"
    return f"_state/lake/{spec['table']}/{name}.json"


def retired_key(spec):
    return f"_state/lake/{spec['table']}/_retired.json"


def partition_label(spec, values):
    """How the run's report names a partition: its folders below the table prefix (year=1995), or (table)."""
    return partition_dir(spec, values)[len(spec["target"]["prefix"]):].rstrip("/") or "(table)"


def from_json_value(type_, v):
    """A manifest's min/max as a Python value of the column's Spark type."""
    if v is None:
        return None
    if type_ == "date":
        return datetime.date.fromisoformat(v)
    if type_ == "timestamp":
        return datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if type_ in ("int", "bigint"):
        return int(v)
    if type_ == "double":
        return float(v)
    return v


def json_formatted(type_, col):
    """An aggregated key value as the manifest writes it: ISO dates, ISO-8601 UTC timestamps in microseconds."""
    if type_ == "date":
        return F.date_format(col, "yyyy-MM-dd")
    if type_ == "timestamp":
        return F.date_format(col, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")  # the session time zone is UTC
    return col


def new_manifest(spec, part, generation, location, files):
    return {
        "version": 1,
        "table": spec["table"],
        "values": part.values,
        "generation": generation,
        "location": location,
        "keyColumns": key_columns(spec),
        "files": sorted(files, key=lambda f: f["name"]),
        "updatedAt": iso_ms(now_utc()),
    }


# --- the pointer: the Glue catalog's partition Location, or the manifest's -----------------------

class ManifestPointers:
    """No catalog (a directory root): the manifest's `location` is the pointer; writing it is the commit."""

    def check_table(self, spec):
        pass

    def current(self, spec, values, manifest):
        """The partition's current location, and whether readers have the partition at all."""
        return (manifest["location"], True) if manifest else (partition_dir(spec, values), False)

    def commit(self, spec, values, location, known):
        pass


class CatalogPointers:
    """The Glue catalog: a partition's StorageDescriptor.Location is the truth; a commit is one
    UpdatePartition (a partition the catalog does not have: BatchCreatePartition, the table's storage
    descriptor with the location changed). An unpartitioned table's pointer is the table's location."""

    def __init__(self, root, database, endpoint):
        import boto3  # on Glue and in the venv

        self.root = root
        self.database = database
        self.glue = boto3.client("glue", endpoint_url=endpoint) if endpoint else boto3.client("glue")
        self.tables = {}  # table -> the catalog's Table

    def check_table(self, spec):
        try:
            self.tables[spec["table"]] = self.glue.get_table(DatabaseName=self.database, Name=spec["table"])["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            raise JobError(f"the lake table {self.database}.{spec['table']} is not in the Glue catalog: run `kafkalake bootstrap` to create it") from None

    def where(self, spec):
        return f"glue {self.database}.{spec['table']}"

    def _key(self, spec, url):
        url = url if url.endswith("/") else url + "/"
        if not url.startswith(self.root):
            raise JobError(f"{self.where(spec)}: the location {url} is not under {self.root}")
        return url[len(self.root):]

    def _sd(self, sd, location):
        return {**sd, "Location": self.root + location}

    def current(self, spec, values, manifest):
        if not spec["partitionBy"]:
            return self._key(spec, self.tables[spec["table"]]["StorageDescriptor"]["Location"]), True
        try:
            p = self.glue.get_partition(DatabaseName=self.database, TableName=spec["table"], PartitionValues=[values[k] for k in spec["partitionBy"]])
        except self.glue.exceptions.EntityNotFoundException:
            return partition_dir(spec, values), False
        return self._key(spec, p["Partition"]["StorageDescriptor"]["Location"]), True

    def commit(self, spec, values, location, known):
        """Point the partition at `location` (`known`: the catalog has it)."""
        if not spec["partitionBy"]:
            t = self.tables[spec["table"]]
            keep = ("Name", "Description", "Owner", "Retention", "PartitionKeys", "TableType", "Parameters")
            table_input = {**{k: t[k] for k in keep if k in t}, "StorageDescriptor": self._sd(t["StorageDescriptor"], location)}
            self.glue.update_table(DatabaseName=self.database, TableInput=table_input)
            return
        pv = [values[k] for k in spec["partitionBy"]]
        if not known:
            sd = self._sd(self.tables[spec["table"]]["StorageDescriptor"], location)
            r = self.glue.batch_create_partition(DatabaseName=self.database, TableName=spec["table"], PartitionInputList=[{"Values": pv, "StorageDescriptor": sd}])
            errors = r.get("Errors") or []
            if not errors:
                return
            if errors[0]["ErrorDetail"].get("ErrorCode") != "AlreadyExistsException":
                raise JobError(f"{self.where(spec)}: cannot add partition {partition_label(spec, values)}: {errors[0]['ErrorDetail'].get('ErrorMessage')}")
            # added meanwhile (the crawler finds a generation 0 too): move it where this run wrote
        p = self.glue.get_partition(DatabaseName=self.database, TableName=spec["table"], PartitionValues=pv)["Partition"]
        partition_input = {"Values": pv, "StorageDescriptor": self._sd(p["StorageDescriptor"], location)}
        if p.get("Parameters"):
            partition_input["Parameters"] = p["Parameters"]
        self.glue.update_partition(DatabaseName=self.database, TableName=spec["table"], PartitionValueList=pv, PartitionInput=partition_input)


# --- a partition's state: pointer, listing, manifest ---------------------------------------------

class Partition:
    """One partition a run writes: where readers find it, what its location holds, what the manifest knows."""

    def __init__(self, ctx, spec, values, pid, retired):
        self.values, self.pid = values, pid
        self.label = partition_label(spec, values)
        self.manifest = ctx.store.read_json(manifest_key(spec, values))
        if self.manifest is not None and (self.manifest.get("version") != 1 or not isinstance(self.manifest.get("files"), list)):
            self.manifest = None  # a cache never trusted: unreadable = missing (every file unknown)
        self.location, self.in_catalog = ctx.pointers.current(spec, values, self.manifest)
        self.generation = generation_of(spec, values, self.location)
        self.listing = ctx.store.data_files(self.location)  # {name: bytes}
        described = {f["name"]: f for f in self.manifest["files"]} if self.manifest and self.manifest.get("location") == self.location else {}
        self.known = {n: described[n] for n, size in self.listing.items() if n in described and described[n].get("bytes") == size}
        self.unknown = [n for n in self.listing if n not in self.known]
        used = [self.generation, *([self.manifest.get("generation", 0)] if self.manifest else []), *[r["generation"] for r in retired if r["values"] == values]]
        self.next_generation = 1 + max(used)
        self.rewrite = False  # copy-on-write into a new generation, else append
        self.read = []  # the current files whose rows are rewritten
        self.copy = []  # the known files copied into the new generation

    def plan(self, matched):
        """Append when no file may hold a batch key, else copy-on-write: read the matched and unknown files."""
        self.read = sorted(set(matched) | set(self.unknown))
        self.rewrite = bool(self.read)
        self.copy = [n for n in self.known if n not in self.read] if self.rewrite else []

    def target(self, spec):
        return generation_dir(spec, self.values, self.next_generation) if self.rewrite else self.location


def with_partition_values(spec, rows):
    """The partition columns as text (folder names and Glue partition values are text)."""
    derived = {d["name"]: d for d in spec["derived"]}
    return rows.select("*", *[F.coalesce(derived_expr(derived[p]).cast("string"), F.lit(NULL_PARTITION)).alias(p) for p in spec["partitionBy"]])


def touched_partitions(ctx, spec, rows, retired):
    """The partitions `rows` (with partition values) fall in, each loaded, numbered in label order."""
    if not spec["partitionBy"]:
        return [Partition(ctx, spec, {}, 0, retired)] if rows.take(1) else []
    values = sorted((r.asDict() for r in rows.select(*spec["partitionBy"]).distinct().collect()), key=lambda v: partition_dir(spec, v))
    return [Partition(ctx, spec, v, i, retired) for i, v in enumerate(values)]


def with_pid(ctx, spec, rows, parts):
    """`rows` (with partition values) tagged with their partition's number `_pid`."""
    if not spec["partitionBy"]:
        return rows.withColumn("_pid", F.lit(0))
    schema = T.StructType([*[T.StructField(p, T.StringType()) for p in spec["partitionBy"]], T.StructField("_pid", T.IntegerType())])
    ids = ctx.spark.createDataFrame([(*[p.values[k] for k in spec["partitionBy"]], p.pid) for p in parts], schema)
    return rows.join(F.broadcast(ids), spec["partitionBy"])


def match_files(ctx, spec, batch, parts):
    """{pid: names} of the known files that may hold a key of the batch: for every key column the key's
    value lies within the file's [min, max] (a NULL key value, or a NULL bound, matches). A join of the
    batch's keys with the files' ranges (a small broadcast table); no file is read."""
    keys, types = key_columns(spec), column_types(spec)
    ranges = [(p.pid, name, *[from_json_value(types[k], f["min"][i]) for i, k in enumerate(keys)], *[from_json_value(types[k], f["max"][i]) for i, k in enumerate(keys)])
              for p in parts for name, f in p.known.items()]
    if not ranges:
        return {}
    schema = T.StructType([
        T.StructField("_rpid", T.IntegerType()),
        T.StructField("_rname", T.StringType()),
        *[T.StructField(f"_min{i}", SPARK_TYPE_OBJECTS[types[k]]) for i, k in enumerate(keys)],
        *[T.StructField(f"_max{i}", SPARK_TYPE_OBJECTS[types[k]]) for i, k in enumerate(keys)],
    ])
    cond = F.col("_pid") == F.col("_rpid")
    for i, k in enumerate(keys):
        lo, hi, v = F.col(f"_min{i}"), F.col(f"_max{i}"), F.col(k)
        cond = cond & (v.isNull() | ((lo.isNull() | (v >= lo)) & (hi.isNull() | (v <= hi))))
    hits = batch.select("_pid", *keys).join(F.broadcast(ctx.spark.createDataFrame(ranges, schema)), cond).select("_rpid", "_rname").distinct().collect()
    out = {}
    for h in hits:
        out.setdefault(h["_rpid"], set()).add(h["_rname"])
    return out


def holding_files(ctx, spec, batch, parts, candidates):
    """{pid: names} of the range candidates that hold a key of the batch: per partition, the candidates'
    key columns are read and joined with the batch's keys (NULL equal to NULL, as dedup groups them), as
    Hudi checks its index's candidates against the keys in the file. A range is only a bound: in a feed
    the newest file's range holds the next batch's first keys (the same day, other symbols) though no
    key is in it twice; without this look every run would rewrite that file."""
    keys = key_columns(spec)
    out = {}
    for p in parts:
        names = sorted(candidates.get(p.pid, ()))
        if not names:
            continue
        files = (ctx.spark.read.schema(parquet_schema(spec)).parquet(*[ctx.store.url(p.location + n) for n in names])
                 .select(*[F.col(k).alias(f"_f{i}") for i, k in enumerate(keys)], F.element_at(F.split(F.input_file_name(), "/"), -1).alias("_file")))
        mine = batch.where(F.col("_pid") == p.pid).select(*keys)
        cond = None
        for i, k in enumerate(keys):
            c = F.col(f"_f{i}").eqNullSafe(F.col(k))
            cond = c if cond is None else cond & c
        hits = files.join(mine, cond, "left_semi").select("_file").distinct().collect()
        held = {h["_file"] for h in hits}
        out[p.pid] = {n for n in names if n in held}
    return out


def read_lake_files(ctx, spec, parts):
    """The rows of the files the partitions read, tagged with their partition."""
    urls = [ctx.store.url(p.location + n) for p in parts for n in p.read]
    rows = ctx.spark.read.schema(parquet_schema(spec)).parquet(*urls).select(*column_names(spec))
    return with_pid(ctx, spec, with_partition_values(spec, rows), parts)


# --- writing generations and appends --------------------------------------------------------------

def write_row_sets(ctx, spec, rows):
    """Write each partition's rows (one row per key, tagged `_pid`) as numbered files below a temporary
    prefix: sorted by the business key then the envelope, row i in file floor(i / maxRowsPerFile).
    Returns the prefix and {pid: [{"no", "key", "rows", "min", "max"}]}, the per-file stats aggregated
    from the rows written (only the key columns are read back)."""
    cols, order = column_names(spec), key_order(spec)
    tmp = f"_state/tmp/{ctx.args.kafkalake_job}/{spec['table']}/"
    ctx.store.delete(tmp, True)
    numbered = rows.withColumn(
        "_file_no", F.floor((F.row_number().over(Window.partitionBy("_pid").orderBy(*order)) - 1) / spec["target"]["maxRowsPerFile"]).cast("int")
    )
    (
        numbered.select(*cols, "_pid", "_file_no")
        .repartition("_pid", "_file_no")
        .sortWithinPartitions("_pid", "_file_no", *order)  # the writer's own order (_pid, _file_no) is a prefix: kept
        .write.mode("overwrite")
        .partitionBy("_pid", "_file_no")
        .option("compression", "snappy")
        .parquet(ctx.store.url(tmp))
    )
    keys, types = key_columns(spec), column_types(spec)
    aggs = [F.count(F.lit(1)).alias("rows")]
    aggs += [json_formatted(types[k], F.min(k)).alias(f"min{i}") for i, k in enumerate(keys)]
    aggs += [json_formatted(types[k], F.max(k)).alias(f"max{i}") for i, k in enumerate(keys)]
    stats = {(r["_pid"], r["_file_no"]): r for r in ctx.spark.read.parquet(ctx.store.url(tmp)).groupBy("_pid", "_file_no").agg(*aggs).collect()}
    out = {}
    for key in ctx.store.list(tmp):
        m = re.fullmatch(r"_pid=(\d+)/_file_no=(\d+)/part-[^/]*\.parquet", key[len(tmp):])
        if not m:
            continue
        pid, no = int(m.group(1)), int(m.group(2))
        if any(f["no"] == no for f in out.get(pid, [])):
            raise JobError(f"Spark wrote file {no} of partition {pid} twice below {ctx.store.url(tmp)}")
        s = stats[(pid, no)]
        out.setdefault(pid, []).append({"no": no, "key": key, "rows": s["rows"], "min": [s[f"min{i}"] for i in range(len(keys))], "max": [s[f"max{i}"] for i in range(len(keys))]})
    return tmp, {pid: sorted(files, key=lambda f: f["no"]) for pid, files in out.items()}


def place_files(ctx, spec, part, written, run):
    """Move the partition's new files into its target (an append: the current location; a rewrite: the
    new generation, emptied first, with the unmatched known files copied by name). Its manifest entries."""
    store, target = ctx.store, part.target(spec)
    if part.rewrite:
        store.delete(target, True)  # a crashed run's try at the same generation
    names = {}
    for f in written:
        name = file_name(run, f["no"])
        if name in part.copy or (not part.rewrite and name in part.listing):
            raise JobError(f"{store.url(target)}: a new file would be named like a current one ({name})")
        store.move(store.qualified_root + f["key"], target + name)
        names[name] = f
    for name in part.copy:
        store.copy(part.location + name, target + name)
    sizes = store.data_files(target)
    entries = [{"name": n, "rows": f["rows"], "bytes": sizes[n], "min": f["min"], "max": f["max"]} for n, f in names.items()]
    kept = [part.known[n] for n in (part.copy if part.rewrite else part.known)]
    return entries, kept


def commit_partitions(ctx, spec, parts, rows, run, stats):
    """Write the partitions' files; enter each rewritten partition's old generation in _retired.json;
    move the pointers; write the manifests. The caller moves the bookmark after."""
    tmp, written = write_row_sets(ctx, spec, rows)
    manifests = []
    for part in parts:
        entries, kept = place_files(ctx, spec, part, written.get(part.pid, []), run(part) if callable(run) else run)
        generation = part.next_generation if part.rewrite else part.generation
        manifests.append((part, new_manifest(spec, part, generation, part.target(spec), entries + kept)))
        stats["rewritten" if part.rewrite else "appended"].append(part.label)
        if not part.in_catalog and part.manifest is None and not part.listing:
            stats["created"].append(part.label)
        stats["files"] += len(entries)
        stats["rowsWritten"] += sum(e["rows"] for e in entries)
        stats["filesRead"] += len(part.read)
        stats["filesCopied"] += len(part.copy)
    ctx.store.delete(tmp, True)
    retire(ctx, spec, [p for p in parts if p.rewrite])
    for part, manifest in manifests:
        if part.rewrite or not part.in_catalog:
            ctx.pointers.commit(spec, part.values, manifest["location"], part.in_catalog)
        ctx.store.write_json(manifest_key(spec, part.values), manifest)
    stats["partitions"] = sorted(stats["appended"] + stats["rewritten"])


# --- retired generations ----------------------------------------------------------------------------

def read_retired(ctx, spec):
    doc = ctx.store.read_json(retired_key(spec))
    return doc["retired"] if doc and isinstance(doc.get("retired"), list) else []


def write_retired(ctx, spec, retired):
    ctx.store.write_json(retired_key(spec), {"version": 1, "table": spec["table"], "retired": retired})


def retire(ctx, spec, parts):
    """Enter the current generation of each partition in _retired.json, before the commit that retires it:
    its location and what it holds now (a listing: a crashed run's stray files go too). An entry a crashed
    run left for the same generation is replaced."""
    if not parts:
        return
    at = iso_ms(now_utc())
    retired = read_retired(ctx, spec)
    for p in parts:
        retired = [r for r in retired if not (r["values"] == p.values and r["generation"] == p.generation)]
        retired.append({"values": p.values, "generation": p.generation, "location": p.location, "files": list(p.listing), "retiredAt": at})
    write_retired(ctx, spec, retired)


def expire_retired(ctx, spec):
    """Delete the retired generations older than the retention (generation 0 file by file, _vN/ as a
    prefix) and drop their entries; an entry whose location is still current (a run that crashed before
    its commit) is dropped without deleting. Returns the number of files deleted."""
    retired = read_retired(ctx, spec)
    cutoff = now_utc() - datetime.timedelta(minutes=ctx.args.kafkalake_retain_minutes)
    due = [r for r in retired if datetime.datetime.fromisoformat(r["retiredAt"].replace("Z", "+00:00")) <= cutoff]
    if not due:
        return 0
    deleted = 0
    for r in due:
        manifest = ctx.store.read_json(manifest_key(spec, r["values"]))
        if ctx.pointers.current(spec, r["values"], manifest)[0] == r["location"]:
            continue
        if r["generation"] == 0:
            for name in r["files"]:
                ctx.store.delete(r["location"] + name)
            deleted += len(r["files"])
        else:
            deleted += len(ctx.store.list(r["location"]))
            ctx.store.delete(r["location"], True)
    write_retired(ctx, spec, [r for r in retired if r not in due])
    ctx.log(f"{spec['table']}: {len(due)} retired generations expired, {deleted} files deleted")
    return deleted


# --- the actions ----------------------------------------------------------------------------------

def new_stats(spec):
    return {"table": spec["table"], "objects": 0, "rowsRead": 0, "rowsRejected": 0, "dlqObjects": [], "partitions": [], "files": 0,
            "rowsWritten": 0, "appended": [], "rewritten": [], "created": [], "filesRead": 0, "filesProbed": 0, "filesCopied": 0, "retiredDeleted": 0,
            "oldestSentAtMs": None, "committedAtMs": None}


def run_etl(ctx, spec, bookmark):
    """Merge the table's new staging objects into the lake (protocol v3), then move the bookmark."""
    stats = new_stats(spec)
    ctx.pointers.check_table(spec)
    stats["retiredDeleted"] = expire_retired(ctx, spec)
    listed_at = now_utc()
    objects = unmerged_objects(ctx.store, spec, bookmark)
    stats["objects"] = len(objects)
    if not objects:
        return stats
    ctx.log(f"{spec['table']}: merging {len(objects)} staging objects")
    typed = typed_frame(ctx.spark, spec, ctx.store, objects).persist(StorageLevel.MEMORY_AND_DISK)
    # the oldest send time of the rows that go to the lake (send → lake freshness): in epoch ms,
    # computed by Spark (a collected timestamp would be converted to the driver's local time)
    oldest = F.min(F.when(F.col("reason").isNull(), F.col("_timestamp")))
    counts = typed.agg(F.count(F.lit(1)).alias("n"), F.count("reason").alias("bad"),
                       F.round(oldest.cast("double") * 1000).cast("long").alias("oldest")).collect()[0]
    stats["rowsRead"], stats["rowsRejected"] = counts["n"], counts["bad"]
    if counts["bad"]:
        _, stats["dlqObjects"] = write_dlq(spec, ctx.store, typed)

    cols = column_names(spec)
    good = with_partition_values(spec, typed.where(F.col("reason").isNull()).select(*cols))
    parts = touched_partitions(ctx, spec, good, read_retired(ctx, spec))
    if parts:
        batch = with_pid(ctx, spec, good, parts)
        candidates = match_files(ctx, spec, batch, parts)
        stats["filesProbed"] += sum(len(v) for v in candidates.values())
        matched = holding_files(ctx, spec, batch, parts, candidates)
        for p in parts:
            p.plan(matched.get(p.pid, ()))
        rows = batch.select(*cols, "_pid")
        if any(p.read for p in parts):
            rows = rows.unionByName(read_lake_files(ctx, spec, [p for p in parts if p.read]).select(*cols, "_pid"))
        commit_partitions(ctx, spec, parts, dedup(spec, rows), run_id(objects), stats)
        stats["committedAtMs"] = int(now_utc().timestamp() * 1000)
        stats["oldestSentAtMs"] = counts["oldest"]
    typed.unpersist()

    mark_merged(bookmark, spec, objects, listed_at)
    write_bookmark(ctx.store, bookmark)
    ctx.log(f"{spec['table']}: {stats}")
    return stats


def manifest_values(ctx, spec):
    """The partition values of every manifest of the table."""
    base = f"_state/lake/{spec['table']}/"
    out = []
    for key in ctx.store.list(base):
        rel = key[len(base):]
        if not rel.endswith(".json") or rel == "_retired.json":
            continue
        if not spec["partitionBy"]:
            out += [{}] if rel == "_table.json" else []
            continue
        kv = dict(part.split("=", 1) for part in rel[: -len(".json")].split("/") if "=" in part)
        if list(kv) == spec["partitionBy"]:
            out.append(kv)
    return sorted(out, key=lambda v: partition_dir(spec, v))


def compaction_plan(max_rows, max_files, p):
    """A bin-pack, as Iceberg's rewrite_data_files (write.ts' compactionPlan decides the same): None when
    the partition is not due, else the names of the files to merge. Due: at least two small files (below
    3/4 of maxRowsPerFile rows) and either more than max_files files or more than one tiny file (below
    maxRowsPerFile / 4); an unknown file counts as small and tiny. The small files are merged, the full
    ones copied; with an unknown file (it may hold any key) every file is merged."""
    if not p.listing:
        return None
    small = [n for n in p.known if p.known[n]["rows"] < max_rows * 3 / 4]
    tiny = [n for n in p.known if p.known[n]["rows"] < max_rows / 4]
    if len(small) + len(p.unknown) < 2 or (len(p.listing) <= max_files and len(tiny) + len(p.unknown) <= 1):
        return None
    return list(p.listing) if p.unknown else small


def run_compact(ctx, spec):
    """Bin-pack each partition that compaction_plan finds due into one new generation: its small files
    rewritten into files of maxRowsPerFile rows, its full files copied."""
    stats = new_stats(spec)
    ctx.pointers.check_table(spec)
    stats["retiredDeleted"] = expire_retired(ctx, spec)
    retired = read_retired(ctx, spec)
    parts = []
    for values in manifest_values(ctx, spec):
        p = Partition(ctx, spec, values, len(parts), retired)
        merge = compaction_plan(spec["target"]["maxRowsPerFile"], ctx.args.kafkalake_compact_max_files, p)
        if merge is not None:
            p.plan(merge)
            parts.append(p)
    if parts:
        ctx.log(f"{spec['table']}: compacting {len(parts)} partitions")
        rows = read_lake_files(ctx, spec, parts).select(*column_names(spec), "_pid")
        # each partition's files are named after what it merges: the same in both executors, whichever
        # other partitions are due in the same run
        commit_partitions(ctx, spec, parts, dedup(spec, rows), lambda p: run_id([p.location + n for n in p.read]), stats)
    ctx.log(f"{spec['table']}: {stats}")
    return stats


class Context:
    def __init__(self, spark, store, pointers, args, log):
        self.spark, self.store, self.pointers, self.args, self.log = spark, store, pointers, args, log


def main(argv):
    args = parse_args(argv)
    spark = (
        SparkSession.builder.appName(f"kafkalake-{args.kafkalake_job}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.sources.partitionOverwriteMode", "static")
        .getOrCreate()
    )
    log = lambda msg: print(f"kafkalake-etl: {msg}", file=sys.stderr, flush=True)  # noqa: E731
    store = Store(spark, args.root)
    pointers = CatalogPointers(args.root, args.kafkalake_database, args.kafkalake_glue_endpoint) if args.kafkalake_database else ManifestPointers()
    ctx = Context(spark, store, pointers, args, log)
    try:
        if args.kafkalake_action == "compact":
            results = [run_compact(ctx, spec) for spec in args.specs]
        else:
            bookmark = read_bookmark(store, args.kafkalake_job)
            results = [run_etl(ctx, spec, bookmark) for spec in args.specs]
    except JobError as err:
        raise SystemExit(f"kafkalake-etl: {err}") from None
    summary = {"job": args.kafkalake_job, "action": args.kafkalake_action, "runId": args.JOB_RUN_ID, "finishedAt": iso_ms(now_utc()), "tables": results}
    # the runner reads the run's report here (a Glue run's stdout goes to CloudWatch Logs only)
    store.write(last_run_key(args.kafkalake_job, args.kafkalake_action), (json.dumps(summary) + "\n").encode("utf-8"))
    print(json.dumps(summary))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
