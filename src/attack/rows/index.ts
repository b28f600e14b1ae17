// Every row of the attack catalogue (docs/ATTACK-CATALOGUE.md), in catalogue order.
import type { AttackRow } from '../types.js';
import { a6 } from './approval.js';
import { o12 } from './audience.js';
import { p1, p2 } from './agent.js';
import { a1 } from './bola.js';
import { a9, a10 } from './budgets.js';
import { DATABASE_ROWS } from './database.js';
import { a5, f4 } from './double-effect.js';
import { f1, f2, f3, f5 } from './faults.js';
import { a7, a8 } from './guardrails.js';
import { a3 } from './mass-assignment.js';
import { m1 } from './mcp-bearer.js';
import { m2 } from './mcp-consent.js';
import { m6 } from './mcp-scope.js';
import { m3 } from './mcp-session.js';
import { m4 } from './mcp-ssrf.js';
import { m5, m7, m8 } from './mcp-transport.js';
import { l1, l2, l4 } from './operations.js';
import { o11 } from './oauth-brute-force.js';
import { o3, o4 } from './oauth-redirects.js';
import { o8, o9, o10 } from './oauth-pages.js';
import { o1, o2 } from './oauth-pkce.js';
import { o5, o6 } from './oauth-replay.js';
import { o7 } from './oauth-scope.js';
import { a4 } from './resource-consumption.js';
import { l3, o13, o14 } from './signin.js';
import { a2 } from './staff-tools.js';
import { e1, o15, o16, p3 } from './text-edge.js';

export const ALL_ROWS: readonly AttackRow[] = [
  o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12, o13, o14, o15, o16,
  m1, m2, m3, m4, m5, m6, m7, m8,
  a1, a2, a3, a4, a5, a6, a7, a8, a9, a10,
  p1, p2, p3,
  l1, l2, l3, l4,
  ...DATABASE_ROWS,
  f1, f2, f3, f4, f5,
  e1,
];
