/**
 * The answers made before any route runs, as RFC 9457 problems like every other error of the API (problem.ts).
 * Left alone, Node and fastify answer these themselves, in their own JSON shape or with no body at all:
 *   - Node's HTTP parser refuses the request: 431 when the request line and header fields exceed Node's
 *     maxHeaderSize (16 KiB), 408 when they are not complete in time (http.headersTimeoutS), 413 for chunk
 *     extensions over Node's limit, 400 for anything else it cannot parse. Written on the socket, then closed;
 *   - fastify's router refuses the path: 400 for a bad percent-encoding, 414 for a parameter over 100 characters;
 *   - a request arriving on a kept-alive connection while the server stops: 503 (fastify's return503OnClosing);
 *   - an Expect the server cannot meet: 417 (RFC 9110 §10.1.1; Node answers it with no body);
 *   - an HTTP/1.1 request without Host: 400 (RFC 9112 §3.2; Node answers it with no body).
 * Not here: unknown routes (404), bodies too large, malformed or of a type no route takes (413, 400, 415): those
 * reach server.ts's not-found and error handlers.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { PROBLEM_CONTENT_TYPE, problemBody, sendProblem } from './problem.js';

/** What Node's parser refused, by its error code (node lib/_http_server.js socketOnError); else 400. */
const PARSER_REFUSALS: Record<string, { status: number; detail: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, detail: `the request line and header fields exceed ${maxHeaderSize} bytes` },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, detail: 'the chunk extensions are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, detail: 'the request was not complete in time' },
};

/** A whole HTTP/1.1 response carrying a problem, for a socket no response object exists for. */
function rawProblemResponse(status: number, detail: string): string {
  const body = JSON.stringify(problemBody(status, detail));
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

type ClientError = Error & { code?: string };
type HttpSocket = Socket & { _httpMessage?: { headersSent?: boolean } };

function clientErrorHandler(log: Logger) {
  return (err: ClientError, socket: HttpSocket): void => {
    // A reset connection has nobody to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const refusal = PARSER_REFUSALS[err.code ?? ''] ?? { status: 400, detail: `the request is not valid HTTP (${err.message})` };
    log.debug({ code: err.code, status: refusal.status, peer: `${socket.remoteAddress}:${socket.remotePort}` }, 'http request refused by the parser');
    // As Node does: answer only if no response has started on this socket (its bytes would be corrupted).
    if (socket.writable && socket._httpMessage?.headersSent !== true) socket.write(rawProblemResponse(refusal.status, refusal.detail));
    socket.destroy(err);
  };
}

/** Fastify options that make its own and Node's early answers problems (pass them to fastify()). */
export function earlyProblemOptions(log: Logger): Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors' | 'return503OnClosing'> {
  return {
    clientErrorHandler: clientErrorHandler(log),
    frameworkErrors: (err: FastifyError, _request, reply) => void sendProblem(reply as FastifyReply, problemBody(err.statusCode ?? 400, err.message)),
    // answerEarlyProblems answers these instead.
    return503OnClosing: false,
  };
}

/** Node's server options for the same (the Host check moves to answerEarlyProblems). */
export const EARLY_PROBLEM_SERVER_OPTIONS = { requireHostHeader: false } as const;

/** Hooks of `app` answering the rest (call before adding other onRequest hooks: these answer first). */
export function answerEarlyProblems(app: FastifyInstance): void {
  let stopping = false;
  app.addHook('preClose', (done) => {
    stopping = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (stopping) return void sendProblem(reply.header('connection', 'close'), problemBody(503, 'the server is stopping'));
    const { httpVersionMajor, httpVersionMinor } = request.raw;
    // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message
    // that lacks a Host header field".
    if (httpVersionMajor === 1 && httpVersionMinor >= 1 && request.headers.host === undefined) {
      return void sendProblem(reply, problemBody(400, 'an HTTP/1.1 request must have a Host header field'));
    }
    done();
  });
  // RFC 9110 §10.1.1: a server that receives an Expect other than 100-continue MAY answer 417. Node emits this
  // only for expectations it does not meet itself (it handles 100-continue).
  app.server.on('checkExpectation', (request, response) => {
    const body = JSON.stringify(problemBody(417, `cannot meet the expectation "${String(request.headers.expect)}"`));
    response.writeHead(417, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' });
    response.end(body);
  });
}
