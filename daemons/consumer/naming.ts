// Staging object names (DESIGN.md, "Data layout"):
//   <prefix>/<topic>/dt=YYYY-MM-DD/<topic>+<partition>+<first_offset:020d>+<last_offset:020d>.jsonl.gz
//   <prefix>/_dlq/<topic>/dt=YYYY-MM-DD/<same name>                     the consumer's dead letters
//   <prefix>/_dlq/<table>/dt=YYYY-MM-DD/<staging object's name>.etl.jsonl.gz   the ETL's rejects of that object
// dt is the UTC date the object is written. Offsets are zero-padded to 20 digits so names sort by offset;
// they are handled as JS numbers, exact up to 2^53 (a partition would need 9e15 records to pass it).

export const DLQ_DIR = '_dlq';

/** Who wrote a DLQ object: the consumer (a record it could not stage) or the ETL (a staged line it rejected). */
export type Stage = 'consumer' | 'etl';

export interface ObjectName {
  topic: string;
  partition: number;
  first: number;
  last: number;
  dt: string;
  dlq: boolean;
  /** staging objects and the consumer's dead letters: consumer */
  stage: Stage;
}

export const pad = (offset: number): string => String(offset).padStart(20, '0');

/** The UTC date of `at` as YYYY-MM-DD. */
export const dtOf = (at: Date): string => at.toISOString().slice(0, 10);

/** `<prefix>/<topic>/` or `<prefix>/_dlq/<topic>/`: where the dt= folders of a topic are. */
export function topicPrefix(prefix: string, topic: string, dlq = false): string {
  return dlq ? `${prefix}/${DLQ_DIR}/${topic}/` : `${prefix}/${topic}/`;
}

/** The key of the objects of one partition under one dt folder, without the offsets. */
export function partitionPrefix(prefix: string, topic: string, dt: string, partition: number, dlq = false): string {
  return `${topicPrefix(prefix, topic, dlq)}dt=${dt}/${topic}+${partition}+`;
}

export function objectKey(prefix: string, n: Omit<ObjectName, 'dlq' | 'stage'> & { dlq?: boolean }): string {
  return `${partitionPrefix(prefix, n.topic, n.dt, n.partition, n.dlq ?? false)}${pad(n.first)}+${pad(n.last)}.jsonl.gz`;
}

const NAME = /^(?:.*\/)?dt=(\d{4}-\d{2}-\d{2})\/(.+)\+(\d+)\+(\d{20})\+(\d{20})(\.etl)?\.jsonl\.gz$/;

/** Parse a staging or DLQ key (either stage's); undefined when it is not one of ours. */
export function parseKey(prefix: string, key: string): ObjectName | undefined {
  const m = NAME.exec(key);
  if (!m) return undefined;
  const [, dt, topic, partition, first, last, etl] = m as unknown as [string, string, string, string, string, string, string | undefined];
  const dlq = key.startsWith(`${prefix}/${DLQ_DIR}/`);
  if (!key.startsWith(topicPrefix(prefix, topic, dlq))) return undefined;
  // the ETL writes only dead letters: a staging object is never named .etl
  if (etl && !dlq) return undefined;
  return { dt, topic, partition: Number(partition), first: Number(first), last: Number(last), dlq, stage: etl ? 'etl' : 'consumer' };
}
