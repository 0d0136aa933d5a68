import test from 'ava';
import { parseShow } from './show.js';

test('Athena’s catalog statements are recognised, names as Athena folds them; anything else is not one', (t) => {
  t.deepEqual(parseShow('SHOW TABLES'), { kind: 'tables', database: undefined, like: undefined });
  t.deepEqual(parseShow("show tables in Kafkalake like 'stock%';"), { kind: 'tables', database: 'kafkalake', like: 'stock%' });
  t.deepEqual(parseShow('SHOW PARTITIONS stock_market_data'), { kind: 'partitions', database: undefined, table: 'stock_market_data' });
  t.deepEqual(parseShow('SHOW PARTITIONS awsdatacatalog.kafkalake."Odd Name"'), { kind: 'partitions', database: 'kafkalake', table: 'Odd Name' });
  t.deepEqual(parseShow('SHOW COLUMNS FROM kafkalake.t'), { kind: 'columns', database: 'kafkalake', table: 't' });
  t.deepEqual(parseShow('DESCRIBE T'), { kind: 'describe', database: undefined, table: 't' });
  t.is(parseShow('SELECT 1'), undefined);
  t.is(parseShow('SHOW CREATE TABLE t'), undefined);
  t.is(parseShow('DESCRIBE SELECT 1'), undefined);
});
