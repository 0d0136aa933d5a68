// Config overrides for tests: b deep-merged over a (objects merge key by key; arrays and values replace).

export type Tree = Record<string, unknown>;

const isTree = (v: unknown): v is Tree => v !== null && typeof v === 'object' && !Array.isArray(v);

export function merge(a: Tree, b: Tree): Tree {
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isTree(v) && isTree(cur) ? merge(cur, v) : v;
  }
  return out;
}
