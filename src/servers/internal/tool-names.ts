// The internal capability set's tool names, known to the customer set so that calling one of them
// with a customer token is recognised, refused and audited as such (A2). Checked against the set
// at start-up (src/servers/internal/capabilities.ts).
export const INTERNAL_TOOL_NAMES = [
  'search_orders', 'get_order_details', 'late_shipments', 'low_stock', 'lookup_claim', 'lookup_payment', 'lookup_return', 'list_returns',
  'sales_trends', 'competitor_prices',
  'create_reorder', 'reroute_delivery', 'decide_return', 'open_damage_claim', 'resolve_damage_claim', 'issue_refund', 'change_price',
  'get_action_status', 'list_my_actions', 'confirm_my_action',
] as const;
