#!/usr/bin/env node
import { ConfigError, loadConfig } from './config/index.js';
import { startServer } from './main.js';

/** `npm start`: read the environment, start, and shut down gracefully on SIGTERM/SIGINT. */
async function run(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`aim: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const server = await startServer(config);
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
}

run().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`aim: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`aim: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
