// Writes that a customer's assistant makes on their behalf (start_return, place_order) need explicit
// confirmation and an idempotency key (docs/DESIGN.md §1, A5).
//
// Confirmation has two forms, chosen per request:
// - In band (MCP 2026-07-28, the client declared form elicitation): the first call answers
//   `input_required` with a form elicitation that shows exactly what will happen and an
//   HMAC-protected `requestState` (request-state.ts) bound to the principal, the tool, the
//   arguments, the server state it covers (the cart) and a 10-minute expiry. The client shows the
//   form to the person and retries the same call with `inputResponses` and the state: accept does
//   it, decline or cancel changes nothing and says so. A state is consumed at most once: its id goes
//   into request_state_uses in the same transaction as the effect.
// - Two-step (legacy revisions, or a client without elicitation): the first call validates and
//   returns a summary with a single-use `confirmation_token` bound to (subject, tool, arguments) for
//   five minutes; the assistant shows the summary to the person and, once they agree, calls again
//   with the same arguments plus the token. Both records live in PostgreSQL, so any instance can
//   take the second call.
//
// Idempotency (both forms): the first completed result is stored under (subject, key); a retry with
// the same key and arguments returns it, the same key with other arguments is an error. The key is
// claimed with INSERT … ON CONFLICT, so a parallel duplicate waits for the first and then returns its
// result. So a replayed retry (same state, same arguments and key) returns the original result and
// never a second order or return; a state presented again in any other way is refused.
import { createHash, randomBytes } from 'node:crypto';
import { requestHash } from '../../idempotency.js';
import { hashSecret } from '../../authz/tokens.js';
import type { Tx } from '../../db/context.js';
import { InputRequired, ToolError, type CallContext } from './capability.js';
import { confirmationAnswer, confirmationElicitation, CONFIRM_KEY } from './interaction.js';
import { openRequestState, sealRequestState, type Principal, type StateBinding } from './request-state.js';


/** Claims an idempotency key for this request; false when another call holds it (it waits here until that one commits). */
async function claimKey(tx: Tx, k: { tenantId: string; subject: string; key: string; tool: string; hash: string }): Promise<boolean> {
  const claimed = await tx`
    insert into idempotency_keys (tenant_id, subject, key, tool, request_hash)
    values (${k.tenantId}, ${k.subject}, ${k.key}, ${k.tool}, ${k.hash})
    on conflict do nothing
    returning key`;
  return claimed.length > 0;
}
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

/** A declined or cancelled in-band confirmation: nothing was done. */
export interface NotConfirmed {
  status: 'declined' | 'cancelled';
  summary: string;
}

/** What a write will do: one sentence, and every detail the person confirms (lines, money, method). */
export interface WriteSummary {
  text: string;
  details: string[];
  /** The confirmation checkbox's title ("Place this order"). */
  confirmTitle: string;
}

export interface ConfirmedWrite<O> {
  tool: string;
  args: Record<string, unknown> & { idempotency_key: string; confirmation_token?: string | undefined };
  /** Said when the person declines or cancels ("Nothing was ordered and the cart is unchanged"). */
  nothingDone: string;
  /** Validates the request (throws ToolError when it cannot be done) and says what it will do. */
  summarize(): Promise<WriteSummary>;
  /**
   * State the confirmation is also bound to, beyond the arguments (e.g. the cart's contents): if it
   * changed between the summary and the confirmation, the confirmation no longer holds.
   */
  binding?(): Promise<string>;
  /** Does it. Runs only with a valid confirmation and a freshly claimed key. */
  execute(): Promise<O>;
}

/** What an in-band confirmation works with: the retry's answer and state, and the key. */
interface InBand {
  key: Buffer;
  inputResponses: Record<string, unknown> | undefined;
  requestState: string | undefined;
}

/**
 * In-band confirmation applies when the request is 2026-07-28 and its client declared form
 * elicitation on it (MRTR §"Server Requirements" 7: never an inputRequest the client did not declare).
 */
function inBand(ctx: CallContext): InBand | null {
  const p = ctx.protocol;
  if (p.era !== 'modern' || !p.elicitation.form || !ctx.requestStateKey) return null;
  return { key: ctx.requestStateKey, inputResponses: p.inputResponses, requestState: p.requestState };
}

export async function confirmedWrite<O extends Record<string, unknown>>(
  ctx: CallContext, w: ConfirmedWrite<O>,
): Promise<O | ConfirmationRequired | NotConfirmed | InputRequired> {
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
  const interaction = inBand(ctx);
  if (interaction) return confirmInBand(ctx, w, interaction, hash);
  const confirmationHash = async () =>
    w.binding ? createHash('sha256').update(`${hash}\n${await w.binding()}`).digest('hex') : hash;

  if (!w.args.confirmation_token) {
    const summary = (await w.summarize()).text;
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
  if (!(await claimKey(tx, { tenantId, subject, key, tool: w.tool, hash }))) {
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

/** The elicitation's message: the sentence, then one detail per line. */
function elicitationMessage(s: WriteSummary): string {
  return [s.text, '', ...s.details.map((d) => `• ${d}`)].join('\n');
}

async function askForConfirmation<O>(w: ConfirmedWrite<O>, interaction: InBand, who: Principal, what: StateBinding): Promise<InputRequired> {
  const summary = await w.summarize();
  const { state } = sealRequestState(interaction.key, who, what);
  return new InputRequired({ [CONFIRM_KEY]: confirmationElicitation(elicitationMessage(summary), summary.confirmTitle) }, state);
}

/** basic/patterns/mrtr: ask (input_required), then complete the retry that carries the answer and the state. */
async function confirmInBand<O extends Record<string, unknown>>(
  ctx: CallContext, w: ConfirmedWrite<O>, interaction: InBand, hash: string,
): Promise<O | NotConfirmed | InputRequired> {
  const { tx, tenantId, subject } = ctx;
  const { confirmation_token: _unused, ...args } = w.args;
  const who: Principal = { tenantId, subject, clientId: ctx.token.clientId };
  const what: StateBinding = { tool: w.tool, args, over: w.binding ? await w.binding() : '' };
  if (interaction.requestState === undefined) return askForConfirmation(w, interaction, who, what);

  // MRTR §"Server Requirements" 4: attacker-controlled input, verified before anything else.
  const opened = openRequestState(interaction.key, interaction.requestState, who, what);
  if (!opened.ok) {
    throw new ToolError(
      opened.refusal === 'expired'
        ? `The confirmation expired: call ${w.tool} again without requestState to ask the customer again`
        : `The requestState is not valid for this call (altered, or issued for another person, tool, arguments or ${w.binding ? 'cart' : 'request'}): call ${w.tool} again without it to ask the customer again`,
      'confirmation_required',
    );
  }
  const answer = confirmationAnswer(interaction.inputResponses);
  // MRTR §"Error Handling": the answer is missing, so ask again rather than fail.
  if (answer === 'missing') return askForConfirmation(w, interaction, who, what);
  if (answer !== 'confirmed') {
    return { status: answer, summary: `${w.nothingDone}: the customer ${answer === 'declined' ? 'declined' : 'cancelled'} the confirmation.` };
  }

  // Claim the key first: a parallel duplicate blocks here until we commit, then returns our result.
  const key = w.args.idempotency_key;
  if (!(await claimKey(tx, { tenantId, subject, key, tool: w.tool, hash }))) {
    const [row] = await tx<{ response: O | null }[]>`
      select response from idempotency_keys where tenant_id = ${tenantId} and subject = ${subject} and key = ${key}
        and tool = ${w.tool} and request_hash = ${hash}`;
    if (row?.response) return row.response;
    throw new ToolError('A request with this idempotency_key is still in progress: retry shortly', 'conflict');
  }
  // Single use, server-side (MRTR §4.5 warning): consumed with the effect, in its transaction.
  const consumed = await tx`
    insert into request_state_uses (tenant_id, state_id, subject, tool, expires_at)
    values (${tenantId}, ${opened.payload.id}, ${subject}, ${w.tool}, to_timestamp(${opened.payload.exp}))
    on conflict do nothing returning state_id`;
  if (consumed.length === 0) {
    throw new ToolError(`This confirmation was already used: call ${w.tool} again without requestState for a new one`, 'confirmation_required');
  }
  // The subject's own uses whose states have long expired can go: such a state no longer verifies.
  await tx`delete from request_state_uses where tenant_id = ${tenantId} and subject = ${subject}
           and expires_at < now() - interval '1 hour'`;
  const result = await w.execute();
  await tx`update idempotency_keys set response = ${tx.json(result as never)}
           where tenant_id = ${tenantId} and subject = ${subject} and key = ${key}`;
  return result;
}
