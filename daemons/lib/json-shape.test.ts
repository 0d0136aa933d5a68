// The shape the stages judge a record by (json-shape.ts): depth, the longest number's digits, and the
// first top-level key seen twice, at the limits Spark's JSON reader has (measured: depth 1000 and 1,000
// digits are read, 1001 are not; the equivalence test in test/integration/etl.test.ts holds both executors to them).
import test from 'ava';
import { jsonShape, MAX_JSON_DEPTH, MAX_JSON_NUMBER_DIGITS } from './json-shape.js';

test('depth counts the top-level object as 1, strings hide brackets, any depth without recursion', (t) => {
  t.is(jsonShape('{}').depth, 1);
  t.is(jsonShape('{"a":[1,{"b":[]}],"c":"[[[{{{"}').depth, 4);
  t.is(jsonShape(`{"d":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`).depth, MAX_JSON_DEPTH);
  t.is(jsonShape(`{"d":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`).depth, 50_001);
  t.is(jsonShape('{"a":[[],[],[[]]]}').depth, 4, 'down and up again is not deeper');
});

test('digits count every digit of one number (not its sign, point or exponent mark), never those of strings', (t) => {
  t.is(jsonShape('{"a":-12.5e+10,"b":7}').digits, 5);
  t.is(jsonShape(`{"a":-${'1'.repeat(MAX_JSON_NUMBER_DIGITS)}}`).digits, MAX_JSON_NUMBER_DIGITS);
  t.is(jsonShape(`{"a":1.${'1'.repeat(998)}e55}`).digits, 1001);
  t.is(jsonShape(`{"a":"${'9'.repeat(5000)}","b":[1,22]}`).digits, 2);
  t.is(jsonShape('{"a":true,"b":null,"c":false}').digits, 0);
});

test('the first top-level key seen twice, escapes decoded; nested and string look-alikes are no duplicate', (t) => {
  t.is(jsonShape('{"index":"DK1","index":"DK2"}').duplicate, 'index');
  t.is(jsonShape('{"index":"a","\\u0069ndex":"b"}').duplicate, 'index', 'the same key spelled with an escape');
  t.is(jsonShape('{"b":1,"index":1,"b":2,"index":2}').duplicate, 'b', 'the key whose second use comes first');
  t.is(jsonShape('{"a":{"x":1,"x":2},"b":[{"y":1,"y":1}]}').duplicate, null, 'nested objects are values, not the record\'s fields');
  t.is(jsonShape('{"a":"b\\":","b" : 1, "c":"\\"a\\" :"}').duplicate, null, 'a key-like text inside a string');
  t.is(jsonShape('{"a\\"b":1,"a\\"b" :2}').duplicate, 'a"b');
  t.is(jsonShape('{ "a" \n : 1 , "A":2}').duplicate, null, 'keys are case-sensitive');
});

test('a lone half of a surrogate pair, escaped, is found; a pair, or an escaped backslash before "u", is not', (t) => {
  t.true(jsonShape('{"index":"A\\ud800B"}').loneSurrogate);
  t.true(jsonShape('{"index":"\\udc00"}').loneSurrogate);
  t.true(jsonShape('{"\\uD83D":1}').loneSurrogate, 'in a key too');
  t.false(jsonShape('{"index":"\\ud83d\\ude00 \\u00e9"}').loneSurrogate, 'a pair is one character');
  t.false(jsonShape('{"index":"\\\\ud800"}').loneSurrogate, 'an escaped backslash, then the text ud800');
  t.false(jsonShape('{"index":"😀"}').loneSurrogate);
});
