/**
 * @module deliver/route.test
 * Route precedence: exact > longest wildcard > "*", ties by order; grouping and unrouted recipients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../config/schema.ts';
import { groupByRoute, selectRoute } from './route.ts';

function r(name: string, domains: string[]): Route {
  return { name, domains, type: 'pickup', port: 25, tls: 'opportunistic', pickupDir: 'pickup' };
}

const routes = [r('any', ['*']), r('wild', ['*.contoso.com']), r('deep', ['*.eu.contoso.com']), r('exact', ['contoso.com']), r('any2', ['*'])];

test('exact beats wildcard beats *', () => {
  assert.equal(selectRoute(routes, 'contoso.com')?.name, 'exact');
  assert.equal(selectRoute(routes, 'mail.contoso.com')?.name, 'wild');
  assert.equal(selectRoute(routes, 'fabrikam.com')?.name, 'any');
});

test('the longest wildcard wins; a wildcard covers its own apex', () => {
  assert.equal(selectRoute(routes, 'x.eu.contoso.com')?.name, 'deep');
  assert.equal(selectRoute(routes, 'eu.contoso.com')?.name, 'deep');
  assert.equal(selectRoute([r('w', ['*.contoso.com'])], 'contoso.com')?.name, 'w');
});

test('ties go to the first route; matching is case-insensitive', () => {
  assert.equal(selectRoute([r('a', ['contoso.com']), r('b', ['CONTOSO.com'])], 'contoso.com')?.name, 'a');
  assert.equal(selectRoute(routes, 'CONTOSO.COM')?.name, 'exact');
});

test('no route: undefined; several patterns per route', () => {
  assert.equal(selectRoute([r('a', ['contoso.com'])], 'fabrikam.com'), undefined);
  assert.equal(selectRoute([r('a', ['x.test', 'contoso.com'])], 'contoso.com')?.name, 'a');
  assert.equal(selectRoute([], 'contoso.com'), undefined);
});

test('groupByRoute keeps order and collects unrouted and invalid recipients', () => {
  const only = [r('c', ['contoso.com']), r('f', ['*.fabrikam.com'])];
  const g = groupByRoute(only, ['a@contoso.com', 'b@x.fabrikam.com', 'c@Contoso.COM', 'd@other.test', 'broken']);
  assert.deepEqual([...g.byRoute].map(([route, rcpts]) => [route.name, rcpts]), [
    ['c', ['a@contoso.com', 'c@Contoso.COM']],
    ['f', ['b@x.fabrikam.com']],
  ]);
  assert.deepEqual(g.unrouted, ['d@other.test', 'broken']);
});
