/**
 * @module stores/postgres/trace-saved-hunts
 * The saved hunts (trace/hunt SAVED_HUNTS, same names, columns and rows) in PostgreSQL's SQL, for
 * a fleet's shared trace: times shown as SQLite's datetime() shows them (UTC, 'YYYY-MM-DD
 * HH:MM:SS'), LIKE on free text as ILIKE (SQLite's LIKE ignores ASCII case), text ordered by byte
 * (COLLATE "C", SQLite's BINARY; an ORDER BY expression names input columns, not output ones),
 * the 172.16/12 test as a pattern (PostgreSQL may evaluate a cast
 * before the AND that guards it).
 * Touches: nothing (query texts; trace-hunt runs them as the read-only role).
 */
import { DIRECT_SEND_REPLY_LIKE } from '../../trace/reports/index.ts';

const at = (expr: string): string => `to_char(to_timestamp(${expr} / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')`;
const INTERNAL = `(ip LIKE '10.%' OR ip LIKE '127.%' OR ip LIKE '192.168.%' OR ip ~ '^172\\.(1[6-9]|2[0-9]|3[01])\\.'
   OR ip = '::1' OR lower(ip) LIKE 'fc%:%' OR lower(ip) LIKE 'fd%:%')`;
const WITH_IP = `WITH m AS (SELECT *, CASE WHEN client_ip ILIKE '::ffff:%.%' THEN substr(client_ip, 8) ELSE client_ip END AS ip FROM trace_message)`;
const ANONYMOUS = `auth_user IS NULL AND (connector IS NULL OR connector = '')`;
const DIRECT_SEND = `(attribution = 'direct-send' OR reply ILIKE '${DIRECT_SEND_REPLY_LIKE}')`;

/** By saved hunt name (test/stores/trace-hunt.test checks every saved hunt has one, with the same rows). */
export const PG_SAVED_HUNTS: Readonly<Record<string, string>> = Object.freeze({
  'no-connector-dmarc-fail': `SELECT id, ${at('received_at')} AS received, client_ip, mail_from, header_from, subject,
       attribution, spf, dkim, dmarc, status
FROM trace_message
WHERE (connector IS NULL OR connector = '') AND lower(dmarc) LIKE 'fail%'
ORDER BY received_at DESC`,
  'direct-send-external': `${WITH_IP}
SELECT ip AS client_ip, lower(mail_from) AS sender, count(*) AS messages,
       ${at('min(received_at)')} AS first_seen, ${at('max(received_at)')} AS last_seen
FROM m
WHERE ${DIRECT_SEND} AND NOT ${INTERNAL}
GROUP BY ip, lower(mail_from)
ORDER BY messages DESC, ip COLLATE "C", lower(mail_from) COLLATE "C"`,
  'new-anonymous-sources': `SELECT client_ip, count(*) AS messages, string_agg(DISTINCT lower(mail_from) COLLATE "C", ',' ORDER BY lower(mail_from) COLLATE "C") AS senders,
       ${at('min(received_at)')} AS first_seen, ${at('max(received_at)')} AS last_seen
FROM trace_message
WHERE ${ANONYMOUS} AND attribution IN ('direct-send', 'anonymous-external')
GROUP BY client_ip
HAVING min(received_at) >= (floor(extract(epoch FROM now()))::bigint - 86400) * 1000
ORDER BY min(received_at) DESC`,
  'spoof-suspects': `SELECT client_ip, lower(mail_from) AS sender, count(*) AS messages, sum((lower(dkim) LIKE 'pass%')::int) AS dkim_pass,
       ${at('max(received_at)')} AS last_seen, string_agg(DISTINCT helo COLLATE "C", ',' ORDER BY helo COLLATE "C") AS helo_names
FROM trace_message
WHERE ${ANONYMOUS} AND ${DIRECT_SEND}
  AND (lower(spf) LIKE 'fail%' OR lower(spf) LIKE 'softfail%') AND lower(dmarc) LIKE 'fail%'
GROUP BY client_ip, lower(mail_from)
ORDER BY messages DESC, client_ip COLLATE "C", lower(mail_from) COLLATE "C"`,
});
