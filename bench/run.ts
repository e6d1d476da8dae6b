/**
 * `npm run bench [name…]`: runs the benchmarks (all by default) on this machine and prints one
 * `BENCH {json}` line per figure, with ratios against baselines measured in the same run.
 * Results with machine details are recorded by hand in bench/RESULTS.md.
 */
import os from 'node:os';
import { benchApproval } from './approval';
import { benchContainment } from './containment';
import { benchIngest } from './ingest';
import { benchScale } from './scale';
import { benchStop } from './stop';
import { benchStorm } from './storm';

const benches: Record<string, () => Promise<void>> = {
  ingest: benchIngest,
  storm: benchStorm,
  containment: benchContainment,
  approval: benchApproval,
  scale: benchScale,
  stop: benchStop,
};

async function main() {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : Object.keys(benches);
  const unknown = names.filter((n) => !benches[n]);
  if (unknown.length > 0)
    throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; have ${Object.keys(benches).join(', ')}`);
  console.log(
    `BENCH ${JSON.stringify({ machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, mem_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` } })}`,
  );
  for (const name of names) {
    console.log(`# ${name}`);
    await benches[name]!();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
