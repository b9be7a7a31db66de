/**
 * rspamd over its HTTP API: /checkv2 on the scanning worker (the envelope goes in request header
 * fields, the message is the body), /learnspam and /learnham and /stat on the controller. Each
 * call has a deadline; a failure throws (the spam check then falls back to the own checks, the
 * learner logs it).
 */
import http from 'node:http';
import https from 'node:https';

/** What Mallard knows of a message's delivery, for rspamd's envelope headers. */
export interface RspamdEnvelope {
  clientIp: string;
  helo: string;
  /** The client's forward-confirmed reverse name ("" when none). */
  reverseName: string;
  mailFrom: string;
  rcpts: string[];
  queueId: string;
}

export interface RspamdScan {
  score: number;
  requiredScore: number;
  /** "no action", "greylist", "add header", "rewrite subject", "soft reject", "reject". */
  action: string;
  /** Symbols with a non-zero score, highest first. */
  symbols: string[];
}

interface Reply {
  status: number;
  body: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;

function post(
  url: URL,
  headers: Record<string, string | string[]>,
  body: Buffer | null,
  timeoutMs: number,
): Promise<Reply> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: body ? 'POST' : 'GET',
        headers: body ? { ...headers, 'Content-Length': String(body.length) } : headers,
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`rspamd did not answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body ?? undefined);
  });
}

interface CheckV2Symbol {
  name: string;
  score: number;
}

interface CheckV2 {
  is_skipped?: boolean;
  score: number;
  required_score: number;
  action: string;
  symbols?: Record<string, CheckV2Symbol>;
}

export class RspamdClient {
  constructor(
    /** The scanning worker (normal or proxy), e.g. http://127.0.0.1:11333; "" for none. */
    private readonly scanUrl: string,
    /** The controller, e.g. http://127.0.0.1:11334; "" when learning is off. */
    private readonly controllerUrl: string,
    private readonly password = '',
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  get scans(): boolean {
    return this.scanUrl !== '';
  }

  get learns(): boolean {
    return this.controllerUrl !== '';
  }

  async scan(message: Buffer, envelope: RspamdEnvelope): Promise<RspamdScan> {
    const headers: Record<string, string | string[]> = {
      IP: envelope.clientIp,
      From: envelope.mailFrom,
      'Queue-Id': envelope.queueId,
    };
    if (envelope.helo) headers.Helo = envelope.helo;
    if (envelope.reverseName) headers.Hostname = envelope.reverseName;
    // One Rcpt field per recipient (rspamd reads them repeated; one joined by commas is one address).
    if (envelope.rcpts.length > 0) headers.Rcpt = envelope.rcpts;
    // A single recipient names the user, for rspamd's per-user statistics where they are enabled.
    if (envelope.rcpts.length === 1) headers['Deliver-To'] = envelope.rcpts[0]!;
    const reply = await post(new URL('/checkv2', this.scanUrl), headers, message, this.timeoutMs);
    if (reply.status !== 200)
      throw new Error(`rspamd /checkv2 answered ${reply.status}: ${reply.body.slice(0, 200)}`);
    const parsed = JSON.parse(reply.body) as CheckV2;
    const all = Object.values(parsed.symbols ?? {}).sort((a, b) => b.score - a.score);
    const scoring = all.filter((symbol) => symbol.score !== 0);
    // A pre-result (GTUBE, a settings rule) skips scoring: its symbol has no score but is the reason.
    const symbols = (parsed.is_skipped && scoring.length === 0 ? all : scoring).map((symbol) => symbol.name);
    return { score: parsed.score, requiredScore: parsed.required_score, action: parsed.action, symbols };
  }

  /**
   * Teaches rspamd's Bayes classifier that `message` is spam or ham (for `user` where rspamd keeps
   * statistics per user). A message learned already the same way counts as done.
   */
  async learn(kind: 'spam' | 'ham', message: Buffer, user = ''): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.password) headers.Password = this.password;
    if (user) headers['Deliver-To'] = user;
    const reply = await post(new URL(`/learn${kind}`, this.controllerUrl), headers, message, this.timeoutMs);
    // 208: learned before; 204/200: done. Anything else (a message too short to learn) is an error.
    if (reply.status !== 200 && reply.status !== 204 && reply.status !== 208) {
      throw new Error(`rspamd /learn${kind} answered ${reply.status}: ${reply.body.slice(0, 200)}`);
    }
  }

  /** The controller's counters: how many messages were scanned and learned. */
  async stat(): Promise<{ scanned: number; learned: number }> {
    const headers: Record<string, string> = this.password ? { Password: this.password } : {};
    const reply = await post(new URL('/stat', this.controllerUrl), headers, null, this.timeoutMs);
    if (reply.status !== 200) throw new Error(`rspamd /stat answered ${reply.status}`);
    const parsed = JSON.parse(reply.body) as { scanned: number; learned: number };
    return { scanned: parsed.scanned, learned: parsed.learned };
  }
}
