/**
 * `vmpilot http token NAME`: a new admin API token. Prints the token (shown this once: vmpilot keeps only its
 * hash) and the http.tokens entry to paste into the config; the server takes it at its next start.
 */
import type { Command } from 'commander';
import { HTTP_TOKEN_NAME } from '../config/fields.js';
import { hashToken, newToken } from '../http/tokens.js';

export function registerHttpCommands(program: Command): void {
  const http = program.command('http').description('the admin HTTP API');
  http
    .command('token')
    .argument('<name>', 'who uses the token (written in the log of each request made with it)')
    .description('print a new API token and the http.tokens entry to paste into the config')
    .action((name: string) => {
      if (!HTTP_TOKEN_NAME.test(name)) {
        process.stderr.write(`vmpilot: http token: the name must be 1 to 64 letters, digits or _ . @ -, got "${name}"\n`);
        process.exitCode = 2;
        return;
      }
      const token = newToken();
      process.stdout.write(
        [
          `token: ${token}`,
          '# Keep the token secret: it is shown this once and vmpilot stores only its hash. Add to the config:',
          'http:',
          '  tokens:',
          `    - { name: ${JSON.stringify(name)}, hash: "${hashToken(token)}" }`,
          '# then call the API with: curl -H "Authorization: Bearer <token>" http://127.0.0.1:8080/api/mailboxes',
          '',
        ].join('\n'),
      );
    });
}
