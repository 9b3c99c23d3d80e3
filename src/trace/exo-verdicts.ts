/**
 * @module trace/exo-verdicts
 * Exchange Online's own verdicts on an imported message copy, as its export carried them (any
 * subset): message trace `Status`, the historical search's last `recipient_status` event,
 * `directionality`, `connector_id` and the spam-filter fields of `custom_data`, Defender EmailEvents'
 * `DeliveryAction`, `DeliveryLocation`, `ThreatTypes`, `DetectionMethods`, `EmailDirection` and
 * `Connectors`. Kept verbatim (trimmed) as a JSON object in `trace_message.exo_verdicts`, so the
 * Direct Send readiness report can say which of them decided a source's class.
 * Reference: exchange-online.md §5.1, §5.2, §5.5, §6.1, §7.1 (SFV/CAT/SCL of X-Forefront-Antispam-Report).
 * Touches: nothing (pure).
 */

/** The verdict fields an export may carry (each as written by Exchange). */
export interface ExoVerdicts {
  /** Message trace Status, or the last event of a historical-search recipient_status. */
  status?: string | undefined;
  /** EmailEvents DeliveryAction (LatestDeliveryAction when present): Delivered, Junked, Blocked, Replaced. */
  deliveryAction?: string | undefined;
  /** EmailEvents DeliveryLocation: Inbox/folder, Junk folder, Quarantine, Failed, Dropped … */
  deliveryLocation?: string | undefined;
  /** EmailEvents ThreatTypes, e.g. "Phish, Spam". */
  threatTypes?: string | undefined;
  /** EmailEvents DetectionMethods, e.g. {"Phish":["Spoof intra-org"]}. */
  detectionMethods?: string | undefined;
  /** EmailEvents EmailDirection or historical-search directionality. */
  direction?: string | undefined;
  /** EmailEvents Connectors or connector_id. */
  connectors?: string | undefined;
  /** custom_data spam-filter fields (S:SFA=…|SFV=SPM|CAT=SPOOF|SCL=5). */
  sfv?: string | undefined;
  cat?: string | undefined;
  scl?: string | undefined;
}

export const EXO_VERDICT_KEYS = ['status', 'deliveryAction', 'deliveryLocation', 'threatTypes', 'detectionMethods', 'direction', 'connectors', 'sfv', 'cat', 'scl'] as const;

/** The export's column name for each key (what the report shows as the deciding signal). */
export const EXO_VERDICT_FIELD: Readonly<Record<keyof ExoVerdicts, string>> = {
  status: 'Status',
  deliveryAction: 'DeliveryAction',
  deliveryLocation: 'DeliveryLocation',
  threatTypes: 'ThreatTypes',
  detectionMethods: 'DetectionMethods',
  direction: 'EmailDirection/directionality',
  connectors: 'Connectors',
  sfv: 'custom_data SFV',
  cat: 'custom_data CAT',
  scl: 'custom_data SCL',
};

/** JSON text of the non-empty verdicts, or undefined when there are none. */
export function exoVerdictsText(v: ExoVerdicts | undefined): string | undefined {
  if (!v) return undefined;
  const out: Record<string, string> = {};
  for (const k of EXO_VERDICT_KEYS) {
    const s = v[k]?.trim();
    if (s) out[k] = s.slice(0, 500);
  }
  return Object.keys(out).length ? JSON.stringify(out) : undefined;
}

/** Parse a stored exo_verdicts column (null, bad JSON or a non-object = none). */
export function parseExoVerdicts(text: string | null | undefined): ExoVerdicts | undefined {
  if (!text) return undefined;
  try {
    const o: unknown = JSON.parse(text);
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
    const out: ExoVerdicts = {};
    for (const k of EXO_VERDICT_KEYS) {
      const v = (o as Record<string, unknown>)[k];
      if (typeof v === 'string' && v !== '') out[k] = v;
    }
    return out;
  } catch {
    return undefined;
  }
}

/** `SFV=SPM`, `CAT=SPOOF`, `SCL=5` inside a custom_data / X-Forefront-Antispam-Report text. */
export function spamFilterFields(text: string | undefined): Pick<ExoVerdicts, 'sfv' | 'cat' | 'scl'> {
  const out: Pick<ExoVerdicts, 'sfv' | 'cat' | 'scl'> = {};
  if (!text || text.indexOf('=') < 0) return out;
  const re = /(?:^|[;|,\s:])(SFV|CAT|SCL)[=:](-?[A-Za-z0-9]+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const k = m[1]!.toLowerCase() as 'sfv' | 'cat' | 'scl';
    out[k] ??= m[2]!;
  }
  return out;
}
