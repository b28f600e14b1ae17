// Customer prompts (docs/DESIGN.md §1): "Where is my order?" and "Start a return".
import { z } from 'zod';
import { definePrompt } from '../mcp/capability.js';
import { orderNumber } from '../mcp/fields.js';

export const whereIsMyOrder = definePrompt({
  name: 'where_is_my_order',
  title: 'Where is my order?',
  description: 'Find out where an order is, when it arrives and why it is late if it is.',
  args: z.object({ order_number: orderNumber.optional() }).strict(),
  argumentDescriptions: { order_number: 'The order number, if the customer knows it' },
  render: ({ order_number }) =>
    [
      order_number
        ? `Where is my order ${order_number}?`
        : 'Where is my order? Find my most recent open order with list_orders first.',
      'Use get_order to see its status, shipments, carrier and tracking link, the estimated delivery time and the driver\'s position if it is out for delivery.',
      'If it is late, tell me why (the late cause) and what the new estimate is. Keep the answer short.',
    ].join('\n'),
});

export const startAReturn = definePrompt({
  name: 'start_a_return',
  title: 'Start a return',
  description: 'Check what can be returned from an order and start a return after confirming with the customer.',
  args: z.object({ order_number: orderNumber }).strict(),
  argumentDescriptions: { order_number: 'The order to return items from' },
  render: ({ order_number }) =>
    [
      `I want to return items from order ${order_number}.`,
      'First call check_return_eligibility and tell me which items can be returned and until when (read the returns policy resource policy://returns if I ask about the rules).',
      'Ask me which items, how many, their condition and my reason. Then call start_return with a new idempotency_key;',
      'if it asks me to confirm in a form, let me answer it; if it returns a summary instead, show it to me and only call it',
      'again with the confirmation_token after I explicitly say yes.',
    ].join('\n'),
});
