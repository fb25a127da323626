import { at, isAbsent, list, mapping, secret, str, url, type Checker } from './check';
import type { PayloadEncryptionConfig, PayloadKeyRef } from './types';

/** Key ids go into every payload's metadata and into log lines: short, printable, never the key. */
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KEY_ID_HINT =
  'a short name such as "2026-12" (letters, digits, . _ -), written into each payload so keys can rotate';
const EXAMPLE = '{ keyId: "2026-12", key: { file: /etc/lifeboat/payload-key } }';
export const DEFAULT_CODEC_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'] as const;

function keyRef(c: Checker, id: unknown, key: unknown, p: string, idKey: string): PayloadKeyRef | undefined {
  if (isAbsent(id)) c.add(at(p, idKey), `is required; ${KEY_ID_HINT}`);
  if (isAbsent(key))
    c.add(at(p, 'key'), 'is required; `key: { file: /etc/lifeboat/payload-key }` (openssl rand -base64 32)');
  const i = str(c, id, at(p, idKey), { pattern: KEY_ID, hint: KEY_ID_HINT });
  const k = secret(c, key, at(p, 'key'), 'LIFEBOAT_PAYLOAD_KEY');
  return i !== undefined && k ? { id: i, key: k } : undefined;
}

/**
 * `temporal.payloadEncryption`: the current key, retired keys that still decrypt, and the codec
 * server's token and CORS origins. Keys are references; their bytes are checked when the worker
 * or CLI loads them (runtime/payload-codec.ts), since the config never holds them.
 */
export function parsePayloadEncryption(c: Checker, raw: unknown, p: string): PayloadEncryptionConfig | undefined {
  if (isAbsent(raw)) return undefined;
  const o = mapping(c, raw, p, ['keyId', 'key', 'previousKeys', 'codecServer'], { example: EXAMPLE });
  if (!o) return undefined;
  const current = keyRef(c, o.keyId, o.key, p, 'keyId');
  const previous: PayloadKeyRef[] = [];
  const prev = list(c, o.previousKeys, at(p, 'previousKeys'), '[{ keyId: "2026-06", key: { env: OLD_PAYLOAD_KEY } }]');
  prev?.forEach((item, i) => {
    const ip = at(at(p, 'previousKeys'), i);
    const m = mapping(c, item, ip, ['keyId', 'key'], {
      example: '{ keyId: "2026-06", key: { env: OLD_PAYLOAD_KEY } }',
    });
    const r = m && keyRef(c, m.keyId, m.key, ip, 'keyId');
    if (r) previous.push(r);
  });
  const ids = [current?.id, ...previous.map((k) => k.id)].filter((x): x is string => x !== undefined);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined)
    c.add(
      at(p, 'previousKeys'),
      `key id "${dup}" is used twice; every key needs its own id, or a payload could not name its key`,
    );
  const codecServer: { token?: PayloadEncryptionConfig['codecServer']['token']; origins: string[] } = {
    origins: [...DEFAULT_CODEC_ORIGINS],
  };
  if (!isAbsent(o.codecServer)) {
    const cp = at(p, 'codecServer');
    const cs = mapping(c, o.codecServer, cp, ['token', 'origins'], {
      example: '{ token: { env: LIFEBOAT_CODEC_TOKEN }, origins: ["https://temporal-ui.example.com"] }',
    });
    if (cs) {
      const token = secret(c, cs.token, at(cp, 'token'), 'LIFEBOAT_CODEC_TOKEN');
      if (token) codecServer.token = token;
      const origins = list(c, cs.origins, at(cp, 'origins'), '["https://temporal-ui.example.com"]');
      if (origins) {
        codecServer.origins = [];
        origins.forEach((v, i) => {
          const u = url(
            c,
            v,
            at(at(cp, 'origins'), i),
            ['http', 'https'],
            'leave credentials out',
            'https://temporal-ui.example.com',
          );
          if (u !== undefined) codecServer.origins.push(u.origin);
        });
      }
    }
  }
  if (!current) return undefined;
  return { current, previous, codecServer };
}
