/**
 * @module api/routes
 * Every route module of the admin API, registered in this order by buildApi (one file per
 * resource; append new ones here).
 * Touches: nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { healthRoutes } from './health.ts';
import { metricsRoutes } from './metrics.ts';
import { alertRoutes } from './alerts.ts';

export type ApiRoutes = (app: FastifyInstance, deps: ApiDeps) => void | Promise<void>;

export const ROUTES: readonly ApiRoutes[] = [
  healthRoutes,
  metricsRoutes,
  alertRoutes,
];
