// The IAM policies of the aws_resources role rendered as Ansible renders them (Jinja2, the role's
// defaults, the variables a deployment sets), and a small evaluator of identity policies: an action is
// allowed when an Allow statement matches it, its resource and its conditions (StringEquals only; any
// other condition operator fails closed), and no Deny statement does.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface Policy {
  Version: string;
  Statement: Statement[];
}

export const ROLE_DIR = path.join(PROJECT_ROOT, 'ansible/roles/aws_resources');
const PYTHON = path.join(PROJECT_ROOT, '.kafkalake/venv/bin/python');

// Ansible templates lazily: a default may refer to another variable ({{ aws_region | default(...) }}),
// so the variables are rendered until none changes, then the template with them.
const RENDER = `
import json, os, sys, jinja2, yaml
role, template, extra = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
env = jinja2.Environment(undefined=jinja2.StrictUndefined)
env.filters.update(dirname=os.path.dirname, basename=os.path.basename)
v = yaml.safe_load(open(role + "/defaults/main.yml"))
v.update(extra)
for _ in range(5):
    out = {}
    for k, x in v.items():
        try:
            out[k] = env.from_string(x).render(**v) if isinstance(x, str) and "{{" in x else x
        except Exception:  # a lookup only Ansible has (query(...)): unusable by the policies, left out
            pass
    v = out
print(env.from_string(open(role + "/templates/" + template).read()).render(**v))
`;

/** the role's template `name` rendered with its defaults and `vars` (what a deployment sets) */
export function renderTemplate(name: string, vars: Record<string, unknown>): string {
  return execFileSync(PYTHON, ['-c', RENDER, ROLE_DIR, name, JSON.stringify(vars)], { encoding: 'utf8' });
}

export function renderPolicy(name: 'host-policy.json.j2' | 'glue-policy.json.j2', vars: Record<string, unknown>): Policy {
  return JSON.parse(renderTemplate(name, vars)) as Policy;
}

const list = (x: string | string[]) => (Array.isArray(x) ? x : [x]);
// IAM wildcards: * any run of characters, ? one character; actions compare case-insensitively
const glob = (pattern: string, value: string, ci = false) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ci ? 'i' : '').test(value);

function conditionsHold(s: Statement, context: Record<string, string>): boolean {
  for (const [op, keys] of Object.entries(s.Condition ?? {})) {
    if (op !== 'StringEquals') return false;
    for (const [key, want] of Object.entries(keys)) {
      const have = context[key];
      if (have === undefined || !list(want).includes(have)) return false;
    }
  }
  return true;
}

const matches = (s: Statement, action: string, resource: string, context: Record<string, string>) =>
  list(s.Action).some((a) => glob(a, action, true)) && list(s.Resource).some((r) => glob(r, resource)) && conditionsHold(s, context);

/** the statements that allow `action` on `resource` (none: denied), or 'denied' by an explicit Deny */
export function allowedBy(p: Policy, action: string, resource: string, context: Record<string, string> = {}): string[] | 'denied' {
  if (p.Statement.some((s) => s.Effect === 'Deny' && matches(s, action, resource, context))) return 'denied';
  return p.Statement.filter((s) => s.Effect === 'Allow' && matches(s, action, resource, context)).map((s) => s.Sid ?? '?');
}

export const allows = (p: Policy, action: string, resource: string, context: Record<string, string> = {}) => {
  const by = allowedBy(p, action, resource, context);
  return by !== 'denied' && by.length > 0;
};

/** every action the policy names */
export const actionsOf = (p: Policy) => [...new Set(p.Statement.flatMap((s) => list(s.Action)))].sort();
