/**
 * @module test/helpers/metrics-worker
 * The worker side of test/daemon/metrics-link.test.ts, run as a forked child: counts
 * MAILGATE_TEST_CONNECTIONS accepted connections on listener "mx" and answers the primary's
 * metrics questions (daemon/metrics-link.ts), or with MAILGATE_TEST_SILENT=1 never answers (a
 * worker busy past the scrape's wait). Prints "ready" once listening; exits when disconnected.
 */
import { GatewayMetrics } from '../../src/metrics/index.ts';
import { answerMetrics } from '../../src/daemon/metrics-link.ts';

const m = new GatewayMetrics();
for (let i = 0; i < Number(process.env.MAILGATE_TEST_CONNECTIONS ?? 0); i++) m.connection('mx', 'accepted');
if (process.env.MAILGATE_TEST_SILENT !== '1') answerMetrics(process, m.registry);
else process.on('message', () => undefined); // keeps the channel open, never answers
process.on('disconnect', () => process.exit(0));
process.stdout.write('ready\n');
