/**
 * @module test/helpers/direct-send
 * The two Direct Send probes the fleet tests send to a node: a session up to RCPT (is Direct Send
 * refused there?) and one whole message (the end-of-data reply).
 * Touches: one SMTP connection to 127.0.0.1:port per call.
 */
import { SmtpTestClient } from './smtp-client.ts';

/** MAIL FROM printer@example.com, RCPT TO user@example.com: the RCPT reply's text. */
export async function rcptReply(port: number): Promise<string> {
  const c = await SmtpTestClient.connect({ port });
  try {
    await c.cmd('EHLO printer.test');
    await c.cmd('MAIL FROM:<printer@example.com>');
    return (await c.cmd('RCPT TO:<user@example.com>')).text;
  } finally {
    await c.quit();
  }
}

/** One message from `from` to user@example.com: "code text" of its end of data (or of the first refusal). */
export async function sendDirect(port: number, from: string, subject: string): Promise<string> {
  const c = await SmtpTestClient.connect({ port });
  try {
    await c.cmd('EHLO printer.test');
    const r = await c.sendMail(from, ['user@example.com'], `From: <${from}>\r\nTo: <user@example.com>\r\nSubject: ${subject}\r\n\r\nscan\r\n`);
    return `${r.eod?.code ?? r.rcpts[0]?.code ?? r.mail.code} ${r.eod?.text ?? r.rcpts[0]?.text ?? r.mail.text}`;
  } finally {
    await c.quit();
  }
}
