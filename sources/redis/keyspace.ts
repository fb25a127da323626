/**
 * The key names of one db in canonical order: ascending hash slot, then
 * ascending key bytes. The order depends on the keys alone — not on SCAN's
 * cursor order, rehashing or which master holds a slot — so backing up the
 * same data twice gives the same bytes, an unchanged key lands at the same
 * place in the next backup (content-defined chunking then dedups it), and a
 * cluster and a standalone copy of the same data produce identical streams.
 *
 * Keys are held as latin1 strings (one char per byte, so binary-safe), about
 * 40 bytes plus the key length each. Sorting within each of the 16384 slot
 * buckets is much cheaper than one global sort.
 */
export interface OrderedKeys {
  keys: string[];
  slots: Uint16Array;
}

