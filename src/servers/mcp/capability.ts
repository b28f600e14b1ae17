// What a capability set is made of: tools, resources and prompts, each declared once with its zod
// schema and the scope it needs. A set is compiled once at start-up into the static lists every
// caller sees (P2: the lists never depend on the caller or contain customer text).
import { z } from 'zod';
import type { Tool, Prompt, Resource, ResourceTemplateType as ResourceTemplate } from '@modelcontextprotocol/server';
import type { VerifiedToken } from '../../authz/tokens.js';
import type { Actor, Tx } from '../../db/context.js';
import type { ProtocolContext } from './revision.js';

export type SubjectActor = Extract<Actor, { kind: 'customer' } | { kind: 'staff' }>;

/** What a tool or resource handler is given: the request's transaction, already in its RLS context. */
export interface CallContext {
  tx: Tx;
  tenantId: string;
  actor: SubjectActor;
  /** 'customer:<uuid>' or 'staff:<uuid>', the form idempotency_keys and tool_confirmations use. */
  subject: string;
  token: VerifiedToken;
  requestId: string;
  /**
   * The revision this request speaks and what its client declared (MCP 2026-07-28 `_meta`): a tool
   * answers `input_required` only when `protocol.elicitation.form`, a task only when `protocol.tasks`,
   * and reads an MRTR retry's `inputResponses` / `requestState` here. Legacy requests: era 'legacy',
   * nothing declared.
   */
  protocol: ProtocolContext;
  /**
   * The HMAC key of MRTR requestState values (request-state.ts), loaded once per endpoint. Without
   * it a write cannot confirm in band and keeps the two-step confirm.
   */
  requestStateKey?: Buffer | undefined;
}

/**
 * MCP 2026-07-28 Basic/Patterns/MRTR: the tool needs input from the client first. The dispatcher
 * answers `{ resultType: "input_required", inputRequests, requestState }`; the client retries the
 * same call with `inputResponses` and the `requestState` echoed (ctx.protocol carries both).
 * `requestState` is opaque to the client: integrity protection and binding are the tool's job.
 * Only on modern requests (ctx.protocol.era === 'modern'); returning it on a legacy one is a bug.
 */
export class InputRequired {
  readonly kind = 'input_required';
  constructor(
    readonly inputRequests: Record<string, { method: string; params?: Record<string, unknown> }>,
    readonly requestState?: string,
  ) {}
}

/**
 * Tasks extension (io.modelcontextprotocol/tasks): the call goes on as a task; the dispatcher answers
 * `{ resultType: "task", task }` (task: taskId, status, … as the extension defines). Only when the
 * client declared the extension (ctx.protocol.tasks).
 */
export class TaskCreated {
  readonly kind = 'task';
  constructor(readonly task: Record<string, unknown> & { taskId: string; status: string }) {}
}

/** What a tool may answer instead of its output: an interim result of the 2026-07-28 revision. */
export type InterimAnswer = InputRequired | TaskCreated;

/** An error the agent can act on: its message is shown as is ("order not found"). */
export class ToolError extends Error {
  constructor(message: string, readonly code: 'not_found' | 'invalid' | 'conflict' | 'confirmation_required' = 'invalid') {
    super(message);
  }
}

export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface ToolDefinition<S extends z.ZodObject = z.ZodObject, O extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  title: string;
  description: string;
  scope: string;
  input: S;
  output: z.ZodType<O>;
  annotations: ToolAnnotations;
  /** Writes run inside a savepoint: an error leaves nothing half done, and the audit still commits. */
  writes?: boolean;
  run(ctx: CallContext, args: z.infer<S>): Promise<O | InterimAnswer>;
}

export function defineTool<S extends z.ZodObject, O extends Record<string, unknown>>(d: ToolDefinition<S, O>): ToolDefinition<S, O> {
  return d;
}

export interface ResourceContents {
  uri: string;
  mimeType: string;
  text: string;
}

export interface StaticResourceDefinition {
  uri: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
  /** null: any valid token for this endpoint may read it. */
  scope: string | null;
  read(ctx: CallContext): Promise<unknown>;
}

export interface ResourceTemplateDefinition {
  uriTemplate: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
  scope: string | null;
  /** The template's variables when `uri` is one of its resources, else null. */
  match(uri: string): Record<string, string> | null;
  read(ctx: CallContext, params: Record<string, string>): Promise<unknown | null>;
  /** Concrete resources of this template worth listing for the caller (their own orders, say). */
  list?(ctx: CallContext): Promise<{ uri: string; name: string; title?: string }[]>;
}

export interface PromptDefinition<S extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  args: S;
  argumentDescriptions: Record<string, string>;
  render(args: z.infer<S>): string;
}

export function definePrompt<S extends z.ZodObject>(d: PromptDefinition<S>): PromptDefinition<S> {
  return d;
}

export interface CapabilitySetDefinition {
  kind: 'customer' | 'internal';
  serverInfo: { name: string; title: string; version: string };
  instructions: string;
  /** The scopes named in a 401 challenge: what a client should ask for to use this endpoint. */
  challengeScopes: string[];
  tools: ToolDefinition<any, any>[];
  resources: StaticResourceDefinition[];
  templates: ResourceTemplateDefinition[];
  prompts: PromptDefinition<any>[];
  /** Tool names of the other capability set: calling one here is refused and audited as such (A2). */
  foreignToolNames: readonly string[];
}

export interface CapabilitySet extends CapabilitySetDefinition {
  toolsByName: ReadonlyMap<string, ToolDefinition<any, any>>;
  promptsByName: ReadonlyMap<string, PromptDefinition<any>>;
  resourcesByUri: ReadonlyMap<string, StaticResourceDefinition>;
  foreign: ReadonlySet<string>;
  toolList: { tools: Tool[] };
  promptList: { prompts: Prompt[] };
  staticResourceList: Resource[];
  templateList: { resourceTemplates: ResourceTemplate[] };
  scopesSupported: string[];
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Tool['inputSchema'] {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete s.$schema;
  return s as Tool['inputSchema'];
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Builds the static lists once. Frozen: nothing per request can change what the next caller sees. */
export function compileCapabilitySet(d: CapabilitySetDefinition): CapabilitySet {
  const names = new Set<string>();
  for (const t of d.tools) {
    if (names.has(t.name)) throw new Error(`duplicate tool ${t.name}`);
    names.add(t.name);
  }
  const toolList = deepFreeze({
    tools: d.tools.map((t): Tool => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: jsonSchema(t.input, 'input'),
      outputSchema: jsonSchema(t.output, 'output') as Tool['outputSchema'],
      annotations: { title: t.title, ...t.annotations },
    })),
  });
  const promptList = deepFreeze({
    prompts: d.prompts.map((p): Prompt => ({
      name: p.name,
      title: p.title,
      description: p.description,
      arguments: Object.entries(p.args.shape).map(([name, schema]) => ({
        name,
        description: p.argumentDescriptions[name] ?? '',
        required: !(schema as z.ZodType).safeParse(undefined).success,
      })),
    })),
  });
  const staticResourceList = deepFreeze(d.resources.map((r): Resource => ({
    uri: r.uri, name: r.name, title: r.title, description: r.description, mimeType: r.mimeType,
  })));
  const templateList = deepFreeze({
    resourceTemplates: d.templates.map((t): ResourceTemplate => ({
      uriTemplate: t.uriTemplate, name: t.name, title: t.title, description: t.description, mimeType: t.mimeType,
    })),
  });
  const scopes = new Set<string>(d.challengeScopes);
  for (const t of d.tools) scopes.add(t.scope);
  for (const r of [...d.resources, ...d.templates]) if (r.scope) scopes.add(r.scope);
  return {
    ...d,
    toolsByName: new Map(d.tools.map((t) => [t.name, t])),
    promptsByName: new Map(d.prompts.map((p) => [p.name, p])),
    resourcesByUri: new Map(d.resources.map((r) => [r.uri, r])),
    foreign: new Set(d.foreignToolNames.filter((n) => !names.has(n))),
    toolList,
    promptList,
    staticResourceList,
    templateList,
    scopesSupported: [...scopes].sort(),
  };
}

/** The resource a `resources/read` URI names, with the scope it needs, or null. */
export function findResource(set: CapabilitySet, uri: string):
  | { kind: 'static'; def: StaticResourceDefinition }
  | { kind: 'template'; def: ResourceTemplateDefinition; params: Record<string, string> }
  | null {
  const s = set.resourcesByUri.get(uri);
  if (s) return { kind: 'static', def: s };
  for (const t of set.templates) {
    const params = t.match(uri);
    if (params) return { kind: 'template', def: t, params };
  }
  return null;
}
