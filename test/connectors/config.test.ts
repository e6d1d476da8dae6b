import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config';
import { loadConnectorConfig } from '../../connectors/config';
import { lazyLiveConnectors } from '../../connectors/registry';

describe('connector configuration', () => {
  it('reads env first, then the connectors section of the config file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-cfg-'));
    const file = path.join(dir, 'firebreak.yaml');
    fs.writeFileSync(
      file,
      [
        'connectors:',
        '  postgres: { admin_url: "postgres://admin:pw@db.internal/postgres" }',
        '  aws: { region: eu-west-1 }',
        '  http_systems:',
        '    - name: billing',
        '      base_url: https://billing.internal',
        '      secret: 0123456789abcdef0123',
        '      restrict: { path: "/agents/{name}/restrict" }',
        '      check: { path: "/agents/{name}" }',
      ].join('\n'),
    );
    const config = loadConfig({ DATA_DIR: dir, FIREBREAK_CONFIG: file, PORT: '4000' });
    const c = loadConnectorConfig(config, { FIREBREAK_AWS_ENDPOINT: 'http://127.0.0.1:5000' });
    expect(c).toMatchObject({
      pgAdminUrl: 'postgres://admin:pw@db.internal/postgres',
      aws: { endpoint: 'http://127.0.0.1:5000', region: 'eu-west-1' },
      statusBaseUrl: 'http://127.0.0.1:4000',
      httpSystems: [{ name: 'billing' }],
    });
    expect(loadConnectorConfig(config, { FIREBREAK_PG_ADMIN_URL: 'postgres://a:b@other/x' }).pgAdminUrl).toBe(
      'postgres://a:b@other/x',
    );
    expect(() => loadConnectorConfig(config, { FIREBREAK_AWS_ENDPOINT: 'not a url' })).toThrow(
      /FIREBREAK_AWS_ENDPOINT/,
    );
    fs.writeFileSync(file, 'connectors:\n  http_systems:\n    - name: Bad Name\n');
    expect(() => loadConnectorConfig(config, {})).toThrow(/connectors\.http_systems\.0\.name/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('builds live connectors once, on first use', () => {
    let builds = 0;
    const live = lazyLiveConnectors(() => {
      builds += 1;
      return {};
    });
    expect(builds).toBe(0);
    live();
    live();
    expect(builds).toBe(1);
  });
});
