/** Every workflow the worker registers. Deterministic code only (see eslint.config.js). */
export { runIncident } from './run-incident';
