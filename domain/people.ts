/**
 * Who a responder is, resolved on the server side from configuration: the config file's `users:`
 * (API identities, with `slack_user_id` linking a person's Slack identity) and SLACK_USER_ROLES
 * (roles and groups of Slack users). One person acting through the API and through Slack is one
 * `person` with both ids and the union of both roles, so k-of-n approvals and the two-person rule
 * count people, not ids. The signing edges (api/, slack/) build actors only through here.
 */
import type { Actor } from './incident';

export interface PersonRecord {
  id: string;
  name: string;
  slackUserId: string | undefined;
  roles: string[];
}

export interface SlackPersonRecord {
  roles: string[];
  groups: string[];
}

export class PeopleDirectory {
  private readonly bySlackId = new Map<string, PersonRecord>();
  private readonly byId = new Map<string, PersonRecord>();

  constructor(
    users: PersonRecord[],
    private readonly slack: Record<string, SlackPersonRecord> = {},
  ) {
    for (const u of users) {
      this.byId.set(u.id, u);
      if (u.slackUserId) this.bySlackId.set(u.slackUserId, u);
    }
  }

  /**
   * An API user (config `users:` id, or the built-in `admin`) with the roles of its token's user;
   * a console sign-in also brings the groups its IdP gave.
   */
  apiActor(user: {
    id: string;
    name: string;
    slackUserId: string | undefined;
    roles: string[];
    groups?: string[];
  }): Actor {
    const slack = user.slackUserId ? this.slack[user.slackUserId] : undefined;
    return {
      id: user.slackUserId ?? user.id,
      name: user.name,
      person: user.id,
      ids: user.slackUserId ? [user.id, user.slackUserId] : [user.id],
      roles: union(user.roles, slack?.roles),
      groups: union(user.groups, slack?.groups),
      via: 'api',
    };
  }

  /** A Slack user, linked to their config user when one names this Slack id. */
  slackActor(user: { id: string; name?: string; username?: string }): Actor {
    const linked = this.bySlackId.get(user.id);
    const slack = this.slack[user.id];
    return {
      id: user.id,
      name: user.name ?? user.username ?? linked?.name,
      person: linked?.id ?? user.id,
      ids: linked ? [linked.id, user.id] : [user.id],
      roles: union(slack?.roles, linked?.roles),
      groups: union(slack?.groups),
      via: 'slack',
    };
  }

  /** The config-file user with this id (a local user, or an IdP user the file adds to). */
  configUser(id: string): PersonRecord | undefined {
    return this.byId.get(id);
  }

  /** Every id of the person behind `id` (itself when nobody links it). */
  idsOf(id: string): string[] {
    const u = this.byId.get(id) ?? this.bySlackId.get(id);
    return u ? (u.slackUserId ? [u.id, u.slackUserId] : [u.id]) : [id];
  }
}

function union(...lists: (string[] | undefined)[]): string[] {
  return [...new Set(lists.flatMap((l) => l ?? []))];
}
