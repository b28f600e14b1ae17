// Writes that a customer's assistant makes on their behalf (start_return, place_order) need explicit
// confirmation and an idempotency key (docs/DESIGN.md §1, A5).
//
// Confirmation is two-step for every client. MCP elicitation would need the server to send a request
// to the client in the middle of a tool call; this endpoint is stateless with JSON responses (no
// session and no SSE stream, for scale-out and M3), and a stateless server never learns the
// client's capabilities, which arrive only with `initialize`. So: the first call validates and
// returns a summary with a single-use `confirmation_token` bound to (subject, tool, arguments) for
// five minutes; the assistant shows the summary to the person and, once they agree, calls again
// with the same arguments plus the token. Both records live in PostgreSQL, so any instance can take
// the second call.
//
// Idempotency: the first completed result is stored under (subject, key); a retry with the same
// key and arguments returns it, the same key with other arguments is an error. The key is claimed
// with INSERT … ON CONFLICT, so a parallel duplicate waits for the first and then returns its result.
import { createHash, randomBytes } from 'node:crypto';
import { requestHash } from '../../idempotency.js';
import { hashSecret } from '../../authz/tokens.js';
import { ToolError, type CallContext } from './capability.js';

export const CONFIRMATION_TTL_SECONDS = 300;

export interface ConfirmationRequired {
  status: 'confirmation_required';
  summary: string;
  confirmation_token: string;
  expires_at: string;
  next_step: string;
}

/** The hash a confirmation and an idempotency key are bound to: the tool and its arguments. */
export function writeRequestHash(tool: string, args: Record<string, unknown>): string {
  const { confirmation_token: _ignored, ...rest } = args;
  return requestHash(tool, rest);
}

export interface ConfirmedWrite<O> {
  tool: string;
  args: Record<string, unknown> & { idempotency_key: string; confirmation_token?: string | undefined };
  /** Validates the request (throws ToolError when it cannot be done) and says what it will do. */
  summarize(): Promise<string>;
  /**
   * State the confirmation is also bound to, beyond the arguments (e.g. the cart's contents): if it
   * changed between the summary and the confirmation, the confirmation no longer holds.
   */
  binding?(): Promise<string>;
  /** Does it. Runs only with a valid confirmation and a freshly claimed key. */
  execute(): Promise<O>;
}

export async function confirmedWrite<O extends Record<string, unknown>>(ctx: CallContext, w: ConfirmedWrite<O>): Promise<O | ConfirmationRequired> {
  const { tx, tenantId, subject } = ctx;
  const hash = writeRequestHash(w.tool, w.args);
  const key = w.args.idempotency_key;

  const firstResult = async (): Promise<O | null> => {
    const [row] = await tx<{ tool: string; request_hash: string; response: O | null }[]>`
      select tool, request_hash, response from idempotency_keys
      where tenant_id = ${tenantId} and subject = ${subject} and key = ${key}`;
    if (!row) return null;
    if (row.tool !== w.tool || row.request_hash !== hash) {
      throw new ToolError('This idempotency_key was already used for a different request: use a new key for a new request', 'conflict');
    }
    if (!row.response) throw new ToolError('A request with this idempotency_key is still in progress: retry shortly', 'conflict');
    return row.response;
  };

  const done = await firstResult();
  if (done) return done;
  const confirmationHash = async () =>
    w.binding ? createHash('sha256').update(`${hash}\n${await w.binding()}`).digest('hex') : hash;

  if (!w.args.confirmation_token) {
    const summary = await w.summarize();
    const token = `cmcp_confirm_${randomBytes(24).toString('base64url')}`;
    const [row] = await tx<{ expires_at: Date }[]>`
      insert into tool_confirmations (tenant_id, token_hash, subject, tool, request_hash, expires_at)
      values (${tenantId}, ${hashSecret(token)}, ${subject}, ${w.tool}, ${await confirmationHash()}, now() + make_interval(secs => ${CONFIRMATION_TTL_SECONDS}))
      returning expires_at`;
    return {
      status: 'confirmation_required',
      summary,
      confirmation_token: token,
      expires_at: row!.expires_at.toISOString(),
      next_step: `Show the summary to the customer. Only if they explicitly agree, call ${w.tool} again with exactly the same arguments plus this confirmation_token.`,
    };
  }

  // Claim the key first: a parallel duplicate blocks here until we commit, then returns our result.
  const claimed = await tx`
    insert into idempotency_keys (tenant_id, subject, key, tool, request_hash)
    values (${tenantId}, ${subject}, ${key}, ${w.tool}, ${hash})
    on conflict do nothing
    returning key`;
  if (claimed.length === 0) {
    const first = await firstResult();
    if (first) return first;
    throw new ToolError('A request with this idempotency_key is still in progress: retry shortly', 'conflict');
  }
  const bound = await confirmationHash();
  const consumed = await tx`
    update tool_confirmations set used_at = now()
    where tenant_id = ${tenantId} and token_hash = ${hashSecret(w.args.confirmation_token)} and subject = ${subject}
      and tool = ${w.tool} and request_hash = ${bound} and used_at is null and expires_at > now()
    returning 1`;
  if (consumed.length === 0) {
    throw new ToolError(
      'The confirmation_token is invalid, expired, already used, or was issued for different arguments or a different cart: call again without it to get a new summary and token',
      'confirmation_required',
    );
  }
  const result = await w.execute();
  await tx`update idempotency_keys set response = ${tx.json(result as never)}
           where tenant_id = ${tenantId} and subject = ${subject} and key = ${key}`;
  return result;
}
