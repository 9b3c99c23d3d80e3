/**
 * @module api/deps
 * What the admin API's routes run with, built by daemon/ (or a test): the application layer's
 * context for an actor, the logger and this release's version. Routes call ops/ functions with it;
 * they never open a store themselves.
 * Touches: nothing.
 */
import type { Logger } from '../core/log.ts';
import type { OpsContext } from '../ops/context.ts';
import type { ReplyText } from '../ops/policy.ts';

export interface ApiDeps {
  logger: Logger;
  /** The application layer's context, acting as `actor` (a token's name; "anonymous" for public routes). */
  ops(actor: string): OpsContext;
  /** mailgate's release version (package.json). */
  version: string;
  /** The configuration version in force in this process. */
  configVersion(): number;
  /** Largest audit export upload, bytes (default AUDIT_UPLOAD_LIMIT in routes/audit.ts, 2 GiB; tests lower it). */
  auditUploadLimit?: number;
  /**
   * The Prometheus scrape (GET /metrics), set by daemon/ in the queue owner; `scope` is `public`
   * when the admin listener is on loopback or `metrics.public` is true, else `read`.
   */
  metrics?: { scrape(): Promise<string>; contentType: string; scope: 'public' | 'read' } | undefined;
  /**
   * The SMTP reply line of a policy reply key (smtp/replies.ts formatReply, set by daemon/; api/ may
   * not import smtp/). Without it the policy what-if and replay name the reply key only.
   */
  replyText?: ReplyText | undefined;
  /**
   * The built web console (`npm run build` → dist/web: index.html and assets/), served at `/` by
   * api/routes/console; undefined or missing → `/` says to build it.
   */
  webDir?: string | undefined;
}
