// Athena's partition projection (the table properties projection.*), for the local engine: a projected
// table's partitions are the folders under its location whose values the projection allows, and the
// catalog's partitions are not read (Athena ignores them when projection.enabled is true). So the staging
// and DLQ tables (sql/ddl: projected by dt) are queryable locally as soon as the consumer writes a day's
// first object, as on Athena, without a crawl.
// Types: enum (projection.K.values), integer (projection.K.range), date (projection.K.format, .range with
// NOW and NOW±N UNIT), injected (any value). Folders: storage.location.template, or <location>K=V/….
import { KafkalakeError } from '../../lib/errors.js';

export interface Projection {
  /** the partition values of an object's key, or undefined when the projection does not hold it */
  values(key: string): string[] | undefined;
}

const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const UNIT_MS: Record<string, number> = { SECONDS: 1000, MINUTES: 60_000, HOURS: 3_600_000, DAYS: 86_400_000, WEEKS: 7 * 86_400_000 };

/** A Java DateTimeFormatter pattern of y, M, d, H, m, s (and literals) as a parser to epoch ms (UTC). */
function dateParser(format: string, where: string): (text: string) => number | undefined {
  const fields: string[] = [];
  let re = '';
  for (const m of format.matchAll(/([yMdHms])\1*|'[^']*'|[^yMdHms']/g)) {
    const tok = m[0];
    if (/^[yMdHms]/.test(tok)) {
      fields.push(tok[0]!);
      re += `(\\d{${tok.length === 1 ? '1,2' : tok.length}})`;
    } else re += esc(tok.startsWith("'") ? tok.slice(1, -1) : tok);
  }
  if (!fields.includes('y')) throw new KafkalakeError(`projection format "${format}" has no year (yyyy)`, { where });
  const full = new RegExp(`^${re}$`);
  return (text) => {
    const m = full.exec(text);
    if (!m) return undefined;
    const v: Record<string, number> = { y: 1970, M: 1, d: 1, H: 0, m: 0, s: 0 };
    fields.forEach((f, i) => (v[f] = Number(m[i + 1])));
    const ms = Date.UTC(v.y!, v.M! - 1, v.d, v.H, v.m, v.s);
    // 2021-02-30 is not a date
    const back = new Date(ms);
    return back.getUTCMonth() === v.M! - 1 && back.getUTCDate() === v.d! ? ms : undefined;
  };
}

function dateBound(text: string, parse: (t: string) => number | undefined, now: number, where: string): number {
  const rel = /^NOW(?:\s*([+-])\s*(\d+)\s*(SECONDS?|MINUTES?|HOURS?|DAYS?|WEEKS?))?$/i.exec(text.trim());
  if (rel) {
    if (!rel[1]) return now;
    const unit = rel[3]!.toUpperCase().replace(/S?$/, 'S');
    return now + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * UNIT_MS[unit]!;
  }
  const ms = parse(text.trim());
  if (ms === undefined) throw new KafkalakeError(`projection range bound "${text}" is neither NOW[±N UNIT] nor in the projection's format`, { where });
  return ms;
}

/** One key's test of a value. */
function keyTest(table: string, key: string, p: Record<string, string>, now: number): (value: string) => boolean {
  const where = `glue table ${table}, projection.${key}`;
  const type = (p[`projection.${key}.type`] ?? '').toLowerCase();
  const range = (p[`projection.${key}.range`] ?? '').split(',');
  switch (type) {
    case 'enum': {
      const allowed = new Set((p[`projection.${key}.values`] ?? '').split(',').map((s) => s.trim()));
      return (v) => allowed.has(v);
    }
    case 'integer': {
      const [lo, hi] = range.map((s) => Number(s.trim()));
      if (range.length !== 2 || !Number.isInteger(lo) || !Number.isInteger(hi)) throw new KafkalakeError(`projection.${key}.range must be "min,max" integers`, { where });
      return (v) => /^-?\d+$/.test(v) && Number(v) >= lo! && Number(v) <= hi!;
    }
    case 'date': {
      const format = p[`projection.${key}.format`];
      if (!format) throw new KafkalakeError(`projection.${key}.format is missing`, { where });
      if (range.length !== 2) throw new KafkalakeError(`projection.${key}.range must be "start,end"`, { where });
      const parse = dateParser(format, where);
      const [lo, hi] = range.map((b) => dateBound(b, parse, now, where));
      return (v) => {
        const ms = parse(v);
        return ms !== undefined && ms >= lo! && ms <= hi!;
      };
    }
    case 'injected':
      return () => true;
    default:
      throw new KafkalakeError(`projection.${key}.type "${type}" is not one of enum, integer, date, injected`, { where });
  }
}

/**
 * The projection of a table whose parameters enable it, else undefined. `prefix` is the table's location
 * (bucket-relative, ending in "/"); `now` the query's time (for NOW in a date range).
 */
export function projectionOf(table: string, params: Record<string, string> | undefined, partitionKeys: string[], prefix: string, now = Date.now()): Projection | undefined {
  if (!params || (params['projection.enabled'] ?? '').toLowerCase() !== 'true' || partitionKeys.length === 0) return undefined;
  const tests = partitionKeys.map((k) => keyTest(table, k, params, now));
  const template = params['storage.location.template'];
  // where the values sit in an object's key: the template's ${k} slots, or K=V folders under the location
  let at: RegExp;
  let order: string[];
  if (template) {
    order = [];
    const re = template.replace(/^s3:\/\/[^/]+\//, '').replace(/\$\{([^}]+)\}|[.*+?^${}()|[\]\\]/g, (m, name: string | undefined) => {
      if (name === undefined) return `\\${m}`;
      order.push(name);
      return '([^/]+)';
    });
    const missing = partitionKeys.filter((k) => !order.includes(k));
    if (missing.length) throw new KafkalakeError(`storage.location.template does not name partition key ${missing.join(', ')}`, { where: `glue table ${table}` });
    at = new RegExp(`^${re.endsWith('/') ? re : `${re}/`}`);
  } else {
    order = partitionKeys;
    at = new RegExp(`^${esc(prefix)}${partitionKeys.map((k) => `${esc(k)}=([^/]+)/`).join('')}`);
  }
  const folderValues = (key: string): string[] | undefined => {
    const m = at.exec(key);
    return m ? partitionKeys.map((k) => decodeURIComponent(m[order.indexOf(k) + 1]!)) : undefined;
  };
  return {
    values(key) {
      const vals = folderValues(key);
      if (!vals) return undefined;
      return vals.every((v, i) => tests[i]!(v)) ? vals : undefined;
    },
  };
}
