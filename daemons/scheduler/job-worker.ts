// The file the scheduler forks for each job run (worker.ts): the `kafkalake run` table, served once.
import { RUN_JOBS } from '../jobs/table.js';
import { serveWorker } from './worker.js';

serveWorker(RUN_JOBS);
