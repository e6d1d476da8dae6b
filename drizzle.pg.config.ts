import { defineConfig } from 'drizzle-kit';

/** PostgreSQL's migrations (DATABASE_URL=postgres://…): `npm run db:generate:pg`. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/pg/schema.ts',
  out: './db/pg/migrations',
});
