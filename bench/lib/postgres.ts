/**
 * A local PostgreSQL for the benchmarks that compare it with SQLite: a throwaway cluster on
 * loopback from the Debian binaries (as the integration tests start one), with fsync ON, so a
 * commit is as durable as SQLite's synchronous=FULL one, and one fresh database in it.
 */
import { createTestDatabase } from '../../test/helpers/postgres';
import { startPostgres } from '../../test/integration/services';

export async function withBenchPostgres<T>(run: (url: string) => Promise<T>): Promise<T> {
  const cluster = await startPostgres({ durable: true });
  try {
    const db = await createTestDatabase(cluster.adminUrl);
    try {
      return await run(db.url);
    } finally {
      await db.drop();
    }
  } finally {
    await cluster.stop();
  }
}
