/**
 * Incident concepts shared by the API, the activities and the workflows: the workflow's input,
 * the batched alert signal, and the state it reports. Pure types and constants only.
 */
import type { AlertStatus, Severity } from './alert';

export const PHASES = ['assess', 'contain', 'investigate', 'remediate', 'postmortem'] as const;
export type Phase = (typeof PHASES)[number];
export type IncidentMode = 'live' | 'drill';
export type IncidentStatus = 'open' | 'resolved' | 'closed';

export interface IncidentStart {
  incidentId: string;
  key: string;
  mode: IncidentMode;
  source: string;
  title: string;
  severity: Severity;
  agentId: string | undefined;
  openedAt: string;
}

/**
 * Alerts that reached an incident since the last signal, summarised: a storm of N alerts adds one
 * signal per dispatch batch, never one per alert. The alerts themselves stay in the DB.
 */
export interface AlertBatch {
  /** Highest alert seq in the batch: a batch re-sent after a crash is recognised and ignored. */
  toSeq: number;
  /** Alerts stored for the incident up to and including toSeq: idempotent, unlike a delta. */
  totalCount: number;
  latestAlertId: string;
  latestTitle: string;
  latestStatus: AlertStatus;
  lastSeenAt: string;
}

export interface IncidentState {
  incidentId: string;
  status: IncidentStatus;
  phase: Phase | 'closed';
  alertCount: number;
  latestAlertId: string | undefined;
  lastSeenAt: string | undefined;
  lastAlertSeq: number;
}

export interface CloseRequest {
  actor: string;
  reason: string;
}

/** Who did something to an incident, and through which surface. */
export interface Actor {
  id: string;
  name?: string;
  roles?: string[];
  groups?: string[];
  via: 'api' | 'slack' | 'cli';
}

/** `addNote`: a person's note on the timeline; decisionId makes a repeated request a no-op. */
export interface NoteRequest {
  decisionId: string;
  actor: Actor;
  text: string;
}
