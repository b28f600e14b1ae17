// Runs one tool of a capability set the way the endpoint does (input schema, the caller's RLS
// transaction, a savepoint for writes, ToolError → isError), with a given 2026-07-28 interaction:
// what the MRTR and tasks tests use at the function level, on a real database.
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type postgres from 'postgres';
import { withContext } from '../../src/db/context.js';
import type { VerifiedToken } from '../../src/authz/tokens.js';
import { InputRequired, TaskCreated, ToolError, type CallContext, type CapabilitySet, type SubjectActor } from '../../src/servers/mcp/capability.js';
import type { ProtocolContext } from '../../src/servers/mcp/revision.js';
import { RpcError } from '../../src/servers/mcp/rpc.js';
import { answerTaskRequest, type TaskMethod } from '../../src/servers/mcp/tasks.js';
import { first, type TestDatabase } from '../support/database.js';

export const MODERN_REVISION = '2026-07-28';

/** What a 2026-07-28 request declared and carried (absent: a legacy request). */
export interface Interaction {
  formElicitation: boolean;
  tasks: boolean;
  inputResponses?: Record<string, unknown> | undefined;
  requestState?: string | undefined;
  /** The endpoint's requestState key. */
  stateKey: Buffer;
}

function protocolOf(i: Interaction | undefined): ProtocolContext {
  if (!i) {
    return { era: 'legacy', revision: '2025-11-25', clientCapabilities: {}, clientInfo: undefined, elicitation: { form: false, url: false },
      tasks: false, inputResponses: undefined, requestState: undefined };
  }
  return {
    era: 'modern', revision: MODERN_REVISION, clientCapabilities: {}, clientInfo: { name: 'test', version: '1' },
    elicitation: { form: i.formElicitation, url: false }, tasks: i.tasks, inputResponses: i.inputResponses, requestState: i.requestState,
  };
}

export interface Caller {
  actor: SubjectActor;
  subject: string;
  clientId: string;
  resource: string;
}

export async function customerCaller(db: TestDatabase, slug: string, email: string, clientId = 'test-assistant'): Promise<Caller> {
  const row = first(await db.owner<{ tenant_id: string; id: string }[]>`
    select c.tenant_id, c.id from customers c join tenants t on t.id = c.tenant_id where t.slug = ${slug} and c.email = ${email}`);
  return {
    actor: { kind: 'customer', tenantId: row.tenant_id, customerId: row.id }, subject: `customer:${row.id}`, clientId,
    resource: `http://127.0.0.1/t/${slug}/mcp`,
  };
}

export async function staffCaller(db: TestDatabase, slug: string, email: string, clientId = 'test-assistant'): Promise<Caller> {
  const row = first(await db.owner<{ tenant_id: string; id: string; role: string }[]>`
    select s.tenant_id, s.id, s.role::text as role from staff s join tenants t on t.id = s.tenant_id where t.slug = ${slug} and s.email = ${email}`);
  return {
    actor: { kind: 'staff', tenantId: row.tenant_id, staffId: row.id, role: row.role }, subject: `staff:${row.id}`, clientId,
    resource: `http://127.0.0.1/t/${slug}/internal/mcp`,
  };
}

function tokenOf(c: Caller): VerifiedToken {
  return {
    id: '00000000-0000-4000-8000-000000000000', tenantId: c.actor.tenantId, clientId: c.clientId, subjectKind: c.actor.kind,
    subjectId: c.actor.kind === 'customer' ? c.actor.customerId : c.actor.staffId, staffRole: c.actor.kind === 'staff' ? c.actor.role : null,
    resource: c.resource, scopes: [], expiresAt: new Date(Date.now() + 600_000), tenantPhase: 3, rateLimits: {},
  };
}

export interface Called {
  isError: boolean;
  text: string;
  /** structuredContent of a complete result, or the whole input_required / task result. */
  data: Record<string, any>;
  resultType: 'complete' | 'input_required' | 'task';
}

function contextOf(c: Caller, tx: CallContext['tx'], interaction?: Interaction): CallContext {
  return {
    tx, tenantId: c.actor.tenantId, actor: c.actor, subject: c.subject, token: tokenOf(c), requestId: 'test', protocol: protocolOf(interaction),
    requestStateKey: interaction?.stateKey,
  };
}

export async function runTool(
  sql: postgres.Sql, set: CapabilitySet, c: Caller, name: string, args: Record<string, unknown>, interaction?: Interaction,
): Promise<Called> {
  const tool = set.toolsByName.get(name);
  if (!tool) throw new Error(`no tool ${name}`);
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) return { isError: true, text: parsed.error.message, data: {}, resultType: 'complete' };
  return withContext(sql, c.actor, async (tx) => {
    try {
      const out = tool.writes
        ? await tx.savepoint((sp) => tool.run(contextOf(c, sp as unknown as CallContext['tx'], interaction), parsed.data))
        : await tool.run(contextOf(c, tx, interaction), parsed.data);
      // As dispatch.ts renders them.
      if (out instanceof InputRequired) {
        return { isError: false, text: '', data: { inputRequests: out.inputRequests, requestState: out.requestState }, resultType: 'input_required' };
      }
      if (out instanceof TaskCreated) return { isError: false, text: '', data: { ...out.task }, resultType: 'task' };
      return { isError: false, text: JSON.stringify(out), data: out as Record<string, any>, resultType: 'complete' };
    } catch (error) {
      if (error instanceof ToolError) return { isError: true, text: error.message, data: {}, resultType: 'complete' };
      throw error;
    }
  });
}

/** A task method, answered as the endpoint would: the result, or the JSON-RPC error. */
export async function runTaskMethod(
  sql: postgres.Sql, c: Caller, method: TaskMethod, params: unknown,
): Promise<{ result?: Record<string, any>; error?: { code: number; message: string } }> {
  return withContext(sql, c.actor, async (tx) => {
    try {
      return { result: await answerTaskRequest(contextOf(c, tx), method, params) };
    } catch (error) {
      if (error instanceof RpcError) return { error: { code: error.code, message: error.message } };
      throw error;
    }
  });
}

/**
 * A raw 2026-07-28 request over HTTP to one instance (by port) of a deployment whose URLs are
 * `url`'s (several instances behind one balancer): envelope with the given client capabilities,
 * MCP-Protocol-Version / Mcp-Method / Mcp-Name headers (Mcp-Name = params.taskId for tasks/*, per
 * the Tasks extension's routing rule).
 */
export function rawModern(
  port: number, url: string, token: string, method: string, params: Record<string, unknown>, capabilities: Record<string, unknown> = {},
): Promise<{ status: number; body: any }> {
  const u = new URL(url);
  const name = typeof params.name === 'string' ? params.name : typeof params.taskId === 'string' ? params.taskId : undefined;
  const body = JSON.stringify({
    jsonrpc: '2.0', id: Math.floor(Math.random() * 1e9), method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
        'io.modelcontextprotocol/clientCapabilities': capabilities,
        'io.modelcontextprotocol/clientInfo': { name: 'raw-test', version: '1.0.0' },
      },
    },
  });
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port, method: 'POST', path: u.pathname,
      headers: {
        Host: u.host, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
        'Content-Length': Buffer.byteLength(body), 'MCP-Protocol-Version': MODERN_REVISION, 'Mcp-Method': method,
        ...(name !== undefined && { 'Mcp-Name': name }),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function portOf(server: Server | undefined): number {
  return (server!.address() as AddressInfo).port;
}
