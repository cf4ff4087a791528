import pino, { type DestinationStream, type Logger } from 'pino';

/** The service's logger: JSON lines on stdout, or on `destination` (tests keep them in memory). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'sluice' } }, destination);
}
