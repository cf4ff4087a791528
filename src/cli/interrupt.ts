import { createInterface } from 'node:readline';

/** What a Ctrl-C while watching leads to. */
export type Choice = 'cancel' | 'keep-watching' | 'detach';

/**
 * --cancel-on-interrupt cancels without asking. Otherwise a terminal is asked (y cancels, anything
 * else keeps watching, Ctrl-C or end of input stops watching); without a terminal to ask on, the
 * command stops watching and the job goes on.
 */
export function chooseOnInterrupt(jobId: string, cancelOnInterrupt: boolean, ended: AbortSignal): Promise<Choice> {
  if (cancelOnInterrupt) return Promise.resolve('cancel');
  if (!process.stdin.isTTY) return Promise.resolve('detach');
  return ask(`Cancel job ${jobId}? [y/N] (Ctrl-C again: stop watching, the job goes on) `, ended);
}

/** Asks on the terminal; `ended` (the job ended meanwhile) closes the question unanswered. */
function ask(question: string, ended: AbortSignal): Promise<Choice> {
  return new Promise((resolve) => {
    // Raw mode while it asks: a Ctrl-C arrives as a key (readline's SIGINT event), not as a signal.
    const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    let choice: Choice = 'detach';
    const closeUnanswered = (): void => {
      process.stderr.write('\n');
      prompt.close();
    };
    prompt.on('SIGINT', closeUnanswered);
    prompt.on('close', () => {
      ended.removeEventListener('abort', closeUnanswered);
      resolve(choice);
    });
    ended.addEventListener('abort', closeUnanswered, { once: true });
    prompt.question(question, (answer) => {
      choice = /^y(es)?$/i.test(answer.trim()) ? 'cancel' : 'keep-watching';
      prompt.close();
    });
  });
}
