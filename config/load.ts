import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { ConfigError } from './errors';
import { parseConfig } from './parse';
import type { ConfigProblem, LifeboatConfig } from './types';

/** A config is a page of YAML; a bigger file is the wrong file, and is not read. */
const MAX_CONFIG_BYTES = 1024 * 1024;
const HOW_TO_SET =
  'pass --config PATH or set LIFEBOAT_CONFIG=/etc/lifeboat/lifeboat.yaml (start from lifeboat.example.yaml)';

function segments(p: string): (string | number)[] {
  return [...p.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

/** Offset of the YAML node a problem path points to, or of its deepest existing ancestor. */
function locate(doc: Document, p: string): number | undefined {
  let node: unknown = doc.contents;
  let offset = (node as YamlNode | null)?.range?.[0];
  for (const seg of segments(p)) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      offset = (pair.key as YamlNode).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      offset = (node as YamlNode | null)?.range?.[0] ?? offset;
    } else break;
  }
  return offset;
}

/**
 * Reads and validates the config file: `file`, else the path in the
 * LIFEBOAT_CONFIG environment variable.
 * @throws ConfigError when no path is given, the file cannot be read, the
 * YAML is malformed, or the config is invalid; problems carry line numbers.
 */
export async function loadConfig(file?: string): Promise<LifeboatConfig> {
  const given = file ?? process.env.LIFEBOAT_CONFIG;
  if (!given)
    throw new ConfigError([{ path: '(config file)', message: `no config file given; ${HOW_TO_SET}` }], '(none)');
  const abs = path.resolve(given);
  const via = file ? '' : ' (from LIFEBOAT_CONFIG)';
  let text: string;
  try {
    const st = await stat(abs);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    if (st.size > MAX_CONFIG_BYTES)
      throw new ConfigError(
        [{ path: '(config file)', message: `${abs} is ${st.size} bytes, too big for a config; is it the right file?` }],
        abs,
      );
    text = await readFile(abs, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is not a file'
          : code === 'EACCES'
            ? 'cannot be read (permission denied)'
            : `cannot be read (${code ?? (e as Error).message})`;
    throw new ConfigError([{ path: '(config file)', message: `${abs}${via} ${why}; ${HOW_TO_SET}` }], abs, {
      cause: e,
    });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: '(yaml)',
        message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
        ...(e.linePos ? { line: e.linePos[0].line } : {}),
      })),
      abs,
    );
  }
  try {
    return parseConfig(doc.toJS(), abs);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const withLines: ConfigProblem[] = e.problems.map((p) => {
      const offset = locate(doc, p.path);
      return offset === undefined ? p : { ...p, line: lineCounter.linePos(offset).line };
    });
    throw new ConfigError(withLines, abs, { cause: e.cause });
  }
}
