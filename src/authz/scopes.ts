// The scope vocabulary, defined in one place (issue: OAuth §6). A token's scope is
//   what the client asked ∩ what the user's role allows ∩ what the user consented to.

/** Customer endpoint scopes: a customer's own data inside one tenant. */
export const CUSTOMER_SCOPES = {
  orders: 'See your orders, their tracking and delivery status',
  returns: 'Check return eligibility, start returns and see their status',
  catalog: 'Search products, prices and availability, and get recommendations',
  cart: 'Manage your cart and place orders with your stored test payment method',
} as const;

/** Internal (staff) endpoint scopes. */
export const STAFF_SCOPES = {
  'ops:read': 'Read orders, stock, deliveries, drivers, returns and damage claims',
  'payments:read': 'Read payments, refunds and settlements',
  'stock:reorder': 'Request purchase orders (reorders) from suppliers',
  'deliveries:manage': 'Request delivery reroutes and driver reassignments',
  'returns:decide': 'Request approval or rejection of returns',
  'claims:manage': 'Request opening and resolving damage claims',
  'payments:refund': 'Request refunds',
  'prices:write': 'Request price changes',
  approvals: 'Approve or reject actions requested by others',
  admin: 'Change the tenant’s phase, guardrails and policies',
} as const;

/** Service (client credentials) scopes, for the ingestion endpoint (src/ingest). */
export const SERVICE_SCOPES = {
  'ingest:write': 'Upload the shop’s catalogue, stock, customers, orders, shipments, returns, payments and competitor prices',
} as const;

export type ServiceScope = keyof typeof SERVICE_SCOPES;
export const ALL_SERVICE_SCOPES = Object.keys(SERVICE_SCOPES) as ServiceScope[];

export function isServiceScope(s: string): s is ServiceScope {
  return Object.hasOwn(SERVICE_SCOPES, s);
}

export type CustomerScope = keyof typeof CUSTOMER_SCOPES;
export type StaffScope = keyof typeof STAFF_SCOPES;
export type Scope = CustomerScope | StaffScope;
export type StaffRole = 'supply_chain_manager' | 'warehouse_lead' | 'returns_specialist' | 'tenant_admin';

export const STAFF_ROLE_SCOPES: Record<StaffRole, readonly StaffScope[]> = {
  supply_chain_manager: ['ops:read', 'payments:read', 'stock:reorder', 'deliveries:manage', 'claims:manage', 'prices:write', 'approvals'],
  warehouse_lead: ['ops:read', 'stock:reorder', 'deliveries:manage', 'claims:manage'],
  returns_specialist: ['ops:read', 'payments:read', 'returns:decide', 'claims:manage', 'payments:refund'],
  tenant_admin: Object.keys(STAFF_SCOPES) as StaffScope[],
};

export const ALL_CUSTOMER_SCOPES = Object.keys(CUSTOMER_SCOPES) as CustomerScope[];
export const ALL_STAFF_SCOPES = Object.keys(STAFF_SCOPES) as StaffScope[];

export function isCustomerScope(s: string): s is CustomerScope {
  return Object.hasOwn(CUSTOMER_SCOPES, s);
}
export function isStaffScope(s: string): s is StaffScope {
  return Object.hasOwn(STAFF_SCOPES, s);
}

/** RFC 6749 §3.3: scope is a space-delimited list; returns the distinct tokens, sorted. */
export function parseScope(scope: string | undefined | null): string[] {
  if (!scope) return [];
  return [...new Set(scope.split(' ').filter(Boolean))].sort();
}

export function formatScope(scopes: Iterable<string>): string {
  return [...new Set(scopes)].sort().join(' ');
}

export function describeScope(s: string): string {
  return isCustomerScope(s) ? CUSTOMER_SCOPES[s] : isStaffScope(s) ? STAFF_SCOPES[s] : isServiceScope(s) ? SERVICE_SCOPES[s] : s;
}
