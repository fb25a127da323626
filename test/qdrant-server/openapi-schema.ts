import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';

/** Qdrant 1.19's own OpenAPI document (Apache-2.0), kept in the repository: origin in README.md. */
export const OPENAPI_FILE = path.resolve(__dirname, 'openapi-1.19.json');

type Json = Record<string, unknown>;

/**
 * OpenAPI 3.0 → JSON Schema: `nullable: true` becomes an explicit null
 * alternative (alone it means "null"; next to `type` it widens the type; next
 * to `$ref`/`anyOf` it wraps them), which is how Qdrant's generator uses it.
 */
function convertNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convertNullable);
  if (node === null || typeof node !== 'object') return node;
  const obj: Json = {};
  for (const [k, v] of Object.entries(node as Json))
    obj[k] = k === 'example' || k === 'examples' ? v : convertNullable(v);
  if (obj.nullable !== true) {
    delete obj.nullable;
    return obj;
  }
  delete obj.nullable;
  if (typeof obj.type === 'string') {
    obj.type = [obj.type, 'null'];
    if (Array.isArray(obj.enum)) obj.enum = [...obj.enum, null];
    return obj;
  }
  const structural = ['$ref', 'anyOf', 'oneOf', 'allOf', 'properties', 'items', 'enum'].some((k) => k in obj);
  if (!structural) return { type: 'null' };
  const { description, default: dflt, ...rest } = obj;
  return {
    ...(description ? { description } : {}),
    ...(dflt !== undefined ? { default: dflt } : {}),
    anyOf: [rest, { type: 'null' }],
  };
}

/** Escapes a JSON pointer token. */
const tok = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Validates stand-in responses against the schemas the document gives for each path/method/status. */
export class OpenApiValidator {
  readonly doc: Json;
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(file = OPENAPI_FILE) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Json;
    this.doc = raw;
    this.ajv = new Ajv({ strict: false, allErrors: true });
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    this.ajv.addFormat('uuid', UUID);
    this.ajv.addFormat('uri', { validate: (s: string) => URL.canParse(s) });
    this.ajv.addFormat('partial-date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/);
    for (const f of ['uint', 'uint8', 'uint32', 'uint64', 'uint128', 'int32', 'int64'])
      this.ajv.addFormat(f, { type: 'number', validate: (n: number) => Number.isInteger(n) });
    for (const f of ['float', 'double'])
      this.ajv.addFormat(f, { type: 'number', validate: (n: number) => Number.isFinite(n) });
    this.ajv.addFormat('binary', true);
    this.ajv.addFormat('date-time', true);
    this.ajv.addSchema({
      $id: 'qdrant',
      paths: convertNullable(raw.paths),
      components: convertNullable(raw.components),
    } as Json);
  }

  /** The response entry (by exact status, then "4XX"/"5XX", then "default"). */
  responseKey(pathTemplate: string, method: string, status: number): string {
    const op = (this.doc.paths as Json)[pathTemplate] as Json | undefined;
    const m = op?.[method.toLowerCase()] as Json | undefined;
    if (!m) throw new Error(`openapi-1.19.json has no ${method.toUpperCase()} ${pathTemplate}`);
    const responses = m.responses as Json;
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
    if (!key)
      throw new Error(`openapi-1.19.json declares no response ${status} for ${method.toUpperCase()} ${pathTemplate}`);
    return key;
  }

  /**
   * Throws with ajv's messages unless `body` matches the declared JSON schema
   * for that path, method and status. Returns the schema's declared top-level
   * properties so callers can check that what the schema promises is present.
   */
  check(pathTemplate: string, method: string, status: number, body: unknown): void {
    const key = this.responseKey(pathTemplate, method, status);
    const ptr = `qdrant#/paths/${tok(pathTemplate)}/${method.toLowerCase()}/responses/${tok(key)}/content/${tok('application/json')}/schema`;
    let validate = this.cache.get(ptr);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ptr });
      this.cache.set(ptr, validate);
    }
    if (!validate(body)) {
      throw new Error(
        `${method.toUpperCase()} ${pathTemplate} → ${status} does not match openapi-1.19.json (${key}):\n${this.ajv.errorsText(validate.errors, { separator: '\n' })}\nbody: ${JSON.stringify(body).slice(0, 600)}`,
      );
    }
  }

  /** Content types the document declares for a response (e.g. application/octet-stream for downloads). */
  contentTypes(pathTemplate: string, method: string, status: number): string[] {
    const key = this.responseKey(pathTemplate, method, status);
    const r = (((this.doc.paths as Json)[pathTemplate] as Json)[method.toLowerCase()] as Json).responses as Json;
    return Object.keys(((r[key] as Json).content as Json) ?? {});
  }
}
