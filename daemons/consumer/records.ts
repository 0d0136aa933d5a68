// One Kafka message → one staging line, or a dead letter with its reason.
// A staging line is the record's own JSON object with the envelope added at the end:
//   _topic (string), _partition (number), _offset (number), _timestamp (ISO-8601 UTC string, the Kafka
//   message timestamp), _key (the key as a UTF-8 string, or null).
// The record's text is kept as sent (numbers keep their digits); only a record spread over several lines
// or one that already has an envelope field is re-serialised (then the envelope's value wins).
// A byte order mark before the record is dropped (TextDecoder's default, as RFC 8259 lets a parser do).
// A DLQ line is the envelope plus `reason` (a code below), `detail` and `raw_base64` (null for a tombstone).

import { jsonShape, MAX_JSON_DEPTH, MAX_JSON_NUMBER_DIGITS } from '../lib/json-shape.js';

// too-deep, long-number and duplicate-key: records the ETL could not read, or not read alike (json-shape.ts)
export const REASONS = ['tombstone', 'too-large', 'not-utf8', 'not-json', 'not-object', 'too-deep', 'long-number', 'duplicate-key'] as const;
export type Reason = (typeof REASONS)[number];

export const ENVELOPE = ['_topic', '_partition', '_offset', '_timestamp', '_key'] as const;

export interface Message {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  timestamp: string;
}

export interface Envelope {
  _topic: string;
  _partition: number;
  _offset: number;
  _timestamp: string;
  _key: string | null;
}

export type Outcome = { ok: true; line: string } | { ok: false; line: string; reason: Reason };

export interface DeadLetter extends Envelope {
  reason: Reason;
  detail: string;
  raw_base64: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// records of one produce batch share their timestamp: format it once
let lastMs = '';
let lastIso = new Date(0).toISOString();
const iso = (timestamp: string): string => {
  if (timestamp !== lastMs) {
    const ms = Number(timestamp);
    lastIso = new Date(Number.isFinite(ms) ? ms : 0).toISOString();
    lastMs = timestamp;
  }
  return lastIso;
};

let lastTopic = '';
let topicJson = '""';

export function envelopeOf(topic: string, partition: number, m: Message): Envelope {
  return {
    _topic: topic,
    _partition: partition,
    _offset: Number(m.offset),
    _timestamp: iso(m.timestamp),
    _key: m.key === null ? null : m.key.toString('utf8'),
  };
}

function dead(env: Envelope, reason: Reason, detail: string, raw: Buffer | null): Outcome {
  const d: DeadLetter = { ...env, reason, detail, raw_base64: raw === null ? null : raw.toString('base64') };
  return { ok: false, line: JSON.stringify(d), reason };
}

/** Classify one message. `maxBytes`: a larger value is a dead letter ("too-large"). */
export function toLine(topic: string, partition: number, m: Message, maxBytes: number): Outcome {
  const env = envelopeOf(topic, partition, m);
  const raw = m.value;
  if (raw === null) return dead(env, 'tombstone', 'null value (a tombstone)', null);
  if (raw.length > maxBytes) return dead(env, 'too-large', `value is ${raw.length} bytes, over consumer.maxRecordBytes ${maxBytes}`, raw);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return dead(env, 'not-utf8', 'value is not valid UTF-8', raw);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return dead(env, 'not-json', (err as Error).message, raw);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'JSON null' : Array.isArray(value) ? 'a JSON array' : `a JSON ${typeof value}`;
    return dead(env, 'not-object', `value is ${kind}, not an object`, raw);
  }
  const shape = jsonShape(text);
  if (shape.depth > MAX_JSON_DEPTH) return dead(env, 'too-deep', `nested ${shape.depth} levels deep, over the ${MAX_JSON_DEPTH} the ETL's JSON reader takes`, raw);
  if (shape.digits > MAX_JSON_NUMBER_DIGITS) return dead(env, 'long-number', `a number of ${shape.digits} digits, over the ${MAX_JSON_NUMBER_DIGITS} the ETL's JSON reader takes`, raw);
  if (shape.loneSurrogate) return dead(env, 'not-json', 'a \\u escape is half of a surrogate pair, alone: no character', raw);
  if (shape.duplicate !== null) return dead(env, 'duplicate-key', `duplicate key ${JSON.stringify(shape.duplicate)}`, raw);
  const obj = value as Record<string, unknown>;
  if (text.includes('\n') || text.includes('\r') || ENVELOPE.some((k) => Object.hasOwn(obj, k))) {
    return { ok: true, line: JSON.stringify({ ...obj, ...env }) };
  }
  const trimmed = text.trim();
  const body = trimmed.slice(1, -1).trim();
  const tail = envelopeTail(env);
  return { ok: true, line: body ? `{${body},${tail}}` : `{${tail}}` };
}

/** The envelope as a staging line ends with it (without the braces): `"_topic":…,"_key":…`. */
export function envelopeTail(env: Envelope): string {
  if (env._topic !== lastTopic) {
    topicJson = JSON.stringify(env._topic);
    lastTopic = env._topic;
  }
  return `"_topic":${topicJson},"_partition":${env._partition},"_offset":${env._offset},"_timestamp":"${env._timestamp}","_key":${env._key === null ? 'null' : JSON.stringify(env._key)}`;
}

/**
 * The record's value as it was sent, from its staging line (what the ETL's dead letters keep): the line
 * without the envelope toLine added (the fields' text byte for byte when toLine kept it); re-serialised without the
 * envelope fields when toLine re-serialised it; the line itself when it is not a JSON object.
 */
export function sentValue(line: string): string {
  let staged: unknown;
  try {
    staged = JSON.parse(line);
  } catch {
    return line;
  }
  if (staged === null || typeof staged !== 'object' || Array.isArray(staged)) return line;
  const obj = staged as Record<string, unknown>;
  const env = obj as unknown as Envelope;
  if (typeof env._topic === 'string' && typeof env._partition === 'number' && typeof env._offset === 'number' && typeof env._timestamp === 'string') {
    const tail = envelopeTail({ _topic: env._topic, _partition: env._partition, _offset: env._offset, _timestamp: env._timestamp, _key: typeof env._key === 'string' ? env._key : null });
    if (line === `{${tail}}`) return '{}';
    if (line.endsWith(`,${tail}}`)) return `${line.slice(0, line.length - tail.length - 2)}}`;
  }
  const rest = Object.fromEntries(Object.entries(obj).filter(([k]) => !(ENVELOPE as readonly string[]).includes(k)));
  return JSON.stringify(rest);
}
