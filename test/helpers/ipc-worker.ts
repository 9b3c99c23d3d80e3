/**
 * @module test/helpers/ipc-worker
 * The worker side of test/daemon/ipc.test.ts, run as a forked child: registers through OwnerLink
 * the ids given in MAILGATE_TEST_IDS (comma-separated), appends one trace event, and prints one
 * JSON line per settled registration ({ id, ok, error }) and per set of reusable spool file names
 * the owner hands out ({ free }) on stdout. MAILGATE_TEST_ACK_MS sets how
 * long a registration waits for its ack.
 */
import { OwnerLink } from '../../src/daemon/ipc.ts';

const link = new OwnerLink(process, Number(process.env.MAILGATE_TEST_ACK_MS ?? 60_000));
link.freeFiles = (names) => process.stdout.write(`${JSON.stringify({ free: names })}\n`);
const ids = (process.env.MAILGATE_TEST_IDS ?? '').split(',').filter(Boolean);
link.trace.event({ messageId: 'C1', at: 1, event: 'REJECT', detail: 'from the worker' });
await Promise.all(
  ids.map((id) =>
    link
      .register({
        stored: { id, receivedAt: 1, envelope: { mailFrom: 's@e.test', rcptTo: ['r@e.test'] }, size: 1, prependHeaders: '', facts: {}, disposition: 'deliver' },
        disposition: 'deliver',
      })
      .then(
        () => process.stdout.write(`${JSON.stringify({ id, ok: true })}\n`),
        (err: Error) => process.stdout.write(`${JSON.stringify({ id, ok: false, error: err.message })}\n`),
      ),
  ),
);
process.stdout.write('{"done":true}\n');
if (process.connected) process.disconnect?.();
