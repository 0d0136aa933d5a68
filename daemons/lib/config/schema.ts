// One convict schema for every setting of every daemon. Each key has a doc, a format, a default
// and (where an operator would set it on a host) a KAFKALAKE_* env var. Secrets are `sensitive`.
// Relative paths are resolved against the project root (see load.ts).

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export const SASL_MECHANISMS = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const;

export interface CrawlTargetConfig {
  path: string;
  tablePrefix: string;
  exclude: string[];
}

export const schema = {
  mode: {
    doc: 'local: the local stack and engines on this machine; aws: AWS services (Glue, Athena run the jobs)',
    format: ['local', 'aws'],
    default: 'local',
    env: 'KAFKALAKE_MODE',
  },
  log: {
    level: { doc: 'lowest level written', format: LOG_LEVELS, default: 'info', env: 'KAFKALAKE_LOG_LEVEL' },
    format: {
      doc: 'json: one JSON object per line (journald, the CloudWatch agent); pretty: short lines for a person; auto: pretty on a terminal, else json',
      format: LOG_FORMATS,
      default: 'auto',
      env: 'KAFKALAKE_LOG_FORMAT',
    },
    file: {
      doc: 'also append JSON lines to this file (for the CloudWatch agent); empty: stdout only',
      format: String,
      default: '',
      env: 'KAFKALAKE_LOG_FILE',
    },
  },
  shutdownTimeoutMs: {
    doc: 'how long a graceful stop (flush, commit, close) may take before the daemon exits anyway',
    format: 'positive-int',
    default: 20000,
    env: 'KAFKALAKE_SHUTDOWN_TIMEOUT_MS',
  },
  kafka: {
    brokers: {
      doc: 'bootstrap brokers, host:port, comma-separated in the env var; local mode, unset: the local stack’s (local.host:local.kafkaPort)',
      format: 'broker-list',
      default: ['127.0.0.1:9092'],
      env: 'KAFKALAKE_KAFKA_BROKERS',
    },
    clientId: { doc: 'Kafka client id prefix', format: 'non-empty-string', default: 'kafkalake', env: 'KAFKALAKE_KAFKA_CLIENT_ID' },
    topic: { doc: 'the topic the producer writes and the consumer lands', format: 'topic-name', default: 'stock_market_data', env: 'KAFKALAKE_KAFKA_TOPIC' },
    partitions: { doc: 'partitions when the topic is created', format: 'positive-int', default: 6, env: 'KAFKALAKE_KAFKA_PARTITIONS' },
    replicationFactor: { doc: 'replication factor when the topic is created', format: 'positive-int', default: 1, env: 'KAFKALAKE_KAFKA_REPLICATION_FACTOR' },
    expectedBrokers: {
      doc: 'brokers the cluster should have alive: fewer is reported (metric BrokersMissing, its alarm, `kafkalake status`); 0: as many as kafka.brokers lists',
      format: 'non-negative-int',
      default: 0,
      env: 'KAFKALAKE_KAFKA_EXPECTED_BROKERS',
    },
    connectionTimeoutMs: { doc: 'TCP connect timeout to a broker', format: 'positive-int', default: 3000, env: 'KAFKALAKE_KAFKA_CONNECTION_TIMEOUT_MS' },
    requestTimeoutMs: { doc: 'timeout of one Kafka request', format: 'positive-int', default: 30000, env: 'KAFKALAKE_KAFKA_REQUEST_TIMEOUT_MS' },
    retries: { doc: 'client retries of a retriable Kafka error before giving up', format: 'non-negative-int', default: 5, env: 'KAFKALAKE_KAFKA_RETRIES' },
    ssl: {
      enabled: { doc: 'TLS to the brokers (SASL_SSL / SSL listeners)', format: 'bool', default: false, env: 'KAFKALAKE_KAFKA_SSL' },
      caFile: { doc: 'PEM file of the CA that signed the brokers’ certificates; empty: system CAs', format: String, default: '', env: 'KAFKALAKE_KAFKA_SSL_CA_FILE' },
    },
    sasl: {
      mechanism: { doc: 'SASL mechanism', format: SASL_MECHANISMS, default: 'none', env: 'KAFKALAKE_KAFKA_SASL_MECHANISM' },
      username: { doc: 'SASL user', format: String, default: '', env: 'KAFKALAKE_KAFKA_SASL_USERNAME' },
      password: { doc: 'SASL password', format: String, default: '', sensitive: true, env: 'KAFKALAKE_KAFKA_SASL_PASSWORD' },
    },
  },
  aws: {
    region: { doc: 'AWS region', format: 'non-empty-string', default: 'us-east-1', env: 'KAFKALAKE_AWS_REGION' },
    endpoint: {
      doc: 'endpoint override for every AWS client (the local twin in local mode); empty: the AWS endpoints',
      format: 'url-or-empty',
      default: '',
      env: 'KAFKALAKE_AWS_ENDPOINT',
    },
    bucket: { doc: 'the S3 bucket of staging, lake, state and reports (required in aws mode)', format: String, default: '', env: 'KAFKALAKE_AWS_BUCKET' },
    accessKeyId: {
      doc: 'static access key; empty: the SDK’s default chain (instance profile on EC2)',
      format: String,
      default: '',
      sensitive: true,
      env: 'KAFKALAKE_AWS_ACCESS_KEY_ID',
    },
    secretAccessKey: { doc: 'static secret key, with accessKeyId', format: String, default: '', sensitive: true, env: 'KAFKALAKE_AWS_SECRET_ACCESS_KEY' },
    maxAttempts: { doc: 'attempts per AWS call (the SDK’s retry strategy, jittered backoff)', format: 'positive-int', default: 5, env: 'KAFKALAKE_AWS_MAX_ATTEMPTS' },
    requestTimeoutMs: { doc: 'timeout of one AWS HTTP request', format: 'positive-int', default: 10000, env: 'KAFKALAKE_AWS_REQUEST_TIMEOUT_MS' },
  },
  producer: {
    client: {
      doc: 'the Kafka client library that sends: kafkajs (JavaScript, always installed) or librdkafka (@confluentinc/kafka-javascript, an optional dependency built from source by setup.sh; faster, see BENCHMARKS.md)',
      format: ['kafkajs', 'librdkafka'],
      default: 'kafkajs',
      env: 'KAFKALAKE_PRODUCER_CLIENT',
    },
    source: { doc: 'csv: replay a CSV file; simulate: endless random-walk ticks', format: ['csv', 'simulate'], default: 'csv', env: 'KAFKALAKE_PRODUCER_SOURCE' },
    file: {
      doc: 'the CSV (or .csv.gz) file the csv source replays',
      format: String,
      default: 'daemons/producer/data/indexProcessed.csv.gz',
      env: 'KAFKALAKE_PRODUCER_FILE',
    },
    rate: { doc: 'records per second; 0: as fast as the broker takes them', format: 'non-negative-int', default: 200, env: 'KAFKALAKE_PRODUCER_RATE' },
    loop: { doc: 'replay the file again from the top when it ends', format: 'bool', default: true, env: 'KAFKALAKE_PRODUCER_LOOP' },
    limit: { doc: 'stop after this many records; 0: no limit', format: 'non-negative-int', default: 0, env: 'KAFKALAKE_PRODUCER_LIMIT' },
    seed: { doc: 'seed of the simulate source (same seed, same ticks)', format: 'non-negative-int', default: 1, env: 'KAFKALAKE_PRODUCER_SEED' },
    symbols: {
      doc: 'symbols the simulate source trades each day (the dataset\'s 13 indexes first, then SIM0014…); the trade date moves on when each has had its bar',
      format: 'positive-int',
      default: 1000,
      env: 'KAFKALAKE_PRODUCER_SYMBOLS',
    },
    batchSize: { doc: 'records per produce request (sendBatch)', format: 'positive-int', default: 2000, env: 'KAFKALAKE_PRODUCER_BATCH_SIZE' },
    maxInFlight: {
      doc: 'produce requests awaiting acknowledgement at once: kafkajs runs one idempotent producer per group of partitions, each with one request in flight (at most one per partition); librdkafka: requests in flight per broker connection (at most 5 with idempotence)',
      format: 'positive-int',
      default: 4,
      env: 'KAFKALAKE_PRODUCER_MAX_IN_FLIGHT',
    },
    lingerMs: { doc: 'librdkafka only: how long a batch waits for more records before it is sent (linger.ms)', format: 'non-negative-int', default: 20, env: 'KAFKALAKE_PRODUCER_LINGER_MS' },
    deliveryTimeoutMs: {
      doc: 'how long a send is retried (a broker restart, a leader moving) before its records count as failed and the producer stops: librdkafka’s message.timeout.ms, kafkajs’ retries with backoff; also bounds flushing at stop',
      format: 'positive-int',
      default: 60000,
      env: 'KAFKALAKE_PRODUCER_DELIVERY_TIMEOUT_MS',
    },
    statsIntervalMs: { doc: 'how often sent/failed counts and the rate are logged', format: 'positive-int', default: 10000, env: 'KAFKALAKE_PRODUCER_STATS_INTERVAL_MS' },
  },
  consumer: {
    groupId: { doc: 'consumer group id', format: 'non-empty-string', default: 'kafkalake-staging', env: 'KAFKALAKE_CONSUMER_GROUP_ID' },
    stagingPrefix: { doc: 'S3 prefix of staging objects', format: 'non-empty-string', default: 'staging', env: 'KAFKALAKE_CONSUMER_STAGING_PREFIX' },
    flush: {
      maxRecords: { doc: 'an object closes at this many records', format: 'positive-int', default: 50000, env: 'KAFKALAKE_CONSUMER_FLUSH_MAX_RECORDS' },
      maxBytes: { doc: 'an object closes at this many uncompressed bytes', format: 'positive-int', default: 16777216, env: 'KAFKALAKE_CONSUMER_FLUSH_MAX_BYTES' },
      intervalMs: { doc: 'an object closes this long after its first record', format: 'positive-int', default: 1000, env: 'KAFKALAKE_CONSUMER_FLUSH_INTERVAL_MS' },
    },
    maxRecordBytes: { doc: 'a record value larger than this goes to the DLQ', format: 'positive-int', default: 1048576, env: 'KAFKALAKE_CONSUMER_MAX_RECORD_BYTES' },
    maxBufferedBytes: {
      doc: 'bytes held in open objects before partitions are paused (bounds memory whatever the lag)',
      format: 'positive-int',
      default: 67108864,
      env: 'KAFKALAKE_CONSUMER_MAX_BUFFERED_BYTES',
    },
    sessionTimeoutMs: {
      doc: 'group session timeout: how soon a dead consumer’s partitions move to another member (broker allows 6000..300000)',
      format: 'positive-int',
      default: 10000,
      env: 'KAFKALAKE_CONSUMER_SESSION_TIMEOUT_MS',
    },
    fetchMaxBytesPerPartition: { doc: 'most bytes one fetch returns per partition', format: 'positive-int', default: 1048576, env: 'KAFKALAKE_CONSUMER_FETCH_MAX_BYTES_PER_PARTITION' },
    partitionsConcurrently: { doc: 'partitions processed (and written) at the same time', format: 'positive-int', default: 3, env: 'KAFKALAKE_CONSUMER_PARTITIONS_CONCURRENTLY' },
    topicWaitMs: {
      doc: 'how long the consumer waits at start for its topic to exist (the producer or `kafkalake up` creates it) before it exits 1',
      format: 'positive-int',
      default: 300000,
      env: 'KAFKALAKE_CONSUMER_TOPIC_WAIT_MS',
    },
    maxHeapMb: {
      doc: 'heap of the consumer’s worker thread (old generation, MB); with maxBufferedBytes it bounds the process RSS',
      format: 'positive-int',
      default: 128,
      env: 'KAFKALAKE_CONSUMER_MAX_HEAP_MB',
    },
  },
  etl: {
    cron: { doc: 'when the scheduler runs the ETL job (node-cron, seconds field allowed). A fire while a run is still going runs the ETL once more as soon as that run ends (other jobs skip such a fire and count it)', format: 'cron', default: '*/15 * * * * *', env: 'KAFKALAKE_ETL_CRON' },
    jobName: { doc: 'the Glue job name (aws mode) and bookmark name', format: 'non-empty-string', default: 'kafkalake-etl', env: 'KAFKALAKE_ETL_JOB_NAME' },
    timeoutMs: {
      doc: 'a run still going after this long is reported as failed (in aws mode: and Glue is asked to stop it); 0: local mode 30 minutes, aws mode etl.glueTimeoutMinutes plus 20 minutes (the run’s start-up and its wait for resources, which Glue’s Timeout does not count); in aws mode at least that',
      format: 'non-negative-int',
      default: 0,
      env: 'KAFKALAKE_ETL_TIMEOUT_MS',
    },
    glueTimeoutMinutes: {
      doc: 'aws mode: the Timeout of each Glue job run (StartJobRun, 1..10080 minutes): Glue stops a run that consumed resources this long',
      format: 'positive-int',
      default: 30,
      env: 'KAFKALAKE_ETL_GLUE_TIMEOUT_MINUTES',
    },
    specDir: { doc: 'the directory of the job specs, one JSON file per lake table', format: 'non-empty-string', default: 'glue/tables', env: 'KAFKALAKE_ETL_SPEC_DIR' },
    pollIntervalMs: { doc: 'aws mode: how often GetJobRun is polled', format: 'positive-int', default: 15000, env: 'KAFKALAKE_ETL_POLL_INTERVAL_MS' },
    lockTtlMs: {
      doc: 'the run lock (_state/<job>.lock) expires this long after it was taken; 0: timeoutMs plus 5 minutes',
      format: 'non-negative-int',
      default: 0,
      env: 'KAFKALAKE_ETL_LOCK_TTL_MS',
    },
    memoryMb: { doc: 'local mode: DuckDB memory limit (it spills to disk beyond it)', format: 'positive-int', default: 1024, env: 'KAFKALAKE_ETL_MEMORY_MB' },
    threads: { doc: 'local mode: DuckDB threads', format: 'positive-int', default: 2, env: 'KAFKALAKE_ETL_THREADS' },
    workDir: { doc: 'local mode: where downloads and spill files go; empty: the system temp dir', format: String, default: '', env: 'KAFKALAKE_ETL_WORK_DIR' },
    retainMinutes: {
      doc: 'a lake generation replaced by a rewrite or compaction is deleted this long after (a query that started before the switch still reads it; Athena stops DML queries after 30 minutes)',
      format: 'non-negative-int',
      default: 120,
      env: 'KAFKALAKE_ETL_RETAIN_MINUTES',
    },
  },
  compact: {
    cron: {
      doc: 'when the scheduler compacts the lake: a partition with too many or too small files has its small files rewritten into files of the spec’s maxRowsPerFile rows and its full ones copied, as a new generation (a bin-pack: glue/README.md); empty: never',
      format: 'cron-or-empty',
      default: '0 */5 * * * *',
      env: 'KAFKALAKE_COMPACT_CRON',
    },
    maxFiles: {
      doc: 'a partition with more files than this, two of them small (below 3/4 of maxRowsPerFile rows), is compacted (so is one with more than one file below maxRowsPerFile / 4 rows)',
      format: 'positive-int',
      default: 8,
      env: 'KAFKALAKE_COMPACT_MAX_FILES',
    },
  },
  crawl: {
    cron: { doc: 'when the crawler runs; empty: after each ETL run that created new lake partitions (appends need none: the ETL moves partition locations itself, projection finds staging and DLQ folders)', format: 'cron-or-empty', default: '', env: 'KAFKALAKE_CRAWL_CRON' },
    crawlerName: { doc: 'the Glue crawler name', format: 'non-empty-string', default: 'kafkalake-lake', env: 'KAFKALAKE_CRAWL_CRAWLER_NAME' },
    database: { doc: 'the Glue database', format: 'non-empty-string', default: 'kafkalake', env: 'KAFKALAKE_CRAWL_DATABASE' },
    targets: {
      doc: 'local crawler: S3 prefixes crawled, each {path, tablePrefix, exclude[]}; a table per folder under a path (Glue TableLevelConfiguration = path depth + 1)',
      format: 'crawl-targets',
      env: 'KAFKALAKE_CRAWL_TARGETS',
      default: [
        { path: 'datalake/', tablePrefix: '', exclude: [] },
        { path: 'staging/', tablePrefix: 'staging_', exclude: ['staging/_dlq/'] },
        { path: 'staging/_dlq/', tablePrefix: 'dlq_', exclude: [] },
      ],
    },
    schemaChangePolicy: {
      doc: 'local crawler: a changed schema updates the table (UPDATE_IN_DATABASE) or is only logged (LOG), as Glue’s SchemaChangePolicy.UpdateBehavior',
      format: ['UPDATE_IN_DATABASE', 'LOG'],
      default: 'UPDATE_IN_DATABASE',
      env: 'KAFKALAKE_CRAWL_SCHEMA_CHANGE_POLICY',
    },
    deleteBehavior: {
      doc: 'local crawler: tables/partitions whose objects are gone are logged (LOG) or marked DEPRECATED_BY_CRAWLER (DEPRECATE_IN_DATABASE)',
      format: ['LOG', 'DEPRECATE_IN_DATABASE'],
      default: 'LOG',
      env: 'KAFKALAKE_CRAWL_DELETE_BEHAVIOR',
    },
    recrawlPolicy: {
      doc: 'local crawler: list every object of the targets each crawl (CRAWL_EVERYTHING), or only folders not crawled before (CRAWL_NEW_FOLDERS_ONLY: needs schemaChangePolicy and deleteBehavior LOG), as Glue’s RecrawlPolicy',
      format: ['CRAWL_EVERYTHING', 'CRAWL_NEW_FOLDERS_ONLY'],
      default: 'CRAWL_EVERYTHING',
      env: 'KAFKALAKE_CRAWL_RECRAWL_POLICY',
    },
    sampleBytes: { doc: 'local crawler: bytes read from the start of a JSON/CSV object to infer its schema', format: 'positive-int', default: 1048576, env: 'KAFKALAKE_CRAWL_SAMPLE_BYTES' },
    pollIntervalMs: { doc: 'aws mode: how often GetCrawler is polled while the crawler runs', format: 'positive-int', default: 15000, env: 'KAFKALAKE_CRAWL_POLL_INTERVAL_MS' },
    timeoutMs: { doc: 'a crawl still running after this long is reported as failed', format: 'positive-int', default: 1800000, env: 'KAFKALAKE_CRAWL_TIMEOUT_MS' },
  },
  reports: {
    cron: { doc: 'when the saved reports run; empty: each SQL file’s header schedule', format: 'cron-or-empty', default: '', env: 'KAFKALAKE_REPORTS_CRON' },
    workgroup: { doc: 'the Athena workgroup', format: 'non-empty-string', default: 'kafkalake', env: 'KAFKALAKE_REPORTS_WORKGROUP' },
    keep: { doc: 'report files kept per report', format: 'positive-int', default: 30, env: 'KAFKALAKE_REPORTS_KEEP' },
    dir: { doc: 'the saved queries, one .sql file each with a name/description/schedule header', format: 'non-empty-string', default: 'sql/reports', env: 'KAFKALAKE_REPORTS_DIR' },
    prefix: { doc: 'S3 prefix of the report files (<prefix><name>/<YYYY-MM-DD>.csv)', format: 'non-empty-string', default: 'reports/', env: 'KAFKALAKE_REPORTS_PREFIX' },
    outputPrefix: { doc: 'S3 prefix of query results (<prefix><query-id>.csv), as the workgroup’s output location', format: 'non-empty-string', default: 'athena-results/', env: 'KAFKALAKE_REPORTS_OUTPUT_PREFIX' },
    pollMinMs: { doc: 'aws mode: first GetQueryExecution poll interval (doubles up to pollMaxMs)', format: 'positive-int', default: 250, env: 'KAFKALAKE_REPORTS_POLL_MIN_MS' },
    pollMaxMs: { doc: 'aws mode: longest GetQueryExecution poll interval', format: 'positive-int', default: 5000, env: 'KAFKALAKE_REPORTS_POLL_MAX_MS' },
    timeoutMs: { doc: 'a query still running after this long is stopped and reported as failed', format: 'positive-int', default: 600000, env: 'KAFKALAKE_REPORTS_TIMEOUT_MS' },
    cacheDir: { doc: 'local mode: where the SQL engine keeps downloaded lake objects and its DuckDB files', format: 'non-empty-string', default: '.kafkalake/cache/sql', env: 'KAFKALAKE_REPORTS_CACHE_DIR' },
    memoryMb: { doc: 'local mode: DuckDB memory limit of a query', format: 'positive-int', default: 1024, env: 'KAFKALAKE_REPORTS_MEMORY_MB' },
    threads: { doc: 'local mode: DuckDB threads of a query', format: 'positive-int', default: 2, env: 'KAFKALAKE_REPORTS_THREADS' },
    copyBelowMb: {
      doc: 'local mode: a table whose objects total fewer MB is copied into the query’s DuckDB file when the lake changes; a larger one is read in place by each query (0: always in place)',
      format: 'non-negative-int',
      default: 8,
      env: 'KAFKALAKE_REPORTS_COPY_BELOW_MB',
    },
  },
  metrics: {
    enabled: { doc: 'send metrics to CloudWatch', format: 'bool', default: true, env: 'KAFKALAKE_METRICS_ENABLED' },
    namespace: { doc: 'CloudWatch namespace', format: 'non-empty-string', default: 'KafkaLake', env: 'KAFKALAKE_METRICS_NAMESPACE' },
    flushIntervalMs: { doc: 'how often batched metrics are sent', format: 'positive-int', default: 60000, env: 'KAFKALAKE_METRICS_FLUSH_INTERVAL_MS' },
    maxPending: {
      doc: 'metric datums kept while CloudWatch is unreachable; beyond it the oldest are dropped and counted',
      format: 'positive-int',
      default: 5000,
      env: 'KAFKALAKE_METRICS_MAX_PENDING',
    },
  },
  scheduler: {
    keepRuns: { doc: 'runs kept per job in the history (_state/scheduler/history.json)', format: 'positive-int', default: 20, env: 'KAFKALAKE_SCHEDULER_KEEP_RUNS' },
    retries: { doc: 'retries of a job run that failed with a transient error (throttling, 5xx, timeouts); permanent errors are not retried', format: 'non-negative-int', default: 3, env: 'KAFKALAKE_SCHEDULER_RETRIES' },
    retryMinMs: { doc: 'first backoff before retrying a job run (doubles, jittered)', format: 'positive-int', default: 2000, env: 'KAFKALAKE_SCHEDULER_RETRY_MIN_MS' },
    retryMaxMs: { doc: 'longest backoff between attempts of a job run', format: 'positive-int', default: 60000, env: 'KAFKALAKE_SCHEDULER_RETRY_MAX_MS' },
    catchUp: { doc: 'run a schedule missed while the scheduler was down once at start', format: 'bool', default: true, env: 'KAFKALAKE_SCHEDULER_CATCH_UP' },
    lagIntervalMs: {
      doc: 'how often the scheduler measures the consumer group lag from Kafka (metric ConsumerGroupLag, which the lag alarm watches) and the cluster’s health (BrokersMissing, UnderReplicatedPartitions, OfflinePartitions and their alarms); 0: never',
      format: 'non-negative-int',
      default: 30000,
      env: 'KAFKALAKE_SCHEDULER_LAG_INTERVAL_MS',
    },
    evaluateAlarms: {
      doc: 'evaluate the alarms and set their state (SetAlarmState): auto = in local mode only, where the AWS twin evaluates none',
      format: ['auto', 'on', 'off'],
      default: 'auto',
      env: 'KAFKALAKE_SCHEDULER_EVALUATE_ALARMS',
    },
    alarmIntervalMs: { doc: 'how often the scheduler evaluates the alarms when it does', format: 'positive-int', default: 60000, env: 'KAFKALAKE_SCHEDULER_ALARM_INTERVAL_MS' },
  },
  monitoring: {
    alarmsFile: { doc: 'the alarm definitions `kafkalake bootstrap` creates', format: 'non-empty-string', default: 'config/alarms.json', env: 'KAFKALAKE_MONITORING_ALARMS_FILE' },
    alarmPrefix: { doc: 'prefix of every alarm name', format: 'non-empty-string', default: 'kafkalake-', env: 'KAFKALAKE_MONITORING_ALARM_PREFIX' },
    alarmActions: { doc: 'ARNs (SNS topics) notified when an alarm changes state, comma-separated; empty: none', format: Array, default: [] as string[], env: 'KAFKALAKE_MONITORING_ALARM_ACTIONS' },
    periodSeconds: {
      doc: 'the period of the alarms, the dashboard and status rates (CloudWatch: 60 or a multiple; at least metrics.flushIntervalMs so every period has a heartbeat)',
      format: 'positive-int',
      default: 60,
      env: 'KAFKALAKE_MONITORING_PERIOD_SECONDS',
    },
    lagThreshold: { doc: 'records behind at which the consumer-lag-high alarm fires', format: 'positive-int', default: 50000, env: 'KAFKALAKE_MONITORING_LAG_THRESHOLD' },
    dashboardName: { doc: 'the CloudWatch dashboard `kafkalake bootstrap` writes', format: 'non-empty-string', default: 'kafkalake', env: 'KAFKALAKE_MONITORING_DASHBOARD_NAME' },
  },
  local: {
    stateDir: { doc: 'data of the local stack (ZooKeeper, Kafka, the AWS twin)', format: String, default: '.kafkalake/state', env: 'KAFKALAKE_LOCAL_STATE_DIR' },
    libDir: { doc: 'the Kafka and ZooKeeper jars (resolved by Maven)', format: String, default: '.kafkalake/lib', env: 'KAFKALAKE_LOCAL_LIB_DIR' },
    venvDir: { doc: 'the Python venv of the AWS twin and pyspark', format: String, default: '.kafkalake/venv', env: 'KAFKALAKE_LOCAL_VENV_DIR' },
    host: { doc: 'the address the local stack listens on', format: 'non-empty-string', default: '127.0.0.1', env: 'KAFKALAKE_LOCAL_HOST' },
    zookeeperPort: { doc: 'ZooKeeper client port', format: 'tcp-port', default: 2181, env: 'KAFKALAKE_LOCAL_ZOOKEEPER_PORT' },
    kafkaPort: { doc: 'Kafka listener port', format: 'tcp-port', default: 9092, env: 'KAFKALAKE_LOCAL_KAFKA_PORT' },
    controllerPort: { doc: 'KRaft controller port (kraft only)', format: 'tcp-port', default: 9093, env: 'KAFKALAKE_LOCAL_CONTROLLER_PORT' },
    awsPort: { doc: 'the AWS API twin port', format: 'tcp-port', default: 4566, env: 'KAFKALAKE_LOCAL_AWS_PORT' },
    kraft: { doc: 'run Kafka in KRaft mode instead of on ZooKeeper', format: 'bool', default: false, env: 'KAFKALAKE_LOCAL_KRAFT' },
    kafkaHeapMb: { doc: 'heap of the local Kafka broker', format: 'positive-int', default: 1024, env: 'KAFKALAKE_LOCAL_KAFKA_HEAP_MB' },
    startTimeoutMs: { doc: 'how long `stack start` waits for each service to answer', format: 'positive-int', default: 60000, env: 'KAFKALAKE_LOCAL_START_TIMEOUT_MS' },
  },
} as const;

export interface Config {
  mode: 'local' | 'aws';
  log: { level: (typeof LOG_LEVELS)[number]; format: (typeof LOG_FORMATS)[number]; file: string };
  shutdownTimeoutMs: number;
  kafka: {
    brokers: string[];
    clientId: string;
    topic: string;
    partitions: number;
    replicationFactor: number;
    /** 0: kafka.brokers.length (expectedBrokersOf) */
    expectedBrokers: number;
    connectionTimeoutMs: number;
    requestTimeoutMs: number;
    retries: number;
    ssl: { enabled: boolean; caFile: string };
    sasl: { mechanism: (typeof SASL_MECHANISMS)[number]; username: string; password: string };
  };
  aws: {
    region: string;
    endpoint: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
    maxAttempts: number;
    requestTimeoutMs: number;
  };
  producer: {
    client: 'kafkajs' | 'librdkafka';
    source: 'csv' | 'simulate';
    file: string;
    rate: number;
    loop: boolean;
    limit: number;
    seed: number;
    symbols: number;
    batchSize: number;
    maxInFlight: number;
    lingerMs: number;
    deliveryTimeoutMs: number;
    statsIntervalMs: number;
  };
  consumer: {
    groupId: string;
    stagingPrefix: string;
    flush: { maxRecords: number; maxBytes: number; intervalMs: number };
    maxRecordBytes: number;
    maxBufferedBytes: number;
    sessionTimeoutMs: number;
    fetchMaxBytesPerPartition: number;
    partitionsConcurrently: number;
    topicWaitMs: number;
    maxHeapMb: number;
  };
  etl: {
    cron: string;
    jobName: string;
    /** the effective limit: never 0 after loadConfig */
    timeoutMs: number;
    glueTimeoutMinutes: number;
    specDir: string;
    pollIntervalMs: number;
    lockTtlMs: number;
    memoryMb: number;
    threads: number;
    workDir: string;
    retainMinutes: number;
  };
  compact: {
    cron: string;
    maxFiles: number;
  };
  crawl: {
    cron: string;
    crawlerName: string;
    database: string;
    targets: CrawlTargetConfig[];
    schemaChangePolicy: 'UPDATE_IN_DATABASE' | 'LOG';
    deleteBehavior: 'LOG' | 'DEPRECATE_IN_DATABASE';
    recrawlPolicy: 'CRAWL_EVERYTHING' | 'CRAWL_NEW_FOLDERS_ONLY';
    sampleBytes: number;
    pollIntervalMs: number;
    timeoutMs: number;
  };
  reports: {
    cron: string;
    workgroup: string;
    keep: number;
    dir: string;
    prefix: string;
    outputPrefix: string;
    pollMinMs: number;
    pollMaxMs: number;
    timeoutMs: number;
    cacheDir: string;
    memoryMb: number;
    threads: number;
    copyBelowMb: number;
  };
  metrics: { enabled: boolean; namespace: string; flushIntervalMs: number; maxPending: number };
  scheduler: {
    keepRuns: number;
    retries: number;
    retryMinMs: number;
    retryMaxMs: number;
    catchUp: boolean;
    lagIntervalMs: number;
    evaluateAlarms: 'auto' | 'on' | 'off';
    alarmIntervalMs: number;
  };
  monitoring: { alarmsFile: string; alarmPrefix: string; alarmActions: string[]; periodSeconds: number; lagThreshold: number; dashboardName: string };
  local: {
    stateDir: string;
    libDir: string;
    venvDir: string;
    host: string;
    zookeeperPort: number;
    kafkaPort: number;
    controllerPort: number;
    awsPort: number;
    kraft: boolean;
    kafkaHeapMb: number;
    startTimeoutMs: number;
  };
}
