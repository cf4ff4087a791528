import { type BrowserContext, chromium, type Page, type Response } from 'playwright-core';

/** Debian's Chromium, headless; no background networking, so every request it makes is the page's. */
const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
};

/** A page opened in its own browser, with what went wrong while it ran. */
export interface OpenedPage {
  page: Page;
  /** The answer to the page's own URL. */
  response: Response | null;
  /** Console errors of the page and its workers (Chromium reports CSP violations there). */
  consoleErrors: string[];
  /** Exceptions the page's scripts did not catch. */
  pageErrors: string[];
  /** Requests (WebSockets included) to any origin but the page's: refused, and listed. */
  foreignRequests: string[];
  close(): Promise<void>;
}

/** Lets requests to `origin` through; refuses any other and lists it. */
async function confineTo(context: BrowserContext, origin: string, foreign: string[]): Promise<void> {
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    foreign.push(url);
    return route.abort('blockedbyclient');
  });
}

/** Opens `url` in a fresh Chromium whose requests may only go to that URL's origin. */
export async function openPage(url: string): Promise<OpenedPage> {
  const browser = await chromium.launch(CHROMIUM);
  try {
    const context = await browser.newContext();
    const origin = new URL(url).origin;
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const foreignRequests: string[] = [];
    await confineTo(context, origin, foreignRequests);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Routes do not see WebSockets: they are only listed.
    page.on('websocket', (socket) => {
      if (new URL(socket.url().replace(/^ws/, 'http')).origin !== origin) foreignRequests.push(socket.url());
    });
    const response = await page.goto(url);
    return { page, response, consoleErrors, pageErrors, foreignRequests, close: () => browser.close() };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
