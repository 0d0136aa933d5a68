// The result CSV as Athena writes it, byte for byte: the reports and `kafkalake query --format csv` are
// this text in both modes, so a saved report's file does not change when it moves to Athena.
import test from 'ava';
import { resultCsv } from './result.js';

test('every value quoted, quotes doubled, NULL an empty field, an empty string "" , one \\n per row', (t) => {
  const csv = resultCsv({
    columns: ['index', 'note', 'n'].map((name) => ({ name, type: 'varchar' })),
    rows: [
      ['HSI', 'say "hi", then\nleave', '1'],
      ['N225', null, '2.0'],
      ['', '', null],
    ],
  });
  t.is(csv, '"index","note","n"\n"HSI","say ""hi"", then\nleave","1"\n"N225",,"2.0"\n"","",\n');
});

test('a result with no rows is its header alone', (t) => {
  t.is(resultCsv({ columns: [{ name: '_col0', type: 'bigint' }], rows: [] }), '"_col0"\n');
});
