/**
 * The console router's Hono environment: the API's variables (the token registry a local sign-in
 * reads) and the session the console's middleware loaded for the request.
 */
import type { ApiEnv } from '../auth';
import type { ConsoleSession } from './session';

export interface ConsoleEnv {
  Variables: ApiEnv['Variables'] & { session: ConsoleSession };
}
