/**
 * The console's configuration (app/console-config.ts through loadConfig): OIDC settings with their
 * defaults, the role map, the step-up window, and start-up errors naming the variable.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config';

describe('console configuration', () => {
  it('is local sign-in only, with a 5-minute step-up window, by default', () => {
    const c = loadConfig({}).console;
    expect(c.oidc).toBeUndefined();
    expect(c.localLogin).toBe(true);
    expect(c.stepUp.windowMs).toBe(300_000);
    expect(c.stepUp.secondFactorAmr).toContain('otp');
  });

  it('reads the IdP, claims, role map and redirect URL', () => {
    const c = loadConfig({
      PUBLIC_URL: 'https://firebreak.example.com',
      FIREBREAK_OIDC_ISSUER: 'https://idp.example.com/realms/sec',
      FIREBREAK_OIDC_CLIENT_ID: 'firebreak',
      FIREBREAK_OIDC_CLIENT_SECRET: 'secret',
      FIREBREAK_OIDC_GROUPS_CLAIM: 'memberOf',
      FIREBREAK_OIDC_ROLE_MAP:
        '{"secops-leads":"incident_commander","admins":["admin","incident_commander"]}',
      FIREBREAK_OIDC_MFA_AMR: 'hwk,otp',
      FIREBREAK_STEP_UP_WINDOW_SECONDS: '120',
    }).console;
    expect(c.oidc).toMatchObject({
      issuer: 'https://idp.example.com/realms/sec',
      clientId: 'firebreak',
      redirectUrl: 'https://firebreak.example.com/console/auth/callback',
      userClaim: 'preferred_username',
      groupsClaim: 'memberOf',
      roleMap: { 'secops-leads': ['incident_commander'], admins: ['admin', 'incident_commander'] },
    });
    expect(c.stepUp).toEqual({ windowMs: 120_000, secondFactorAmr: ['hwk', 'otp'] });
  });

  it('refuses a plain-http issuer off loopback, an issuer without a client id, and a bad role map', () => {
    expect(() =>
      loadConfig({ FIREBREAK_OIDC_ISSUER: 'http://idp.example.com', FIREBREAK_OIDC_CLIENT_ID: 'x' }),
    ).toThrow(/FIREBREAK_OIDC_ISSUER: must be https/);
    expect(() => loadConfig({ FIREBREAK_OIDC_ISSUER: 'https://idp.example.com' })).toThrow(
      /FIREBREAK_OIDC_CLIENT_ID: required/,
    );
    expect(() => loadConfig({ FIREBREAK_OIDC_ROLE_MAP: '{nope' })).toThrow(ConfigError);
    expect(() => loadConfig({ FIREBREAK_STEP_UP_WINDOW_SECONDS: '5' })).toThrow(
      /FIREBREAK_STEP_UP_WINDOW_SECONDS/,
    );
  });
});
