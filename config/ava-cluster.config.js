// The multi-host test (test/ansible/cluster.test.ts, about 30 minutes: six systemd-nspawn hosts), run on
// its own after the rest of the suite (`npm test` chains `npm run test:cluster`), so its hosts do not
// share the 2 cores with the timing-bound tests (chaos, freshness), and theirs not with its faults:
//   npx ava --config config/ava-cluster.config.js
// The rest of the ava settings are package.json's "ava" section, which excludes this file.
export default {
  files: ['dist/test/ansible/cluster.test.js'],
  require: ['./dist/daemons/lib/kafkajs-timeout.js'],
  timeout: '10m',
  workerThreads: false,
  verbose: true,
};
