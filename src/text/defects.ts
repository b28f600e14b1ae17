// E1: text PostgreSQL cannot store (NUL) or that is no Unicode text at all (an unpaired surrogate)
// is refused in every argument of every tool and prompt (src/servers/mcp/dispatch.ts), every
// OAuth parameter (src/authz/http.ts) and every console form field, before any handler sees it,
// naming the field. One walk instead of a refinement on each string field, so a new tool cannot forget it.

const NUL = '\u0000';
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What is wrong with `text`, or null when it is storable Unicode text. */
export function textDefect(text: string): string | null {
  if (text.includes(NUL)) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'contains an unpaired surrogate (not Unicode text)';
  return null;
}

/** A path segment as it can be shown: defective keys are shown escaped. */
function shown(key: string): string {
  return textDefect(key) ? JSON.stringify(key).slice(1, -1).replace(/\\u0000/g, '\\0') : key;
}

/**
 * The first string (value or key) in `value` that is not storable text, as `path: problem`, or null.
 * Depth is bounded by the transport (MAX_JSON_DEPTH); keys are checked too (an unknown key with a
 * NUL is refused as clearly as a value).
 */
export function findTextDefect(value: unknown, path: readonly (string | number)[] = []): { path: string; problem: string } | null {
  const at = (p: readonly (string | number)[]) => (p.length ? p.map((s) => (typeof s === 'number' ? String(s) : shown(s))).join('.') : 'arguments');
  if (typeof value === 'string') {
    const problem = textDefect(value);
    return problem ? { path: at(path), problem } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findTextDefect(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const keyProblem = textDefect(k);
      if (keyProblem) return { path: at([...path, k]), problem: `argument name ${keyProblem}` };
      const found = findTextDefect(v, [...path, k]);
      if (found) return found;
    }
  }
  return null;
}
