import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config';

const EXAMPLE = path.join(__dirname, '..', '..', 'lifeboat.example.yaml');
let dir: string;
before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-config-load-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function loadError(file?: string): Promise<ConfigError> {
  try {
    await loadConfig(file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('loadConfig accepted it');
}

describe('loadConfig', () => {
  test('lifeboat.example.yaml (shown in README) parses, with every store type and schedule', async () => {
    const c = await loadConfig(EXAMPLE);
    assert.equal(c.origin, EXAMPLE);
    assert.equal(c.profile, 'prod');
    assert.deepEqual(
      c.sources.map((s) => `${s.name}:${s.type}`),
      ['sessions:redis', 'features:redis', 'embeddings:faiss', 'docs:qdrant'],
    );
    assert.equal(c.repository.kind, 's3');
    assert.deepEqual(Object.keys(c.schedules).sort(), ['backup', 'catchupWindow', 'drill', 'prune', 'verify']);
    assert.deepEqual(c.warnings, []);
    const docs = c.sources.find((s) => s.name === 'docs');
    assert.equal(docs?.restoreOrder, 30);
  });

  test('the path comes from LIFEBOAT_CONFIG when no argument is given', async () => {
    const file = write(
      'env.yaml',
      'repository: { url: /srv/repo, password: { env: P } }\nsources:\n  - { name: c, type: redis, url: "redis://h:6379" }\n',
    );
    const saved = process.env.LIFEBOAT_CONFIG;
    process.env.LIFEBOAT_CONFIG = file;
    try {
      const c = await loadConfig();
      assert.equal(c.origin, file);
      assert.equal(c.sources[0].name, 'c');
    } finally {
      if (saved === undefined) delete process.env.LIFEBOAT_CONFIG;
      else process.env.LIFEBOAT_CONFIG = saved;
    }
  });

  test('no path at all: says how to give one', async () => {
    const saved = process.env.LIFEBOAT_CONFIG;
    delete process.env.LIFEBOAT_CONFIG;
    try {
      const e = await loadError();
      assert.match(e.message, /no config file given; pass --config PATH or set LIFEBOAT_CONFIG=/);
    } finally {
      if (saved !== undefined) process.env.LIFEBOAT_CONFIG = saved;
    }
  });

  test('a missing file is named, with how to set the path', async () => {
    const missing = path.join(dir, 'nope.yaml');
    const e = await loadError(missing);
    assert.ok(e.message.includes(`${missing} does not exist; pass --config PATH or set LIFEBOAT_CONFIG`), e.message);
    const d = await loadError(dir);
    assert.match(d.message, /is not a file/);
  });

  test('problems carry the line of the YAML file they are on', async () => {
    const file = write(
      'bad.yaml',
      [
        'profile: prod',
        'temporal:',
        '  namepsace: x',
        'repository:',
        '  url: /srv/repo',
        '  password: hunter2',
        'sources:',
        '  - name: a',
        '    type: redis',
        '    url: redis://h:6379',
        '  - name: b',
        '    type: mysql',
        '',
      ].join('\n'),
    );
    const e = await loadError(file);
    assert.equal(e.origin, file);
    assert.deepEqual(
      e.problems.map((p) => [p.path, p.line]),
      [
        ['temporal.namepsace', 3],
        ['repository.password', 6],
        ['sources[1].type', 12],
      ],
    );
    assert.ok(
      e.message.includes(
        '- sources[1].type: "mysql" is not a source type; use one of redis, faiss, qdrant, files (line 12)',
      ),
      e.message,
    );
    assert.ok(!e.message.includes('hunter2'));
  });

  test('malformed YAML and duplicate keys are reported with their line', async () => {
    let e = await loadError(write('syntax.yaml', 'repository: [1\nsources: 2\n'));
    assert.equal(e.problems[0].path, '(yaml)');
    assert.equal(typeof e.problems[0].line, 'number');
    e = await loadError(write('dup.yaml', 'profile: dev\nprofile: prod\n'));
    assert.match(e.message, /Map keys must be unique \(line 2\)/);
  });

  test('an empty file says where to start', async () => {
    const e = await loadError(write('empty.yaml', '# nothing yet\n'));
    assert.match(e.message, /the config is empty; start from lifeboat\.example\.yaml/);
  });
});
