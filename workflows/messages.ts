/**
 * The messages an incident workflow accepts and answers, defined once so that the workflow,
 * the API's Temporal client module and tests share the same names and payload types.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AlertBatch, CloseRequest, IncidentState, NoteRequest } from '../domain/incident';

/** New alerts were stored for this incident (a batch, see AlertBatch). */
export const alertsAttached = defineSignal<[AlertBatch]>('alertsAttached');

export const incidentState = defineQuery<IncidentState>('incidentState');

/** Close the incident; later alerts for the same key open a new incident. */
export const closeIncident = defineUpdate<IncidentState, [CloseRequest]>('closeIncident');

/** A person's note for the timeline (Slack `/incident note`, timeline reactions, API, CLI). */
export const addNote = defineUpdate<void, [NoteRequest]>('addNote');
