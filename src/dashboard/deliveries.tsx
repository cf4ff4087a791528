// A job's webhook deliveries, each with a button that sends it again.
import { useEffect, useState } from 'preact/hooks';
import { messageOf, request } from './api';
import { when } from './format';
import { useQuery } from './hooks';
import { DELIVERIES, type DeliveriesAnswer, type Delivery, REDELIVER, type RedeliverAnswer } from './queries';

/** How often deliveries still due are read again: their attempts change nothing the job's feed reports. */
const POLL_MS = 3000;

function DeliveryRow({ delivery, onRedeliver }: { delivery: Delivery; onRedeliver: () => void }) {
  return (
    <tr>
      <td>{delivery.event}</td>
      <td class="value">{delivery.url}</td>
      <td class="wide">{delivery.delivered ? 'delivered' : delivery.nextAttemptAt ? `next attempt ${when(delivery.nextAttemptAt)}` : 'gave up'}</td>
      <td class="number">{delivery.attempts}</td>
      <td>{delivery.lastStatusCode ?? delivery.lastError ?? '—'}</td>
      <td>
        <button type="button" class="secondary" onClick={onRedeliver}>
          Redeliver
        </button>
      </td>
    </tr>
  );
}

export function Deliveries({ id, status }: { id: string; status: string }) {
  const { data, error, reload } = useQuery<DeliveriesAnswer>(DELIVERIES, { id }, status);
  const [problem, setProblem] = useState<string | null>(null);
  const deliveries = data?.job?.webhookDeliveries ?? [];
  const due = deliveries.some((delivery) => !delivery.delivered && delivery.nextAttemptAt !== null);
  useEffect(() => {
    if (!due) return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [due, reload]);

  async function redeliver(deliveryId: string) {
    try {
      const { redeliverWebhook } = await request<RedeliverAnswer>(REDELIVER, { id: deliveryId });
      setProblem(redeliverWebhook.userErrors.map((e) => e.message).join('; ') || null);
    } catch (failure) {
      setProblem(messageOf(failure));
    }
    reload();
  }

  if (deliveries.length === 0 && !error) return null;
  return (
    <section aria-labelledby="deliveries-heading">
      <h2 id="deliveries-heading">Webhook deliveries</h2>
      {(error ?? problem) && (
        <p class="error" role="alert">
          {error ?? problem}
        </p>
      )}
      <DeliveryTable deliveries={deliveries} onRedeliver={(deliveryId) => void redeliver(deliveryId)} />
    </section>
  );
}

function DeliveryTable({ deliveries, onRedeliver }: { deliveries: Delivery[]; onRedeliver: (id: string) => void }) {
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label="Webhook deliveries table">
      <table>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">URL</th>
            <th scope="col">State</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
            <th scope="col">
              <span class="visually-hidden">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((delivery) => (
            <DeliveryRow key={delivery.id} delivery={delivery} onRedeliver={() => onRedeliver(delivery.id)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
