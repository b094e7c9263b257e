import { ConfigError, loadConfig } from './config/index.js';
import { startServer } from './main.js';

/**
 * Runs the server for `npm start` and `aim start`: read the environment, listen, and shut down gracefully on
 * SIGTERM/SIGINT (stop accepting, finish in-flight requests, flush, close pools). Exit codes: 2 for bad
 * configuration, 1 for any other start-up failure.
 */
export async function serve(env: Record<string, string | undefined> = process.env): Promise<void> {
  try {
    const server = await startServer(loadConfig(env));
    const address = server.app.server.address();
    const where = typeof address === 'object' && address ? `http://${address.address}:${address.port}` : String(address);
    server.logger.info({ address: where, store: server.database.dialect }, 'AIM is listening');
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.logger.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          server.logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`aim: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`aim: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
