/**
 * @module api/routes
 * Every route module of the admin API, registered in this order by buildApi (one file per
 * resource; append new ones here).
 * Touches: nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { healthRoutes } from './health.ts';
import { queueRoutes } from './queue.ts';
import { traceRoutes } from './trace.ts';
import { reportRoutes } from './reports.ts';
import { auditRoutes } from './audit.ts';
import { quarantineRoutes } from './quarantine.ts';
import { quarantineRequestRoutes } from './quarantine-requests.ts';
import { metricsRoutes } from './metrics.ts';
import { alertRoutes } from './alerts.ts';
import { configRoutes } from './config.ts';
import { orgRoutes } from './org.ts';
import { domainRoutes } from './domains.ts';
import { connectorRoutes } from './connectors.ts';
import { userRoutes } from './users.ts';
import { listenerRoutes } from './listeners.ts';
import { policyRoutes } from './policy.ts';
import { ruleRoutes } from './rules.ts';
import { nodeRoutes } from './nodes.ts';

export type ApiRoutes = (app: FastifyInstance, deps: ApiDeps) => void | Promise<void>;

export const ROUTES: readonly ApiRoutes[] = [
  healthRoutes,
  queueRoutes,
  traceRoutes,
  reportRoutes,
  auditRoutes,
  quarantineRoutes,
  quarantineRequestRoutes,
  metricsRoutes,
  alertRoutes,
  configRoutes,
  orgRoutes,
  domainRoutes,
  connectorRoutes,
  userRoutes,
  listenerRoutes,
  policyRoutes,
  ruleRoutes,
  nodeRoutes,
];
