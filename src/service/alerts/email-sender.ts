import { hostname } from 'node:os';
import type { Alert } from '../../api/schemas.js';
import { DriveseedError } from '../../core/errors.js';

/** An address with one @, no spaces, quotes, brackets or line breaks: nothing that could reach a header as more than an address. */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function assertEmailAddress(value: string): void {
  if (value.length > 254 || !EMAIL.test(value))
    throw new DriveseedError('USAGE', `not an e-mail address: ${JSON.stringify(value.slice(0, 100))}`, { field: 'address' });
}

export interface SmtpSettings {
  /** smtp://HOST:PORT (STARTTLS when the server offers it) or smtps://HOST:PORT (TLS from the start). */
  url: string;
  from?: string;
  /** From DRIVESEED_SMTP_USER and DRIVESEED_SMTP_PASSWORD, never a flag. */
  user?: string;
  password?: string;
  /** The console's address, for the link in each message. */
  consoleUrl?: string;
}

export function parseSmtpUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DriveseedError('USAGE', `--smtp: not a URL: ${value}`, { hint: 'write it like smtp://mail.example.com:587 or smtps://mail.example.com:465' });
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new DriveseedError('USAGE', `--smtp takes smtp:// or smtps://, not ${url.protocol}`);
  if (url.username || url.password)
    throw new DriveseedError('USAGE', '--smtp takes no password', { hint: 'set DRIVESEED_SMTP_USER and DRIVESEED_SMTP_PASSWORD' });
  return url;
}

export interface EmailSender {
  send(to: string, delivery: { id: string; event: string; body: string }): Promise<void>;
  close(): void;
}

/** Alerts by e-mail through the provider's SMTP server (nodemailer: SMTP, STARTTLS, AUTH). */
export async function smtpSender(settings: SmtpSettings): Promise<EmailSender> {
  const url = parseSmtpUrl(settings.url);
  const { createTransport } = await import('nodemailer');
  const secure = url.protocol === 'smtps:';
  const transport = createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    // A mail server that hangs fails this attempt; the delivery is retried later.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  const from = settings.from ?? `driveseed@${hostname()}`;
  return {
    async send(to, delivery) {
      const { event, alert } = JSON.parse(delivery.body) as { event: string; alert: Alert };
      const resolved = event === 'alert.resolved';
      const link = settings.consoleUrl ? `${settings.consoleUrl.replace(/\/$/, '')}${alert.link}` : alert.link;
      await transport.sendMail({
        from,
        to,
        subject: `[driveseed] ${resolved ? 'Resolved' : 'Alert'}: ${alert.kind}${alert.vaultName ? ` in vault ${alert.vaultName}` : ''}`,
        text: [
          resolved ? `Resolved at ${alert.resolvedAt}:` : `Raised at ${alert.raisedAt}:`,
          '',
          alert.message,
          '',
          `In the console: ${link}`,
          `Alert ${alert.id} (${alert.kind}, about ${alert.subject}); delivery ${delivery.id}.`,
        ].join('\n'),
        headers: { 'X-Driveseed-Delivery': delivery.id, 'X-Driveseed-Event': event },
      });
    },
    close: () => transport.close(),
  };
}
