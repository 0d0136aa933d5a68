"""kafkalake ETL job: staging JSON lines -> partitioned Snappy Parquet lake.

AWS Glue 5.0 (Spark 3.5, Python 3.11) runs this script; the tests and benchmarks run it under pyspark
3.5 in local mode on file paths. It interprets the job specs of glue/tables/*.json exactly as the local
DuckDB executor (daemons/local/etl/) does, and reads and writes the same bookmark:

  1. list the staging objects of each table the bookmark (_state/<job>.json) does not count merged:
     per Kafka partition it keeps the offsets of the newest object merged, and `listFrom`, the first
     dt= prefix to list (see daemons/lib/etl/state.ts: the same rule);
  2. parse each line as a JSON object; cast each field per the spec's type rules (the value's text must
     match the type's pattern and cast); a row that fails goes to the DLQ object named after its staging
     object, with the reason (never a silent NULL);
  3. merge the good rows with the existing rows of the partitions they touch: one row per envelope
     (_topic, _partition, _offset), then one per business key (the latest _offset wins);
  4. rewrite each touched partition as part-NNNNN.snappy.parquet (deterministic names, so a rerun
     overwrites) and delete the files the rewrite made stale;
  5. only then advance the bookmark past the objects.

Job arguments (Glue passes them as --name value; unknown ones such as --JOB_ID are ignored):
  --kafkalake_root   s3://bucket/ (or file:///dir/ locally): keys below are relative to it
  --kafkalake_job    the job name: the bookmark is _state/<job>.json
  --kafkalake_specs  the table specs as a JSON array (what `kafkalake run etl` sends), or
  --kafkalake_spec_files  spec files to read instead (local runs)
The run lock (_state/<job>.lock) is held by the caller (`kafkalake run etl`) for the whole job run;
the Glue job's MaxConcurrentRuns=1 is the second guard.
"""

import argparse
import datetime
import gzip
import json
import re
import sys
import uuid

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.storagelevel import StorageLevel

SPARK_TYPES = {
    "string": "string",
    "int": "int",
    "bigint": "bigint",
    "double": "double",
    "date": "date",
    "timestamp": "timestamp",
}
STAGING_OBJECT = re.compile(r"/dt=(\d{4}-\d{2}-\d{2})/([^/]+)\+(\d+)\+(\d{20})\+(\d{20})\.jsonl\.gz$")
# how long before a listing a staging object may have been named and still land after it
LIST_MARGIN = datetime.timedelta(days=1)
# what Hadoop's S3 filesystems (EMRFS) write for a "directory": no data, passed over by every listing
FOLDER_MARKER = "_$folder$"


def parse_args(argv):
    p = argparse.ArgumentParser(description="kafkalake ETL job")
    p.add_argument("--kafkalake_root", required=True)
    p.add_argument("--kafkalake_job", required=True)
    p.add_argument("--kafkalake_specs")
    p.add_argument("--kafkalake_spec_files", nargs="*")
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
    return args.kafkalake_root.rstrip("/") + "/", args.kafkalake_job, sorted(specs, key=lambda s: s["table"])


class Store:
    """The bucket (or directory) through Hadoop's FileSystem: s3:// on Glue, file:// locally."""

    def __init__(self, spark, root):
        jvm = spark._jvm
        self.jvm = jvm
        self.root = root
        self.Path = jvm.org.apache.hadoop.fs.Path
        fs = self.Path(root).getFileSystem(spark._jsc.hadoopConfiguration())
        fs.setWriteChecksum(False)  # the local file system: no .crc side files in the lake
        self.fs = fs
        self.qualified_root = fs.makeQualified(self.Path(root)).toString().rstrip("/") + "/"

    def url(self, key):
        return self.root + key

    def path(self, key):
        return self.Path(self.root + key)

    def key_of(self, qualified):
        if not qualified.startswith(self.qualified_root):
            raise ValueError(f"{qualified} is not under {self.qualified_root}")
        return qualified[len(self.qualified_root):]

    def list(self, prefix):
        base = prefix[: prefix.rfind("/")] if "/" in prefix else ""
        out = []
        try:
            it = self.fs.listFiles(self.path(base), True)
        except Exception as err:  # noqa: BLE001 - py4j wraps java.io.FileNotFoundException
            if "FileNotFoundException" in str(err):
                return out
            raise
        while it.hasNext():
            key = self.key_of(it.next().getPath().toString())
            if key.startswith(prefix) and not key.endswith(FOLDER_MARKER):
                out.append(key)
        return sorted(out)

    def list_dir(self, prefix):
        """The entries directly under the directory `prefix` (ending in /): files as keys, directories as key + '/'."""
        out = []
        try:
            statuses = self.fs.listStatus(self.path(prefix))
        except Exception as err:  # noqa: BLE001 - py4j wraps java.io.FileNotFoundException
            if "FileNotFoundException" in str(err):
                return out
            raise
        for st in statuses:
            key = self.key_of(st.getPath().toString())
            if key.endswith(FOLDER_MARKER):
                continue
            out.append(key + "/" if st.isDirectory() else key)
        return sorted(out)

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
        out = self.fs.create(self.path(key), True)
        try:
            out.write(bytearray(data))
        finally:
            out.close()

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


def typed_frame(spark, spec, store, objects):
    cols = spec["columns"]
    prefix = spec["source"]["prefix"]
    lines = (
        spark.read.text([store.url(k) for k in objects])
        .select(F.concat(F.lit(prefix), F.substring_index(F.input_file_name(), prefix, -1)).alias("source"), F.col("value").alias("line"))
        .where(F.trim(F.col("line")) != "")
    )
    fields = [f"r{i}" for i in range(len(cols))]
    parsed = lines.select(
        "source",
        "line",
        F.from_json(F.col("line"), "map<string,string>").isNotNull().alias("ok_json"),
        F.json_tuple(F.col("line"), *[field_of(c) for c in cols]).alias(*fields),
    )
    values = [cast_expr(spec, c, F.col(f"r{i}")).alias(f"v{i}") for i, c in enumerate(cols)]
    casted = parsed.select("*", *values)
    reasons = []
    for i, c in enumerate(cols):
        raw, v = F.col(f"r{i}"), F.col(f"v{i}")
        missing = F.lit(None).cast("string") if c.get("nullable") else F.lit(f'field "{field_of(c)}" is missing or null')
        reasons.append(F.when(raw.isNull(), missing).when(v.isNull(), F.concat(F.lit(f'field "{field_of(c)}" is not a {c["type"]}: '), F.substring(raw, 1, 64))))
    reason = F.when(~F.col("ok_json"), F.lit("not a JSON object")).otherwise(F.coalesce(*reasons))
    return casted.select("source", "line", reason.alias("reason"), *[F.col(f"v{i}").alias(c["name"]) for i, c in enumerate(cols)])


def derived_expr(d):
    return {"year": F.year, "month": F.month}[d["fn"]](F.col(d["of"]))


def key_order(spec):
    return [*spec["businessKey"], "_topic", "_partition", "_offset"]


def partition_dir(spec, values):
    return spec["target"]["prefix"] + "/".join(f"{p}={values[p]}" for p in spec["partitionBy"]) + "/"


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


def run_table(spark, spec, store, bookmark, job, log):
    listed_at = datetime.datetime.now(datetime.timezone.utc)
    objects = unmerged_objects(store, spec, bookmark)
    stats = {"table": spec["table"], "objects": len(objects), "rowsRead": 0, "rowsRejected": 0, "partitions": [], "files": 0}
    if not objects:
        return stats
    log(f"{spec['table']}: merging {len(objects)} staging objects")
    cols = [c["name"] for c in spec["columns"]]
    typed = typed_frame(spark, spec, store, objects).persist(StorageLevel.MEMORY_AND_DISK)
    counts = typed.agg(F.count(F.lit(1)).alias("n"), F.count("reason").alias("bad")).collect()[0]
    stats["rowsRead"], stats["rowsRejected"] = counts["n"], counts["bad"]
    if counts["bad"]:
        _, stats["dlqObjects"] = write_dlq(spec, store, typed)

    good = typed.where(F.col("reason").isNull()).select(*cols)
    parts = spec["partitionBy"]
    pderived = [d for d in spec["derived"] if d["name"] in parts]
    affected = [r.asDict() for r in good.select(*[derived_expr(d).alias(d["name"]) for d in pderived]).distinct().collect()]
    current = {}
    for values in affected:
        prefix = partition_dir(spec, values)
        current[prefix] = [k for k in store.list(prefix) if k.endswith(".parquet") and "/" not in k[len(prefix):]]
    existing_keys = [k for keys in current.values() for k in keys]
    u = good
    if existing_keys:
        schema = ", ".join(f"`{c['name']}` {SPARK_TYPES[c['type']]}" for c in spec["columns"])
        u = good.unionByName(spark.read.schema(schema).parquet(*[store.url(k) for k in existing_keys]).select(*cols))

    d1 = u.withColumn("_rn", F.row_number().over(Window.partitionBy("_topic", "_partition", "_offset").orderBy(F.col("_timestamp").desc()))).where("_rn = 1").drop("_rn")
    d2 = d1
    if spec["businessKey"]:
        w = Window.partitionBy(*spec["businessKey"]).orderBy(F.col("_offset").desc(), F.col("_partition").desc(), F.col("_topic").desc())
        d2 = d1.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").drop("_rn")
    d3 = d2.select("*", *[derived_expr(d).alias(d["name"]) for d in spec["derived"]])
    wf = Window.partitionBy(*parts).orderBy(*key_order(spec)) if parts else Window.orderBy(*key_order(spec))
    d4 = d3.withColumn("_file_no", F.floor((F.row_number().over(wf) - 1) / spec["target"]["maxRowsPerFile"]).cast("int"))
    other_derived = [d["name"] for d in spec["derived"] if d["name"] not in parts]
    out = d4.drop(*other_derived).repartition(*parts, "_file_no").sortWithinPartitions(*key_order(spec))

    tmp_key = f"_state/tmp/{job}/{spec['table']}/{uuid.uuid4()}/"
    out.write.mode("overwrite").partitionBy(*parts, "_file_no").option("compression", "snappy").parquet(store.url(tmp_key))
    typed.unpersist()

    written = {}
    for key in store.list(tmp_key):
        m = re.match(r"^(.*)/_file_no=(\d+)/part-[^/]*\.parquet$", key[len(tmp_key):])
        if not m:
            continue
        values = dict(kv.split("=", 1) for kv in m.group(1).split("/")) if parts else {}
        prefix = partition_dir(spec, values)
        target = prefix + f"part-{int(m.group(2)):05d}.snappy.parquet"
        store.move(store.qualified_root + key, target)
        written.setdefault(prefix, []).append(target)
        stats["files"] += 1
    for prefix, keys in current.items():
        for k in keys:
            if k not in written.get(prefix, []):
                store.delete(k)
    store.delete(tmp_key, True)
    stats["partitions"] = sorted(p[len(spec["target"]["prefix"]):-1] for p in written)

    mark_merged(bookmark, spec, objects, listed_at)
    write_bookmark(store, bookmark)
    log(f"{spec['table']}: {stats}")
    return stats


def read_bookmark(store, job):
    raw = store.read(f"_state/{job}.json")
    if raw is None:
        return {"version": 2, "job": job, "updatedAt": "", "tables": {}}
    b = json.loads(raw.decode("utf-8"))
    if b.get("version") not in (1, 2) or not isinstance(b.get("tables"), dict):
        raise ValueError(f"{store.url('_state/' + job + '.json')}: unknown bookmark format (version must be 1 or 2)")
    if b["version"] == 1:  # the first format listed every merged key: read as the same marks
        tables = {}
        for t, v in b["tables"].items():
            marks = {}
            for k in v.get("merged", []):
                advance(marks, k)
            tables[t] = {"listFrom": "", "partitions": marks}
        b = {"version": 2, "job": b.get("job", job), "updatedAt": b.get("updatedAt", ""), "tables": tables}
    return b


def write_bookmark(store, b):
    b["version"] = 2
    b["updatedAt"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    b["tables"] = {t: {"listFrom": v["listFrom"], "partitions": dict(sorted(v["partitions"].items()))} for t, v in sorted(b["tables"].items())}
    store.write(f"_state/{b['job']}.json", (json.dumps(b, indent=1, sort_keys=False) + "\n").encode("utf-8"))


def main(argv):
    root, job, specs = parse_args(argv)
    spark = (
        SparkSession.builder.appName(f"kafkalake-{job}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.sources.partitionOverwriteMode", "static")
        .getOrCreate()
    )
    log = lambda msg: print(f"kafkalake-etl: {msg}", file=sys.stderr, flush=True)  # noqa: E731
    store = Store(spark, root)
    bookmark = read_bookmark(store, job)
    results = [run_table(spark, spec, store, bookmark, job, log) for spec in specs]
    print(json.dumps({"job": job, "tables": results}))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
