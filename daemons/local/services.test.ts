import test from 'ava';
import { kraftClusterId } from './services.js';

test('a KRaft cluster id is 16 bytes in URL-safe base64 and never starts with "-" (the storage tool reads that as an option)', (t) => {
  // 0xf8 gives "-" as the first base64url character: such draws are refused and the next one taken
  const draws: Buffer[] = [Buffer.alloc(16, 0xf8), Buffer.from('00112233445566778899aabbccddeeff', 'hex')];
  let drawn = 0;
  const id = kraftClusterId(() => draws[drawn++] ?? Buffer.alloc(16));
  t.is(drawn, 2);
  t.is(id, Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64url'));
  t.is(id.length, 22);
  t.true(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-'));
  for (let i = 0; i < 2000; i++) t.false(kraftClusterId().startsWith('-'));
});
