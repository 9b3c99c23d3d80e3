/**
 * @module config/schema-nodes
 * Per-node settings of a fleet, kept in the shared configuration: a node named here (`serve
 * --node NAME`) moves listed receive connectors (or `admin`, the admin listener) to its own
 * addresses, so one stored configuration serves nodes on different hosts or several on one host.
 * `serve --listen` on the command line wins over an entry here.
 * Touches: nothing.
 */
import { z } from 'zod';

export const nodeListenSchema = z
  .object({
    listener: z.string().min(1).describe('A receive connector\'s name, or `admin` for the admin listener.'),
    bind: z.string().min(1).describe('The address this node listens on for it (an IPv6 address without brackets).'),
    port: z.number().int().min(1).max(65_535).describe('The port this node listens on for it.'),
  })
  .strict();

export const nodeEntrySchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" or "-"')
      .describe('The node, as `mailgate serve --node NAME` names it.'),
    listen: z.array(nodeListenSchema).default([]).describe('Listeners this node binds elsewhere than the receive connector (or admin) says.'),
  })
  .strict();

export type NodeEntry = z.infer<typeof nodeEntrySchema>;

/**
 * What is wrong with the node entries beyond their shape: a name given twice, a listener no
 * receive connector has (and not `admin`), a listener moved twice for one node.
 */
export function nodeEntryProblems(nodes: readonly NodeEntry[], listeners: readonly string[]): { path: string; reason: string }[] {
  const known = new Set(listeners.map((n) => n.toLowerCase()));
  const out: { path: string; reason: string }[] = [];
  const seen = new Set<string>();
  nodes.forEach((n, i) => {
    if (seen.has(n.name.toLowerCase())) out.push({ path: `nodes[${i}].name`, reason: `node "${n.name}" is listed twice` });
    seen.add(n.name.toLowerCase());
    const moved = new Set<string>();
    n.listen.forEach((l, j) => {
      const key = l.listener.toLowerCase();
      if (key !== 'admin' && !known.has(key)) out.push({ path: `nodes[${i}].listen[${j}].listener`, reason: `no receive connector named "${l.listener}" (or use admin)` });
      else if (moved.has(key)) out.push({ path: `nodes[${i}].listen[${j}].listener`, reason: `"${l.listener}" is moved twice for node "${n.name}"` });
      moved.add(key);
    });
  });
  return out;
}
