#!/usr/bin/python
# -*- coding: utf-8 -*-
# The AWS resources of kafkalake that the amazon.aws / community.aws collections have no module for
# (ansible-core 2.14 era): the Glue database, the Glue tables of sql/ddl, the Athena workgroup, Athena named
# (saved) queries and the CloudWatch dashboard. Idempotent: it reads first and changes only what differs.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kafkalake_aws
short_description: Glue database, Athena workgroup and named queries, CloudWatch dashboard (idempotent)
description:
  - Creates or updates one resource of the given kind, reading it first so a second run changes nothing.
options:
  kind:
    description: Which resource.
    type: str
    required: true
    choices: [glue_database, glue_table, athena_workgroup, athena_named_query, cloudwatch_dashboard]
  name:
    description: The resource name.
    type: str
    required: true
  description:
    description: Its description (database, workgroup, named query).
    type: str
    default: ""
  database:
    description: The Glue database a named query runs in, or a table is created in.
    type: str
  ddl:
    description: >-
      A table definition of sql/ddl (the Athena DDL C(kafkalake bootstrap) reads); the table is created
      once, as bootstrap creates it, and left to the crawler afterwards.
    type: str
  bucket:
    description: The bucket that replaces ${BUCKET} in a table definition.
    type: str
  query:
    description: The SQL of a named query.
    type: str
  workgroup:
    description: The workgroup of a named query.
    type: str
    default: primary
  output_location:
    description: The workgroup's query result location (s3://bucket/prefix/).
    type: str
  body:
    description: The dashboard body (a dict, sent as JSON).
    type: dict
  region:
    description: AWS region.
    type: str
    required: true
  endpoint_url:
    description: Endpoint override (the local AWS twin in tests).
    type: str
  access_key:
    description: Static access key (else the default credential chain).
    type: str
  secret_key:
    description: Static secret key.
    type: str
requirements: [boto3]
author: kafkalake
"""

EXAMPLES = r"""
- name: The Glue database
  kafkalake_aws:
    kind: glue_database
    name: kafkalake
    region: eu-west-1
"""

RETURN = r"""
changed:
  description: Whether the resource was created or changed.
  type: bool
  returned: always
"""

import json
import os
import re
import sys

try:
    from ansible.module_utils.basic import AnsibleModule
except ImportError:  # the --table-input command line (test/unit/ddl.test.ts) runs without Ansible
    AnsibleModule = None

try:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # reported by the module below
    boto3 = None


def client(module, service):
    p = module.params
    kw = {"region_name": p["region"]}
    if p.get("endpoint_url"):
        kw["endpoint_url"] = p["endpoint_url"]
    if p.get("access_key"):
        kw["aws_access_key_id"] = p["access_key"]
        kw["aws_secret_access_key"] = p["secret_key"]
    return boto3.client(service, **kw)


def glue_database(module):
    glue = client(module, "glue")
    p = module.params
    want = {"Name": p["name"], "Description": p["description"]}
    try:
        have = glue.get_database(Name=p["name"])["Database"]
    except ClientError as e:
        if e.response["Error"]["Code"] != "EntityNotFoundException":
            raise
        if not module.check_mode:
            glue.create_database(DatabaseInput=want)
        return True
    if have.get("Description", "") != want["Description"]:
        if not module.check_mode:
            glue.update_database(Name=p["name"], DatabaseInput=want)
        return True
    return False


# --- the tables of sql/ddl, as daemons/lib/catalog/ddl.ts (ddlTableInput) makes them for `kafkalake
# bootstrap`; test/unit/ddl.test.ts checks that both give the same TableInput for every definition.
def _enclosed(text, open_at):
    depth, quote = 0, ""
    for i in range(open_at, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[open_at + 1:i], i + 1
    raise ValueError("unbalanced parentheses")


def _split_top(items):
    out, depth, cur = [], 0, ""
    for ch in items:
        if ch in "(<":
            depth += 1
        elif ch in ")>":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [s.strip() for s in out if s.strip()]


def _columns(items):
    cols = []
    for item in _split_top(items):
        m = re.match(r"^`?([A-Za-z_][A-Za-z0-9_]*)`?\s+(\S.*)$", item, re.S)
        if not m:
            raise ValueError('cannot read the column definition "%s"' % item)
        cols.append({"Name": m.group(1).lower(), "Type": m.group(2).strip().lower()})
    return cols


def _properties(items):
    return dict(re.findall(r"'([^']*)'\s*=\s*'([^']*)'", items))


def ddl_table_input(name, text, bucket):
    """The Glue TableInput of one sql/ddl file (its base name `name`), ${BUCKET} filled in."""
    header = {}
    for line in text.split("\n"):
        m = re.match(r"^--\s*([a-z]+):\s*(.*?)\s*$", line)
        if m:
            header[m.group(1)] = m.group(2)
        elif not line.startswith("--"):
            break
    body = re.sub(r"--[^\n]*", "", text)
    create = re.search(r"CREATE\s+EXTERNAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?([A-Za-z0-9_]+)`?\s*\(", body, re.I)
    if not create or create.group(1).lower() != name:
        raise ValueError("no CREATE EXTERNAL TABLE %s (...) statement" % name)
    cols, end = _enclosed(body, create.end() - 1)
    rest = body[end:]

    def clause(pattern):
        m = re.search(pattern, rest, re.I)
        return _enclosed(rest, m.end() - 1)[0] if m else ""

    location = re.search(r"LOCATION\s+'([^']+)'", rest, re.I)
    if not location:
        raise ValueError("no LOCATION 's3://...'")
    tbl = _properties(clause(r"TBLPROPERTIES\s*\("))
    fmt = tbl.get("classification")
    if fmt not in ("json", "parquet"):
        raise ValueError("TBLPROPERTIES 'classification' must be json or parquet")
    columns = _columns(cols)
    keys = _columns(clause(r"PARTITIONED\s+BY\s*\("))
    compression = "gzip" if tbl.get("compressionType") == "gzip" else "none"

    def sub(s):
        return s.replace("${BUCKET}", bucket)

    loc = sub(location.group(1))
    if fmt == "parquet":
        serde = {
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                          "Parameters": {"serialization.format": "1"}},
        }
    else:
        serde = {
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
                          "Parameters": {"paths": ",".join(c["Name"] for c in columns)}},
        }
    serde["SerdeInfo"]["Parameters"].update(_properties(clause(r"SERDEPROPERTIES\s*\(")))
    fmt_params = {"classification": fmt, "compressionType": compression, "typeOfData": "file"}
    sd = dict(Columns=columns, Location=loc, Compressed=compression != "none", NumberOfBuckets=-1, BucketColumns=[], SortColumns=[],
              StoredAsSubDirectories=False, Parameters=dict(fmt_params), **serde)
    params = dict(fmt_params)
    params.update({k: sub(v) for k, v in tbl.items()})
    params.update({"EXTERNAL": "TRUE", "CREATED_BY": "kafkalake bootstrap (sql/ddl/%s.sql)" % name})
    return {"Name": name, "Description": header.get("description", ""), "TableType": "EXTERNAL_TABLE", "StorageDescriptor": sd,
            "PartitionKeys": keys, "Parameters": params}


def glue_table(module):
    """Created once, as `kafkalake bootstrap` does; afterwards the crawler owns it (schema, partitions)."""
    glue = client(module, "glue")
    p = module.params
    try:
        want = ddl_table_input(p["name"], p["ddl"], p["bucket"])
    except ValueError as e:
        module.fail_json(msg="table definition sql/ddl/%s.sql: %s" % (p["name"], e))
    try:
        glue.get_table(DatabaseName=p["database"], Name=p["name"])
        return False
    except ClientError as e:
        if e.response["Error"]["Code"] != "EntityNotFoundException":
            raise
    if not module.check_mode:
        glue.create_table(DatabaseName=p["database"], TableInput=want)
    return True


def athena_workgroup(module):
    athena = client(module, "athena")
    p = module.params
    config = {
        "ResultConfiguration": {"OutputLocation": p["output_location"]},
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": True,
    }
    try:
        # (the local twin answers an unknown workgroup with an empty document instead of an error)
        have = athena.get_work_group(WorkGroup=p["name"]).get("WorkGroup") or None
    except ClientError as e:
        if e.response["Error"]["Code"] != "InvalidRequestException":
            raise
        have = None
    if have is None:
        if not module.check_mode:
            athena.create_work_group(Name=p["name"], Configuration=config, Description=p["description"])
        return True
    have_loc = have.get("Configuration", {}).get("ResultConfiguration", {}).get("OutputLocation")
    if have_loc != p["output_location"] or have.get("Description", "") != p["description"]:
        if not module.check_mode:
            athena.update_work_group(
                WorkGroup=p["name"],
                Description=p["description"],
                ConfigurationUpdates={"ResultConfigurationUpdates": {"OutputLocation": p["output_location"]}},
            )
        return True
    return False


def athena_named_query(module):
    athena = client(module, "athena")
    p = module.params
    ids = []
    for page in athena.get_paginator("list_named_queries").paginate(WorkGroup=p["workgroup"]):
        ids.extend(page.get("NamedQueryIds", []))
    # GetNamedQuery one by one (the local twin has no BatchGetNamedQuery; a workgroup holds few queries)
    queries = [athena.get_named_query(NamedQueryId=i)["NamedQuery"] for i in ids]
    same_name = [q for q in queries if q.get("Name") == p["name"]]
    want = {"Name": p["name"], "Description": p["description"], "Database": p["database"], "QueryString": p["query"]}
    if len(same_name) == 1:
        q = same_name[0]
        # a missing Description is compared as equal: the local twin does not return it
        if all(q.get(k, v if k == "Description" else "") == v for k, v in want.items()):
            return False
    # Athena has no unique names: replace every query of this name by one that matches.
    if not module.check_mode:
        for q in same_name:
            athena.delete_named_query(NamedQueryId=q["NamedQueryId"])
        athena.create_named_query(WorkGroup=p["workgroup"], **want)
    return True


def cloudwatch_dashboard(module):
    cw = client(module, "cloudwatch")
    p = module.params
    try:
        have = json.loads(cw.get_dashboard(DashboardName=p["name"])["DashboardBody"])
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("ResourceNotFound", "ResourceNotFoundException"):
            raise
        have = None
    if have == p["body"]:
        return False
    if not module.check_mode:
        cw.put_dashboard(DashboardName=p["name"], DashboardBody=json.dumps(p["body"], sort_keys=True))
    return True


KINDS = {
    "glue_database": (glue_database, []),
    "glue_table": (glue_table, ["database", "ddl", "bucket"]),
    "athena_workgroup": (athena_workgroup, ["output_location"]),
    "athena_named_query": (athena_named_query, ["database", "query"]),
    "cloudwatch_dashboard": (cloudwatch_dashboard, ["body"]),
}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kind=dict(type="str", required=True, choices=list(KINDS)),
            name=dict(type="str", required=True),
            description=dict(type="str", default=""),
            database=dict(type="str"),
            ddl=dict(type="str"),
            bucket=dict(type="str"),
            query=dict(type="str"),
            workgroup=dict(type="str", default="primary"),
            output_location=dict(type="str"),
            body=dict(type="dict"),
            region=dict(type="str", required=True),
            endpoint_url=dict(type="str"),
            access_key=dict(type="str", no_log=True),
            secret_key=dict(type="str", no_log=True),
        ),
        supports_check_mode=True,
    )
    if boto3 is None:
        module.fail_json(msg="kafkalake_aws needs boto3 in the Python that runs it (ansible_python_interpreter of localhost)")
    fn, required = KINDS[module.params["kind"]]
    missing = [k for k in required if module.params.get(k) is None]
    if missing:
        module.fail_json(msg="kafkalake_aws kind=%s needs %s" % (module.params["kind"], ", ".join(missing)))
    try:
        changed = fn(module)
    except (BotoCoreError, ClientError) as e:
        module.fail_json(msg="%s %s: %s" % (module.params["kind"], module.params["name"], e))
    module.exit_json(changed=changed)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--table-input":  # test/unit/ddl.test.ts: the TableInput of one definition
        with open(sys.argv[2]) as f:
            print(json.dumps(ddl_table_input(os.path.basename(sys.argv[2])[:-4], f.read(), sys.argv[3]), sort_keys=True))
    else:
        main()
