// A sample order.shipped delivery as Dapr sends it: a CloudEvent whose data
// is the order event (contracts/events/order.shipped.schema.json).

export function cloudEvent({ userId = 'u-ann', orderId = 'o-1', productIds = ['p1'], id = 'ce-1' } = {}) {
  return {
    id,
    specversion: '1.0',
    source: 'order',
    type: 'com.dapr.event.sent',
    topic: 'order.shipped',
    pubsubname: 'pubsub',
    datacontenttype: 'application/json',
    data: {
      orderId,
      userId,
      email: `${userId}@example.com`,
      status: 'shipped',
      lines: productIds.map((productId) => ({
        productId,
        name: 'Kettle',
        quantity: 1,
        unitPrice: { amount: 4999, currency: 'EUR' },
      })),
      total: { amount: 4999 * productIds.length, currency: 'EUR' },
      at: '2026-01-02T03:04:05Z',
    },
  };
}
