/**
 * HTTP-01 (RFC 8555 8.3): the CA fetches http://<name>:80/.well-known/acme-challenge/<token> and
 * expects the key authorization. The listener (acme.host:acme.http_port, open only while a
 * challenge is: on-demand-listener.ts) answers those paths and a short plain page for anything
 * else, so a browser that wanders in learns what it reached.
 */
import http from 'node:http';
import type { ChallengeResponder, ChallengeTask } from './types.ts';
import { OnDemandListener } from './on-demand-listener.ts';

const PREFIX = '/.well-known/acme-challenge/';

function respond(response: http.ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(body);
}

export function httpChallengeResponder(options: { host: string; port: number }): ChallengeResponder {
  const listener = new OnDemandListener<string>(
    (lookup) =>
      http.createServer((request, response) => {
        const path = (request.url ?? '/').split('?')[0]!;
        if (request.method !== 'GET' && request.method !== 'HEAD') {
          respond(response, 405, 'Only GET is answered here.\n');
          return;
        }
        if (path.startsWith(PREFIX)) {
          const answer = lookup(path.slice(PREFIX.length));
          if (answer) respond(response, 200, answer);
          else respond(response, 404, 'No such ACME challenge.\n');
          return;
        }
        respond(
          response,
          404,
          'This is a mail server proving its name to a certificate authority (ACME HTTP-01).\n' +
            'Nothing else is served here.\n',
        );
      }),
    options.host,
    options.port,
    'HTTP-01',
  );
  return {
    acmeType: 'http-01',
    present: (task: ChallengeTask) => listener.add(task.token, task.keyAuthorization),
    cleanup: (task: ChallengeTask) => listener.remove(task.token),
    close: () => listener.close(),
  };
}
