/**
 * Builds Firebreak's Bolt app from config: over HTTP through HonoReceiver (mounted on the API's
 * own server at POST /slack/events), or over Socket Mode when SLACK_APP_TOKEN is set. The Web API
 * base URL comes from SLACK_API_URL (tests point it at the fake Slack). Listeners are registered
 * in slack/listeners; this module only wires them. Incoming requests never wait on the Web API:
 * the bot's identity is learnt in the background (slack/bot-identity.ts).
 */
import { App, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';
import { BotIdentity } from './bot-identity';
import type { SlackDeps } from './context';
import { register } from './listeners';
import { HonoReceiver, type SlackHttpHandler } from './receiver';

export interface SlackSurface {
  app: App;
  /** The /slack/events handler; undefined in Socket Mode. */
  http: SlackHttpHandler | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'slack' });
  let level = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => child.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => child.info(m.map(String).join(' ')),
    warn: (...m: unknown[]) => child.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => child.error(m.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

export function createSlackApp(deps: SlackDeps): SlackSurface {
  const { config } = deps;
  const socketMode = Boolean(config.appToken);
  const receiver =
    socketMode || !config.signingSecret
      ? undefined
      : new HonoReceiver({ signingSecret: config.signingSecret, log: deps.log, now: deps.now });
  const identity = new BotIdentity(config.botToken, config.apiUrl, deps.log);
  const app = new App({
    // Never auth.test per request: the identity answers from memory (see bot-identity.ts).
    authorize: identity.authorize,
    ...(receiver ? { receiver } : { socketMode: true, appToken: config.appToken }),
    // Listener replies should fail fast in an outage; durable Slack work runs in activities.
    clientOptions: {
      slackApiUrl: config.apiUrl,
      retryConfig: { retries: 2, minTimeout: 200, maxTimeout: 1000 },
    },
    logger: boltLogger(deps.log),
  });
  register(app, deps);
  return {
    app,
    http: receiver,
    async start() {
      identity.learn();
      if (socketMode) await app.start();
    },
    async stop() {
      await app.stop();
      await identity.settled();
    },
  };
}
