import { Type } from 'typebox';
import { open } from '../http/handler.js';

/** One dependency the node needs to serve traffic. `degraded` works but with less than promised (e.g. per-node limits). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<{ status: 'up' | 'degraded' | 'down'; detail?: string }>;
}

const CHECK_TIMEOUT_MS = 2000;

export function healthHandlers(checks: ReadinessCheck[], isShuttingDown: () => boolean) {
  return {
    live: open(
      { summary: 'Liveness: the process answers', tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
      async () => ({ status: 'ok' as const }),
    ),

    ready: open(
      {
        summary: 'Readiness: every dependency answers',
        tags: ['operations'],
        response: {
          200: ReadyBody(),
          503: ReadyBody(),
        },
      },
      async ({ reply }) => {
        const results = await Promise.all(checks.map(async (c) => [c.name, await timed(c)] as const));
        const dependencies = Object.fromEntries(results);
        const down = isShuttingDown() || results.some(([, r]) => r.status === 'down');
        const degraded = results.some(([, r]) => r.status === 'degraded');
        reply.code(down ? 503 : 200);
        return { status: isShuttingDown() ? 'shutting_down' : down ? 'down' : degraded ? 'degraded' : 'ready', dependencies };
      },
    ),
  };
}

function ReadyBody() {
  return Type.Object({
    status: Type.String(),
    dependencies: Type.Record(Type.String(), Type.Object({ status: Type.String(), detail: Type.Optional(Type.String()) })),
  });
}

async function timed(check: ReadinessCheck): Promise<{ status: 'up' | 'degraded' | 'down'; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ status: 'down'; detail: string }>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'down', detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      check.check().catch((error: unknown) => ({ status: 'down' as const, detail: error instanceof Error ? error.message.slice(0, 200) : 'failed' })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
