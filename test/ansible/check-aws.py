"""Report which of kafkalake's AWS resources exist (in the AWS twin during the ansible test), as JSON.

Usage: check-aws.py ENDPOINT REGION BUCKET
Run with the venv's Python (boto3). Names are the aws_resources role's defaults.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError


def main(endpoint, region, bucket):
    kw = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="check", aws_secret_access_key="check")
    s3, glue, athena = boto3.client("s3", **kw), boto3.client("glue", **kw), boto3.client("athena", **kw)
    iam, cw, logs = boto3.client("iam", **kw), boto3.client("cloudwatch", **kw), boto3.client("logs", **kw)

    def attempt(fn):
        try:
            return fn()
        except ClientError as e:
            return "missing: %s" % e.response["Error"]["Code"]

    enc = attempt(lambda: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
                  ["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"])
    pab = attempt(lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"])
    script = attempt(lambda: s3.head_object(Bucket=bucket, Key="glue/scripts/etl_job.py")["ContentLength"])
    job = attempt(lambda: glue.get_job(JobName="kafkalake-etl")["Job"]["Command"]["ScriptLocation"])
    crawler = attempt(lambda: glue.get_crawler(Name="kafkalake-lake")["Crawler"]["Targets"]["S3Targets"][0]["Path"])
    crawler_policies = attempt(lambda: (lambda c: [c.get("RecrawlPolicy", {}).get("RecrawlBehavior"), c["SchemaChangePolicy"]["UpdateBehavior"],
                                                   c["SchemaChangePolicy"]["DeleteBehavior"]])(glue.get_crawler(Name="kafkalake-lake")["Crawler"]))
    database = attempt(lambda: glue.get_database(Name="kafkalake")["Database"]["Name"])
    wg = attempt(lambda: athena.get_work_group(WorkGroup="kafkalake")["WorkGroup"]["Configuration"]
                 ["ResultConfiguration"]["OutputLocation"])
    ids = attempt(lambda: athena.list_named_queries(WorkGroup="kafkalake").get("NamedQueryIds", []))
    queries = sorted(athena.get_named_query(NamedQueryId=i)["NamedQuery"]["Name"] for i in ids) if isinstance(ids, list) else ids
    roles = sorted(r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("kafkalake-"))
    profile = attempt(lambda: [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName="kafkalake-host")["InstanceProfile"]["Roles"]])
    host_policy = attempt(lambda: iam.get_role_policy(RoleName="kafkalake-host", PolicyName="kafkalake-host")["PolicyDocument"])
    alarms = sorted(a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix="kafkalake-")["MetricAlarms"])
    dashboard = attempt(lambda: len(json.loads(cw.get_dashboard(DashboardName="kafkalake")["DashboardBody"])["widgets"]))
    groups = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/kafkalake")["logGroups"]]
    print(json.dumps(dict(
        encryption=enc, publicAccessBlock=pab, scriptBytes=script, job=job, crawler=crawler, crawlerPolicies=crawler_policies, database=database,
        workgroupOutput=wg, namedQueries=queries, roles=roles, instanceProfileRoles=profile,
        hostPolicyActions=sorted({a for s in host_policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])})
        if isinstance(host_policy, dict) else host_policy,
        alarms=alarms, dashboardWidgets=dashboard, logGroups=groups,
    ), default=str))


if __name__ == "__main__":
    main(*sys.argv[1:4])
