import type { Command } from 'commander';
import type { SessionView } from '@aim/sdk';
import { table, when, type Output } from './output.js';
import { personClient } from './session.js';

const row = (s: SessionView) => [s.id, s.current ? 'this one' : '', s.user_agent ?? '-', s.last_ip ?? '-', when(s.created_at), when(s.last_used_at), when(s.expires_at)];

/** `aim sessions …`: where the signed-in person is signed in (web UI, CLI, password logins), and signing out there. */
export function registerSessionCommands(program: Command, out: Output): void {
  const sessions = program.command('sessions').description('where you are signed in: list, sign out one or all others');
  sessions
    .command('list')
    .description("your signed-in sessions, newest first; 'this one' is the CLI's own")
    .action(async () => {
      const { sessions: listed } = await (await personClient(out)).sessions.list();
      out.result({ sessions: listed }, table(listed.map(row), ['ID', 'CURRENT', 'CLIENT', 'FROM', 'SIGNED IN', 'LAST USED', 'ENDS']));
    });

  sessions
    .command('revoke <id>')
    .description('sign out one session: its refresh token stops now, its access tokens on their next request')
    .action(async (id: string) => {
      const view = await (await personClient(out)).sessions.revoke(id);
      out.result(view, `signed out session ${view.id}${view.current ? ' (this one: sign in again with aim login)' : ''}`);
    });

  sessions
    .command('revoke-others')
    .description('sign out every other session of yours; this one stays')
    .action(async () => {
      const { revoked } = await (await personClient(out)).sessions.revokeOthers();
      out.result({ revoked }, `signed out ${revoked} other session(s)`);
    });
}
