/**
 * Email over SMTP (nodemailer), for notifications. The operator's relay is configured by
 * CERTFLOW_SMTP_URL (cmd/config.ts); it is the platform's, not a team's, so it is not a
 * destination the SSRF guard checks. A 5xx answer is permanent (the address or message is
 * refused); anything else (4xx, a connection failure, a timeout) is tried again later.
 */
import nodemailer from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** `<…@…>`: the same for every attempt of one notification to one address. */
  messageId: string;
  headers: Record<string, string>;
}

export interface Mailer {
  /** The domain of Message-IDs (the From address's). */
  readonly messageIdDomain: string;
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** An SMTP refusal that sending again cannot change. */
export class MailRefused extends Error {
  override name = 'MailRefused';
}

export interface SmtpSettings {
  /** `smtp://user:pass@host:587` or `smtps://…:465` (nodemailer's URL form). */
  url: string;
  from: string;
  /** Connection, greeting and socket timeouts. */
  timeoutMs?: number;
}

export function createSmtpMailer(settings: SmtpSettings): Mailer {
  const timeout = settings.timeoutMs ?? 15_000;
  const transport = nodemailer.createTransport({ url: settings.url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout });
  const domain = /@([^>\s]+)>?\s*$/.exec(settings.from)?.[1] ?? 'certflow.invalid';
  return {
    messageIdDomain: domain,
    async send(message) {
      try {
        await transport.sendMail({
          from: settings.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          messageId: message.messageId,
          headers: message.headers,
        });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        const text = `SMTP: ${(error as Error).message}`;
        if (code !== undefined && code >= 500 && code < 600) throw new MailRefused(text);
        throw new Error(text);
      }
    },
    close: () => transport.close(),
  };
}
