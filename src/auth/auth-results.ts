/**
 * @module auth/auth-results
 * Renders the `Authentication-Results:` header mailgate stamps, in the shape Exchange Online
 * writes (reference/exchange-online.md §7.1) so admins and tools read it the same way:
 *   Authentication-Results: <authserv-id>;
 *    spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com;
 *    dkim=pass (signature was verified) header.d=example.com header.s=sel;
 *    dmarc=pass action=none header.from=example.com;
 *    arc=none;
 *    compauth=pass reason=100
 * Each resinfo sits on its own folded line (RFC 5322 §2.2.3), so no line nears 998 octets.
 * `action=` is Exchange's extension (not an RFC 8601 propspec); it records what the DMARC policy
 * asked for and, once policy/ has decided, what was done (`oreject` = reject not applied).
 * Also recognises incoming Authentication-Results that claim our authserv-id (RFC 8601 §5: they
 * must be removed before ours is added, or a sender could forge our verdict).
 * Touches: nothing (pure).
 * RFCs: 8601 (syntax, §5 removal), 7208 §9.1 (Received-SPF is rendered by mailauth), 7489 §11.2.
 */
import type { AuthFacts } from './types.ts';

/** DMARC action words (Exchange's): none, quarantine, reject, oreject, pct.quarantine, pct.reject, temperror, permerror. */
export type DmarcAction = 'none' | 'quarantine' | 'reject' | 'oreject' | 'oquarantine' | 'pct.quarantine' | 'pct.reject' | 'temperror' | 'permerror';

/** The action implied by the evaluation alone: a failing reject policy that reaches delivery was not applied. */
export function defaultDmarcAction(f: Pick<AuthFacts, 'dmarc'>): DmarcAction {
  const d = f.dmarc;
  if (d.result === 'temperror' || d.result === 'permerror') return d.result;
  if (d.result !== 'fail') return 'none';
  if (d.policy === 'reject') return 'oreject';
  if (d.policy === 'quarantine') return 'quarantine';
  return 'none';
}

/** A property value: a token when it is one, else a quoted-string (RFC 8601 §2.2 `value`). */
function value(v: string): string {
  return /^[A-Za-z0-9._@+\-]+$/.test(v) ? v : `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** A comment, with CR/LF and unbalanced parentheses neutralised. */
function comment(text: string): string {
  const clean = text.replace(/[\r\n\t]+/g, ' ').replace(/[()\\]/g, (c) => `\\${c}`).slice(0, 200);
  return `(${clean})`;
}

export interface RenderOptions {
  /** What policy/ did with a DMARC failure; defaults to defaultDmarcAction(). */
  dmarcAction?: DmarcAction;
  clientIp?: string;
}

/** Renders the full header line (folded, CRLF-terminated). */
export function renderAuthResults(authservId: string, f: Omit<AuthFacts, 'authResultsHeader'>, opts: RenderOptions = {}): string {
  const parts: string[] = [];
  const spfComment = opts.clientIp ? comment(`sender IP is ${opts.clientIp}`) : f.spf.comment ? comment(f.spf.comment) : '';
  parts.push(['spf=' + f.spf.result, spfComment, f.spf.domain ? `smtp.mailfrom=${value(f.spf.domain)}` : ''].filter(Boolean).join(' '));
  if (f.dkim.length === 0) {
    parts.push('dkim=none (message not signed)');
  }
  for (const d of f.dkim) {
    const why = d.result === 'pass' ? 'signature was verified' : (d.info ?? '');
    parts.push(
      [`dkim=${d.result}`, why ? comment(why) : '', d.domain ? `header.d=${value(d.domain)}` : '', d.selector ? `header.s=${value(d.selector)}` : '']
        .filter(Boolean)
        .join(' '),
    );
  }
  const action = opts.dmarcAction ?? defaultDmarcAction(f);
  const dmarcNote = f.dmarc.p ? comment([`p=${f.dmarc.p}`, f.dmarc.sp ? `sp=${f.dmarc.sp}` : '', f.dmarc.pct !== undefined && f.dmarc.pct !== 100 ? `pct=${f.dmarc.pct}` : ''].filter(Boolean).join(' ')) : '';
  parts.push(
    [`dmarc=${f.dmarc.result}`, dmarcNote, `action=${action}`, f.dmarc.headerFrom ? `header.from=${value(f.dmarc.headerFrom)}` : ''].filter(Boolean).join(' '),
  );
  parts.push([`arc=${f.arc.result}`, f.arc.i ? comment(`i=${f.arc.i}`) : ''].filter(Boolean).join(' '));
  parts.push(`compauth=${f.compauth.result} reason=${f.compauth.reason}`);
  return `Authentication-Results: ${value(authservId)};\r\n ${parts.join(';\r\n ')}\r\n`;
}

/** Skips CFWS (whitespace, folding and nested comments) from `i`. */
function skipCfws(s: string, i: number): number {
  for (;;) {
    while (i < s.length && /\s/.test(s[i] ?? '')) i++;
    if (s[i] !== '(') return i;
    let depth = 0;
    for (; i < s.length; i++) {
      if (s[i] === '\\') {
        i++;
        continue;
      }
      if (s[i] === '(') depth++;
      else if (s[i] === ')' && --depth === 0) {
        i++;
        break;
      }
    }
  }
}

/**
 * True when an Authentication-Results field (its value, or the whole "Name: value" line) carries
 * `authservId` as its authserv-id: compared case-insensitively (it is a domain name), after CFWS,
 * quoted or not (RFC 8601 §2.2, §5).
 */
export function isOurAuthResults(headerValue: string, authservId: string): boolean {
  const s = headerValue.replace(/^\s*authentication-results\s*:/i, '');
  let i = skipCfws(s, 0);
  let id = '';
  if (s[i] === '"') {
    for (i++; i < s.length && s[i] !== '"'; i++) {
      if (s[i] === '\\') i++;
      id += s[i] ?? '';
    }
  } else {
    const m = /^[^\s;()]+/.exec(s.slice(i));
    id = m ? m[0] : '';
  }
  return id !== '' && id.toLowerCase().replace(/\.$/, '') === authservId.toLowerCase().replace(/\.$/, '');
}
