import type { Logger } from 'pino';
import { type Agent, fetch } from 'undici';
import { checkDestination, type DestinationPolicy, guardedAgent, RefusedDestinationError } from './destination';
import type { WebhookStore } from '../ports/webhook-store';
import type { AttemptOutcome, Delivery } from './model';
import { signatureHeader } from './signing';

/** A delivery whose endpoint was deleted: nothing to sign it with, nowhere to retry. */
class EndpointGoneError extends Error {}

export interface DispatcherOptions {
  timeoutMs: number;
  /** Delay before each retry; its length + 1 is the number of attempts. */
  retryDelaysMs: readonly number[];
  policy: DestinationPolicy;
  /** Told of every attempt's outcome once it is recorded (the metrics count them). */
  onAttempt?: (outcome: AttemptOutcome) => void;
}

const BATCH = 16;
const MAX_IDLE_MS = 60_000;
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : null;
}

/**
 * Sends the outbox's due deliveries, signed per Standard Webhooks. Retries network errors, timeouts,
 * 5xx and 429 (after Retry-After when given) on the configured schedule with jitter; other answers
 * end the delivery. Redirects are not followed. Each attempt holds a lease on its delivery, so a
 * crash mid-attempt leaves it due again after restart, with the same webhook-id.
 */
export class WebhookDispatcher {
  private readonly agent: Agent;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private rerun = false;
  private stopped = false;

  constructor(
    private readonly store: WebhookStore,
    private readonly options: DispatcherOptions,
    private readonly log: Logger,
  ) {
    this.agent = guardedAgent(options.policy);
  }

  /** Sends what is due now, then sleeps until the next due attempt. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = this.sendDue()
      .catch((error) => this.log.error({ err: error }, 'webhook dispatch failed'))
      .finally(() => {
        this.running = null;
        if (this.rerun) {
          this.rerun = false;
          this.kick();
        } else void this.schedule();
      });
  }

  private async schedule(): Promise<void> {
    const next = await this.store.nextDue().catch((error) => {
      this.log.error({ err: error }, 'reading when the next webhook is due failed');
      return null;
    });
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const wait = next === null ? MAX_IDLE_MS : Math.min(MAX_IDLE_MS, Math.max(0, next - Date.now()));
    this.timer = setTimeout(() => this.kick(), wait);
    this.timer.unref();
  }

  private async sendDue(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      // Each claimed delivery is due again at `claimedUntil` if this process dies before recording the attempt.
      const claimedUntil = now + this.options.timeoutMs * 2;
      const claimed = await this.store.claimDue(now, claimedUntil, BATCH);
      if (claimed.length === 0) return;
      // allSettled: one failing attempt must not make stop() stop waiting for the others.
      const results = await Promise.allSettled(claimed.map((delivery) => this.attempt(delivery, claimedUntil)));
      for (const result of results) if (result.status === 'rejected') this.log.error({ err: result.reason }, 'recording a webhook attempt failed');
    }
  }

  private async attempt(delivery: Delivery, claimedUntil: number): Promise<void> {
    const started = Date.now();
    let outcome: AttemptOutcome;
    try {
      const url = new URL(delivery.url);
      checkDestination(url, this.options.policy);
      const timestamp = new Date();
      const response = await fetch(url, {
        method: 'POST',
        body: delivery.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Sluice-Webhooks/1',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signatureHeader(await this.secretsFor(delivery, started), delivery.id, timestamp, delivery.payload),
        },
      });
      await response.body?.cancel();
      const status = response.status;
      if (status === 410 && delivery.endpointId) await this.store.disableEndpoint(delivery.endpointId, Date.now());
      const delivered = status >= 200 && status < 300;
      const retry = status >= 500 || status === 429;
      outcome = {
        statusCode: status,
        error: delivered ? null : `the receiver answered ${status}`,
        delivered,
        nextAttemptAt: retry ? this.nextAttempt(delivery, retryAfterMs(response.headers.get('retry-after'), started)) : null,
      };
    } catch (error) {
      const refused = error instanceof RefusedDestinationError || (error as { cause?: unknown }).cause instanceof RefusedDestinationError;
      // What the address was stays in the server log: callers must not learn internal DNS answers.
      if (refused) this.log.warn({ deliveryId: delivery.id, detail: ((error as { cause?: Error }).cause ?? (error as Error)).message }, 'webhook destination refused');
      outcome = {
        statusCode: null,
        error: refused ? 'destination refused: not a public address' : (error as Error).message,
        delivered: false,
        nextAttemptAt: refused || error instanceof EndpointGoneError ? null : this.nextAttempt(delivery, null),
      };
    }
    await this.store.record(delivery.id, outcome, claimedUntil, Date.now());
    this.options.onAttempt?.(outcome);
    this.log[outcome.delivered ? 'info' : 'warn'](
      { deliveryId: delivery.id, event: delivery.event, attempt: delivery.attempts + 1, status: outcome.statusCode, error: outcome.error ?? undefined },
      outcome.delivered ? 'webhook delivered' : 'webhook attempt failed',
    );
  }

  /** An endpoint signs with its own secret; a job's webhookUrl with the workspace's (both during a rotation). */
  private async secretsFor(delivery: Delivery, now: number): Promise<string[]> {
    if (delivery.endpointId === null) return this.store.signingSecrets(delivery.workspace, now);
    const secret = await this.store.activeEndpointSecret(delivery.endpointId);
    if (secret === null) throw new EndpointGoneError('the endpoint was deleted or disabled');
    return [secret];
  }

  /** When to try again, or null when the schedule is spent. Jitter spreads retries of many deliveries. */
  private nextAttempt(delivery: Delivery, retryAfter: number | null): number | null {
    const delay = this.options.retryDelaysMs[delivery.attempts];
    if (delay === undefined) return null;
    const jittered = delay * (0.9 + Math.random() * 0.2);
    return Date.now() + Math.round(Math.max(jittered, retryAfter ?? 0)); // whole milliseconds, as every stored time
  }

  /** Stops scheduling and waits for attempts in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.agent.close();
  }
}
