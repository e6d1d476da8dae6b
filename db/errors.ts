/**
 * Errors of the data layer that callers tell apart by type. Their `name` is the Temporal failure
 * type an activity reports, so a workflow can treat them as final (an incident without a row can
 * never be written to, however often the write is retried).
 */
export class IncidentNotFound extends Error {
  override readonly name = 'IncidentNotFound';
}
