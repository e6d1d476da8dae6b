/**
 * The ingest baseline, run as its own process like the API it is compared with: a bare Hono
 * handler on the same server library that parses the same body and answers 202.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.post('/v1/alerts', async (c) => {
  await c.req.json();
  return c.json({ incident_id: 'inc-0', deduplicated: true }, 202);
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  console.log(`baseline ready: http://127.0.0.1:${info.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
