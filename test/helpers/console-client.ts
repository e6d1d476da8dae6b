/**
 * A minimal HTTP user agent for the console's tests without a browser: a cookie jar per host
 * (names only: the tests' cookies never share a name across paths), manual redirects, HTML form
 * fields read back from pages, and the whole OpenID Connect sign-in through the test IdP's login
 * page (test/helpers/oidc-provider.ts).
 */
export class ConsoleAgent {
  private readonly jar = new Map<string, Map<string, string>>();

  private cookieHeader(url: URL): string {
    return [...(this.jar.get(url.host) ?? new Map<string, string>()).entries()]
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }

  private store(url: URL, res: Response): void {
    const jar = this.jar.get(url.host) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim())) || value === '';
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
    this.jar.set(url.host, jar);
  }

  /** One request, no redirects followed. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<Response> {
    const u = new URL(url);
    const headers: Record<string, string> = { cookie: this.cookieHeader(u) };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(u, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    this.store(u, res);
    return res;
  }

  /** Follows redirects (a 303 turns a POST into a GET) and returns the last response and its URL. */
  async follow(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ res: Response; url: string; html: string }> {
    let res = await this.request(url, init);
    let at = url;
    for (let i = 0; i < 20 && res.status >= 300 && res.status < 400; i++) {
      at = new URL(res.headers.get('location')!, at).href;
      res = await this.request(at);
    }
    return { res, url: at, html: await res.text() };
  }

  hasCookie(url: string, name: string): boolean {
    return this.jar.get(new URL(url).host)?.has(name) ?? false;
  }
}

/** The value of the named hidden/visible input in the first form whose action contains `action`. */
export function formField(html: string, action: string, name: string): string {
  const forms = html.split('<form').slice(1);
  const form = forms.find((f) => f.includes(`action="${action}"`));
  if (!form) throw new Error(`no form posting to ${action}`);
  const m = new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(form);
  if (!m) throw new Error(`form ${action} has no ${name}`);
  return m[1]!;
}

/** The hidden fields (CSRF token, decision id) of the first form posting to `action`. */
export function hiddenFields(html: string, action: string): Record<string, string> {
  return { _csrf: formField(html, action, '_csrf'), decision_id: formField(html, action, 'decision_id') };
}

/**
 * Signs in to the console at `base` through the IdP: start (optionally as a step-up), the IdP's
 * login page, and back to the console. Returns where the browser landed.
 */
export async function oidcSignIn(
  agent: ConsoleAgent,
  base: string,
  user: { username: string; password: string; otp?: string },
  opts: { stepUp?: boolean; returnTo?: string } = {},
): Promise<{ res: Response; url: string; html: string }> {
  const q = new URLSearchParams({ return: opts.returnTo ?? '/console/incidents' });
  if (opts.stepUp) q.set('step_up', '1');
  const login = await agent.follow(`${base}/console/auth/start?${q.toString()}`);
  const m = /action="(\/interaction\/[^"]+\/login)"/.exec(login.html);
  if (!m) throw new Error(`no IdP login form at ${login.url}: ${login.html.slice(0, 300)}`);
  const form: Record<string, string> = { username: user.username, password: user.password };
  if (user.otp) form.otp = user.otp;
  return agent.follow(new URL(m[1]!, login.url).href, { form });
}
