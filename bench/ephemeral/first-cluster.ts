// A fresh process's first cluster (what a CI job pays): prints the milliseconds to ready + first query.
import pg from 'pg';
import { startCluster } from '../../src/postgres/ephemeral/index.ts';

const started = performance.now();
const cluster = await startCluster({ shadow: 'local', major: Number(process.argv[2]) });
const client = new pg.Client({ connectionString: cluster.url });
await client.connect();
await client.query('select 1');
await client.end();
process.stdout.write(`${performance.now() - started}\n`);
await cluster.stop();
