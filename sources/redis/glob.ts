/**
 * Redis' glob (`stringmatchlen` in util.c) on raw bytes, so the restore
 * filter selects exactly what `SCAN … MATCH` would: `*`, `?`, `[abc]`,
 * `[^a-z]`, and `\` escaping the next byte. Like Redis, a failed `*` stops
 * longer attempts, which keeps patterns such as `*a*a*a*b` linear-ish.
 */
export function globMatch(pattern: Uint8Array, key: Uint8Array): boolean {
  return match(pattern, 0, key, 0, { skipLonger: false });
}

function match(p: Uint8Array, pi: number, s: Uint8Array, si: number, state: { skipLonger: boolean }): boolean {
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si < slen) {
    const c = p[pi];
    if (c === 0x2a /* * */) {
      while (pi + 1 < plen && p[pi + 1] === 0x2a) pi++;
      if (pi + 1 === plen) return true;
      for (let k = si; k < slen; k++) {
        if (match(p, pi + 1, s, k, state)) return true;
        if (state.skipLonger) return false;
      }
      state.skipLonger = true;
      return false;
    } else if (c === 0x3f /* ? */) {
      si++;
    } else if (c === 0x5b /* [ */) {
      pi++;
      const not = p[pi] === 0x5e;
      if (not) pi++;
      let hit = false;
      for (;;) {
        if (p[pi] === 0x5c && plen - pi >= 2) {
          pi++;
          if (p[pi] === s[si]) hit = true;
        } else if (p[pi] === 0x5d) {
          break;
        } else if (pi >= plen) {
          pi--;
          break;
        } else if (plen - pi >= 3 && p[pi + 1] === 0x2d) {
          let lo = p[pi];
          let hi = p[pi + 2];
          if (lo > hi) [lo, hi] = [hi, lo];
          pi += 2;
          if (s[si] >= lo && s[si] <= hi) hit = true;
        } else if (p[pi] === s[si]) {
          hit = true;
        }
        pi++;
      }
      if (not) hit = !hit;
      if (!hit) return false;
      si++;
    } else {
      if (c === 0x5c /* \ */ && plen - pi >= 2) pi++;
      if (p[pi] !== s[si]) return false;
      si++;
    }
    pi++;
  }
  if (si === slen) while (pi < plen && p[pi] === 0x2a) pi++;
  return pi === plen && si === slen;
}
