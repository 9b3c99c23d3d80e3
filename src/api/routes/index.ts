/**
 * @module api/routes
 * Every route module of the admin API, registered in this order by buildApi (one file per
 * resource; append new ones here).
 * Touches: nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { healthRoutes } from './health.ts';
import { configRoutes } from './config.ts';
import { orgRoutes } from './org.ts';
import { domainRoutes } from './domains.ts';
import { connectorRoutes } from './connectors.ts';
import { userRoutes } from './users.ts';
import { listenerRoutes } from './listeners.ts';

export type ApiRoutes = (app: FastifyInstance, deps: ApiDeps) => void | Promise<void>;

export const ROUTES: readonly ApiRoutes[] = [
  healthRoutes,
  configRoutes,
  orgRoutes,
  domainRoutes,
  connectorRoutes,
  userRoutes,
  listenerRoutes,
];
