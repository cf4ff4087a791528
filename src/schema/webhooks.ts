import type { InputProblem } from '../datasets/columns';
import { checkWebhookUrl } from '../webhooks/destination';
import { JOB_END_EVENTS, WEBHOOK_EVENTS } from '../webhooks/outbox';
import type { Delivery, WebhookEndpoint as WebhookEndpointRecord } from '../webhooks/model';
import { builder } from './builder';
import { Job } from './job';
import { UserError } from './user-error';
import { admitEndpoint, WorkspaceLimitError } from '../workspaces/limits';

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
    resolve: async (_root, _args, { workspace, services }) => {
      const previousValidUntil = Date.now() + services.config.webhookSecretOverlapMs;
      return { secret: await services.webhooks.rotate(workspace, previousValidUntil), previousValidUntil };
    },
  }),
  redeliverWebhook: t.field({
    type: RedeliverPayload,
    description: 'Sends a delivery again now (a new attempt with the same webhook-id)',
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: async (_root, { deliveryId }, { workspace, services }) => {
      const delivery = await services.webhooks.get(String(deliveryId));
      if (!delivery || delivery.workspace !== workspace) {
        return { delivery: null, userErrors: [{ code: 'NOT_FOUND', field: ['deliveryId'], message: 'no such delivery' }] };
      }
      await services.webhooks.redeliver(delivery.id, Date.now());
      services.dispatcher.kick();
      return { delivery: await services.webhooks.get(delivery.id), userErrors: [] };
    },
  }),
}));

const WebhookEndpoint = builder.objectRef<WebhookEndpointRecord>('WebhookEndpoint').implement({
  description: "A workspace-level receiver of job events, signed with its own secret (shown only when it is registered)",
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    events: t.exposeStringList('events'),
    disabled: t.boolean({ description: 'Set when the receiver answered 410 Gone; it gets nothing more', resolve: (e) => e.disabledAt !== null }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
  }),
});

const RegisterWebhookPayload = builder
  .objectRef<{ endpoint: WebhookEndpointRecord | null; secret: string | null; userErrors: InputProblem[] }>('RegisterWebhookPayload')
  .implement({
    fields: (t) => ({
      endpoint: t.field({ type: WebhookEndpoint, nullable: true, resolve: (p) => p.endpoint }),
      secret: t.exposeString('secret', { nullable: true, description: 'The whsec_… secret that signs this endpoint’s events; shown only here' }),
      userErrors: t.field({ type: [UserError], resolve: (p) => p.userErrors }),
    }),
  });

const DeleteWebhookPayload = builder.objectRef<{ deletedId: string | null; userErrors: InputProblem[] }>('DeleteWebhookPayload').implement({
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { nullable: true }),
    userErrors: t.field({ type: [UserError], resolve: (p) => p.userErrors }),
  }),
});

builder.queryField('webhooks', (t) =>
  t.field({
    type: [WebhookEndpoint],
    description: "The workspace's webhook endpoints (without their secrets)",
    resolve: (_root, _args, { workspace, services }) => services.webhooks.endpoints(workspace),
  }),
);

builder.mutationFields((t) => ({
  registerWebhook: t.field({
    type: RegisterWebhookPayload,
    args: {
      url: t.arg.string({ required: true }),
      events: t.arg.stringList({ description: `Any of ${WEBHOOK_EVENTS.join(', ')}; the job's end (completed, failed, cancelled) when absent` }),
    },
    resolve: async (_root, { url, events }, { workspace, services }) => {
      const wanted = events ?? JOB_END_EVENTS;
      const problems: InputProblem[] = [];
      const urlProblem = checkWebhookUrl(url, services.destinations, ['url']);
      if (urlProblem) problems.push(urlProblem);
      const unknown = wanted.filter((event) => !(WEBHOOK_EVENTS as readonly string[]).includes(event));
      if (wanted.length === 0 || unknown.length > 0) {
        problems.push({ code: 'INVALID_EVENTS', field: ['events'], message: `events must be some of ${WEBHOOK_EVENTS.join(', ')}` });
      }
      if (problems.length > 0) return { endpoint: null, secret: null, userErrors: problems };
      try {
        const admit = (endpoints: number) => admitEndpoint(endpoints, services.config.workspaceLimits);
        const { endpoint, secret } = await services.webhooks.createEndpoint(workspace, url, [...new Set(wanted)], Date.now(), admit);
        return { endpoint, secret, userErrors: [] };
      } catch (error) {
        if (error instanceof WorkspaceLimitError) return { endpoint: null, secret: null, userErrors: [error.problem] };
        throw error;
      }
    },
  }),
  deleteWebhook: t.field({
    type: DeleteWebhookPayload,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, { workspace, services }) =>
      (await services.webhooks.deleteEndpoint(workspace, String(id)))
        ? { deletedId: String(id), userErrors: [] }
        : { deletedId: null, userErrors: [{ code: 'NOT_FOUND', field: ['id'], message: 'no such webhook endpoint' }] },
  }),
}));
