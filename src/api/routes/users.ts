/**
 * @module api/routes/users
 * SMTP AUTH users through ops/users, as `mailgate user` does: `GET /api/v1/users` (read, never
 * the hashes); `POST /api/v1/users`, `PUT /api/v1/users/:name/password`, `DELETE
 * /api/v1/users/:name` (admin). Passwords arrive in the body (HTTPS, or plain HTTP on loopback
 * only) and are stored as scrypt hashes; no response or log carries them.
 * Touches: the config store (through ops/users).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addUser, listUsers, removeUser, setUserPassword } from '../../ops/users.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { ChangedSchema, jsonSchema, parseInput, problemResponses } from '../schema.ts';

const User = z.object({ name: z.string(), sendAs: z.array(z.string()) });
const Password = z.string().min(1).max(1024);
const AddBody = z.object({ name: z.string().min(1).max(320), password: Password, sendAs: z.array(z.string().min(1).max(320)).max(1000).optional() }).strict();
const PasswordBody = z.object({ password: Password }).strict();
const Name = z.object({ name: z.string().min(1).max(320) });

export function userRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/users', { config: { scope: 'read' }, schema: { summary: 'SMTP AUTH users (never their hashes)', response: { 200: jsonSchema(z.array(User)), ...problemResponses() } } }, async (req) =>
    listUsers(deps.ops(actorOf(req))),
  );
  app.post(
    '/api/v1/users',
    { config: { scope: 'admin' }, schema: { summary: 'add an SMTP AUTH user', body: jsonSchema(AddBody, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 409, 422) } } },
    async (req) => addUser(deps.ops(actorOf(req)), parseInput(AddBody, req.body)),
  );
  app.put(
    '/api/v1/users/:name/password',
    { config: { scope: 'admin' }, schema: { summary: "change a user's password", params: jsonSchema(Name, 'input'), body: jsonSchema(PasswordBody, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 404, 422) } } },
    async (req) => setUserPassword(deps.ops(actorOf(req)), parseInput(Name, req.params).name, parseInput(PasswordBody, req.body).password),
  );
  app.delete(
    '/api/v1/users/:name',
    { config: { scope: 'admin' }, schema: { summary: 'remove a user', params: jsonSchema(Name, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(404) } } },
    async (req) => removeUser(deps.ops(actorOf(req)), parseInput(Name, req.params).name),
  );
}
