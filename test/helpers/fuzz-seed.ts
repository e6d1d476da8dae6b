/**
 * Seeds fast-check from FIREBREAK_FUZZ_SEED when it is set. Local runs leave it unset, so every
 * run explores new inputs; .ci/run pins it, so CI on a given commit fuzzes the same inputs and a
 * red CI can be replayed exactly. A failure always prints its seed and shrink path.
 */
import fc from 'fast-check';

const raw = process.env.FIREBREAK_FUZZ_SEED;
if (raw !== undefined && raw !== '') {
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed))
    throw new Error(`FIREBREAK_FUZZ_SEED must be an integer, got ${JSON.stringify(raw)}`);
  fc.configureGlobal({ seed });
}
