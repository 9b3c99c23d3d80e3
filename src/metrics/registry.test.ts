import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayMetrics, MAX_CHILDREN, mergedExposition, replyCode } from './index.ts';

test('reply codes: the enhanced code when there is one, else the basic code', () => {
  assert.equal(replyCode('550 5.7.68 TenantInboundAttribution; Direct Send not allowed'), '5.7.68');
  assert.equal(replyCode('451 4.7.500 Server busy'), '4.7.500');
  assert.equal(replyCode('421 closing'), '421');
  assert.equal(replyCode('garbage 5.7.1'), 'other');
  assert.equal(replyCode(undefined), 'other');
});

test('two processes\' counters are summed per label set; gauges use their aggregator', async () => {
  const a = new GatewayMetrics();
  const b = new GatewayMetrics();
  a.connection('mx', 'accepted');
  a.connection('mx', 'accepted');
  b.connection('mx', 'accepted');
  b.connection('relay', 'refused');
  a.delivery('next-hop', 0.2, ['delivered', 'deferred']);
  b.delivery('next-hop', 0.4, ['delivered']);
  a.setOwner({ queueByState: () => ({ deferred: 4 }), oldestOpenAgeSeconds: () => 12, traceBacklog: () => 1, configVersion: () => 7, configStoreUp: () => 0 });
  const text = await mergedExposition(a.registry, [await b.registry.getMetricsAsJSON()], 1);
  assert.match(text, /^mailgate_connections_total\{listener="mx",outcome="accepted"\} 3$/m);
  assert.match(text, /^mailgate_connections_total\{listener="relay",outcome="refused"\} 1$/m);
  assert.match(text, /^mailgate_delivery_outcomes_total\{route="next-hop",outcome="delivered"\} 2$/m);
  assert.match(text, /^mailgate_delivery_duration_seconds_count\{route="next-hop"\} 2$/m);
  assert.match(text, /^mailgate_delivery_duration_seconds_bucket\{le="0.25",route="next-hop"\} 1$/m);
  assert.match(text, /^mailgate_queue_messages\{state="deferred"\} 4$/m);
  assert.match(text, /^mailgate_config_version 7$/m);
  assert.match(text, /^mailgate_config_store_up 0$/m, 'the owner\'s 0 is not hidden by a worker without the gauge');
  assert.match(text, /^mailgate_scrape_workers\{state="missing"\} 1$/m);
});

test('label sets past MAX_CHILDREN are counted under "other", so cardinality stays bounded', async () => {
  const m = new GatewayMetrics();
  for (let i = 0; i < MAX_CHILDREN + 50; i++) m.hit(`rule-${i}`, 'Enforce');
  const json = await m.registry.getMetricsAsJSON();
  const hits = json.find((x) => x.name === 'mailgate_rule_hits_total');
  assert.ok(hits);
  assert.ok(hits.values.length <= MAX_CHILDREN + 1, `${hits.values.length} series`);
  assert.equal(hits.values.find((v) => v.labels.rule === 'other')?.value, 50);
});

test('DNS counters advance by what the resolvers counted since the last scrape', async () => {
  const m = new GatewayMetrics();
  const counts = { queries: 10, hits: 4, timeouts: 1 };
  m.addDnsSource(() => counts);
  assert.match(await m.registry.metrics(), /^mailgate_dns_queries_total 10$/m);
  counts.queries = 15;
  const text = await m.registry.metrics();
  assert.match(text, /^mailgate_dns_queries_total 15$/m);
  assert.match(text, /^mailgate_dns_cache_hits_total 4$/m);
});
