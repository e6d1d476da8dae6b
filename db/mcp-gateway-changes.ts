/**
 * The changes the MCP gateway connector made in a gateway for an agent and has not undone yet
 * (connectors/mcp-gateway.ts): recorded before undo is possible, removed once undone, so undo
 * restores exactly what Firebreak changed and never what an operator changed.
 */
import { and, eq } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { mcpGatewayChanges } from './schema';

export type McpGatewayChange = typeof mcpGatewayChanges.$inferSelect;

export async function gatewayChangesOf(
  db: Db,
  agentId: string,
  gateway: string,
): Promise<McpGatewayChange[]> {
  return db
    .select()
    .from(mcpGatewayChanges)
    .where(and(eq(mcpGatewayChanges.agentId, agentId), eq(mcpGatewayChanges.gateway, gateway)));
}

/** Records a change; recording the same one again keeps the first record. */
export async function recordGatewayChange(db: Db, change: McpGatewayChange): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.insert(mcpGatewayChanges).values(change).onConflictDoNothing();
  });
}

export async function forgetGatewayChange(
  db: Db,
  c: Pick<McpGatewayChange, 'agentId' | 'gateway' | 'kind' | 'ref'>,
): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx
      .delete(mcpGatewayChanges)
      .where(
        and(
          eq(mcpGatewayChanges.agentId, c.agentId),
          eq(mcpGatewayChanges.gateway, c.gateway),
          eq(mcpGatewayChanges.kind, c.kind),
          eq(mcpGatewayChanges.ref, c.ref),
        ),
      );
  });
}
