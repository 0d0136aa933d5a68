// Where an object sits: which crawl target, which table (the folder one level below the target, as a
// Glue crawler with TableLevelConfiguration = target depth + 1 groups them) and which partition (the
// folders between the table folder and the file: Hive "k=v" names give key k, any other folder name
// gives partition_<n>, as Glue names them). Hidden objects (_x, .x) and folder markers are not data.

export interface CrawlTarget {
  /** bucket-relative prefix, ending in "/" */
  path: string;
  /** prefix of the table names made under it */
  tablePrefix: string;
  /** bucket-relative prefixes not crawled */
  exclude: string[];
}

export interface Placement {
  table: string;
  /** bucket-relative prefix of the table folder, ending in "/" */
  tablePath: string;
  keys: string[];
  values: string[];
}

/** Glue's table names: lower case, anything but letters, digits and _ made _. */
export const tableName = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]/g, '_');

export function isHidden(key: string): boolean {
  const parts = key.split('/');
  const base = parts[parts.length - 1] ?? '';
  return key.endsWith('/') || base === '' || base.startsWith('_') || base.startsWith('.') || base.endsWith('$folder$');
}

export function excluded(target: CrawlTarget, key: string): boolean {
  return target.exclude.some((p) => key.startsWith(p));
}

export function place(target: CrawlTarget, key: string): Placement {
  const rel = key.slice(target.path.length).split('/');
  rel.pop(); // the file name
  if (rel.length === 0) {
    // an object directly under the target: the table is the target folder itself
    const segs = target.path.replace(/\/$/, '').split('/');
    return { table: tableName(target.tablePrefix + (segs[segs.length - 1] ?? 'root')), tablePath: target.path, keys: [], values: [] };
  }
  const folder = rel[0]!;
  const keys: string[] = [];
  const values: string[] = [];
  rel.slice(1).forEach((seg, i) => {
    const eq = seg.indexOf('=');
    if (eq > 0) {
      keys.push(seg.slice(0, eq).toLowerCase());
      values.push(decodeURIComponent(seg.slice(eq + 1)));
    } else {
      keys.push(`partition_${i}`);
      values.push(decodeURIComponent(seg));
    }
  });
  return { table: tableName(target.tablePrefix + folder), tablePath: `${target.path}${folder}/`, keys, values };
}

/** The raw folder names between the table folder and the file. */
export function partitionFolders(tablePath: string, key: string): string[] {
  const rel = key.slice(tablePath.length).split('/');
  rel.pop();
  return rel;
}
