import type { Delivery } from '../webhooks/sqlite-webhook-store';
import { builder } from './builder';
import { Job } from './job';
import { UserError } from './user-error';

const WebhookDelivery = builder.objectRef<Delivery>('WebhookDelivery').implement({
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The webhook-id header: the same on every attempt of one event' }),
    event: t.exposeString('event', { description: 'job.completed | job.failed | job.cancelled' }),
    url: t.exposeString('url'),
    attempts: t.exposeInt('attempts'),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    delivered: t.boolean({ resolve: (d) => d.deliveredAt !== null }),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.nextAttemptAt }),
  }),
});

builder.objectField(Job, 'webhookDeliveries', (t) =>
  t.field({
    type: [WebhookDelivery],
    description: "Deliveries of the job's webhook events",
    resolve: (job, _args, { services }) => services.webhooks.forJob(job.num),
  }),
);

const RotatedSecret = builder.objectRef<{ secret: string; previousValidUntil: number }>('RotateWebhookSigningSecretPayload').implement({
  fields: (t) => ({
    secret: t.exposeString('secret'),
    previousValidUntil: t.field({ type: 'DateTime', description: 'Until then the previous secret signs too', resolve: (p) => p.previousValidUntil }),
  }),
});

const RedeliverPayload = builder.objectRef<{ delivery: Delivery | null; userErrors: Array<{ code: string; field: string[]; message: string }> }>('RedeliverWebhookPayload').implement({
  fields: (t) => ({
    delivery: t.field({ type: WebhookDelivery, nullable: true, resolve: (p) => p.delivery }),
    userErrors: t.field({ type: [UserError], resolve: (p) => p.userErrors }),
  }),
});

builder.queryField('webhookSigningSecret', (t) =>
  t.string({
    description: "The workspace's secret that signs per-job webhooks (Standard Webhooks, whsec_…)",
    resolve: (_root, _args, { workspace, services }) => services.webhooks.currentSecret(workspace),
  }),
);

builder.mutationFields((t) => ({
  rotateWebhookSigningSecret: t.field({
    type: RotatedSecret,
    description: 'Replaces the signing secret; both sign (space-separated signatures) until previousValidUntil',
    resolve: (_root, _args, { workspace, services }) => {
      const previousValidUntil = Date.now() + services.config.webhookSecretOverlapMs;
      return { secret: services.webhooks.rotate(workspace, previousValidUntil), previousValidUntil };
    },
  }),
  redeliverWebhook: t.field({
    type: RedeliverPayload,
    description: 'Sends a delivery again now (a new attempt with the same webhook-id)',
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: (_root, { deliveryId }, { workspace, services }) => {
      const delivery = services.webhooks.get(String(deliveryId));
      if (!delivery || delivery.workspace !== workspace) {
        return { delivery: null, userErrors: [{ code: 'NOT_FOUND', field: ['deliveryId'], message: 'no such delivery' }] };
      }
      services.webhooks.redeliver(delivery.id, Date.now());
      services.dispatcher.kick();
      return { delivery: services.webhooks.get(delivery.id), userErrors: [] };
    },
  }),
}));
