/**
 * An expected failure of a command (the server refused the token, nothing answers, bad input):
 * cli/index.ts prints its message, which says what to do, and exits 1, without a stack trace.
 */
export class CliError extends Error {
  override name = 'CliError';
}
