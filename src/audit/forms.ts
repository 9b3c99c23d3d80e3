/**
 * @module audit/forms
 * The container forms real exports come in, reduced to plain records before kind detection
 * (reference §5.5), so every form reaches the mappers with the column names they expect:
 * - CSV delimiter: `,` (Export-Csv), `;` (Export-Csv -UseCulture on de-DE, fr-FR, nl-NL … Windows)
 *   or tab, decided from the header row (the first line after a `#TYPE` line): the candidate that
 *   occurs most often outside quotes.
 * - JSON envelopes: Graph message trace pages `{"value":[…], "@odata.nextLink": …}`; Graph
 *   `runHuntingQuery` `{"schema":[…], "results":[…]}`; the Defender streaming export
 *   `{"records":[{…, "properties":{…}}]}` or one `{time, category, properties:{…}}` per line;
 *   anything else is a record itself. An envelope is held in memory whole (a Graph page or a
 *   hunting result is bounded by the service; a large export is JSON lines).
 * - Sidecar keys: `Received@data.type: System.DateTime` (Get-MessageTraceV2 through REST) and
 *   `@odata.*` annotations are not columns and are dropped.
 * Touches: nothing (pure).
 * RFCs: 4180, 8259.
 */

const CANDIDATES = [',', ';', '\t'] as const;
export type Delimiter = (typeof CANDIDATES)[number];

/** The header line of CSV text: the first line that is not a `#TYPE` line. */
function headerLine(text: string): string {
  const lines = text.replace(/^\uFEFF/, '').split('\n', 3);
  const firstLine = lines[0] ?? '';
  return (/^"?#TYPE\b/i.test(firstLine.trim()) ? (lines[1] ?? '') : firstLine).replace(/\r$/, '');
}

/** The delimiter of CSV text, from its header row, and how it was decided. */
export function sniffDelimiter(text: string): { delimiter: Delimiter; how: string } {
  const line = headerLine(text);
  const counts = new Map<Delimiter, number>(CANDIDATES.map((c) => [c, 0]));
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch as Delimiter)) counts.set(ch as Delimiter, counts.get(ch as Delimiter)! + 1);
  }
  let best: Delimiter = ',';
  for (const c of CANDIDATES) if (counts.get(c)! > counts.get(best)!) best = c;
  const name = best === '\t' ? 'tab' : `"${best}"`;
  return { delimiter: best, how: best === ',' ? '' : `delimiter ${name} (${counts.get(best)} in the header row; Export-Csv -UseCulture or -Delimiter)` };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a top-level JSON object holds: its records and what the envelope said. */
export interface Unwrapped {
  records: Record<string, unknown>[];
  /** The envelope's form, for the file summary ('' for a bare record). */
  form: string;
  /** A Graph page that says more pages exist. */
  nextLink?: string | undefined;
}

/** A streaming record: its `properties` when it is the Event Hub / storage envelope, else itself. */
function streamed(r: Record<string, unknown>): Record<string, unknown> {
  return isObject(r.properties) && (typeof r.category === 'string' || typeof r.operationName === 'string') ? r.properties : r;
}

/** Reduce one top-level JSON object to records (module header). */
export function unwrapJson(v: Record<string, unknown>): Unwrapped {
  if (Array.isArray(v.value)) {
    const next = v['@odata.nextLink'];
    return { records: v.value.filter(isObject), form: 'Graph page {"value":[…]}', nextLink: typeof next === 'string' ? next : undefined };
  }
  if (Array.isArray(v.results) && (Array.isArray(v.schema) || Array.isArray(v.Schema))) return { records: v.results.filter(isObject), form: 'Graph runHuntingQuery {"schema","results"}' };
  if (Array.isArray(v.Results) && Array.isArray(v.Schema)) return { records: v.Results.filter(isObject), form: 'Graph runHuntingQuery {"Schema","Results"}' };
  if (Array.isArray(v.records)) return { records: v.records.filter(isObject).map(streamed), form: 'streaming {"records":[…]}' };
  const s = streamed(v);
  return { records: [s], form: s === v ? '' : 'streaming envelope {"category","properties"}' };
}

/** True for keys that annotate a value rather than being a column (`X@data.type`, `@odata.*`). */
export function isSidecarKey(key: string): boolean {
  return key.startsWith('@odata.') || /@(?:data|odata)\.type$/i.test(key);
}
