#!/usr/bin/python
# -*- coding: utf-8 -*-
# The AWS resources of kafkalake that the amazon.aws / community.aws collections have no module for
# (ansible-core 2.14 era): the Glue database, the Athena workgroup, Athena named (saved) queries and the
# CloudWatch dashboard. Idempotent: it reads first and changes only what differs.
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
    choices: [glue_database, athena_workgroup, athena_named_query, cloudwatch_dashboard]
  name:
    description: The resource name.
    type: str
    required: true
  description:
    description: Its description (database, workgroup, named query).
    type: str
    default: ""
  database:
    description: The Glue database a named query runs in.
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

from ansible.module_utils.basic import AnsibleModule

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
    main()
