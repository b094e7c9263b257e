import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Ed25519KeyPair } from '@aim/sdk';
import { writeFileAtomic } from '@aim/sdk/node';
import { EXIT, fail, type Output } from './output.js';

/** `aim keygen`: an Ed25519 key pair as PEM, generated locally, for agents that bring their own key. */
export function registerKeygenCommand(program: Command, out: Output): void {
  program
    .command('keygen')
    .description('write an Ed25519 key pair as PEM: <name>_private_key.pem (PKCS#8, 0600) and <name>_public_key.pem (SPKI)')
    .option('--out <dir>', 'directory to write to', '.')
    .option('--name <name>', 'file name prefix', 'agent')
    .option('--force', 'overwrite existing files')
    .action(async (opts: { out: string; name: string; force?: boolean }) => {
      const privatePath = join(opts.out, `${opts.name}_private_key.pem`);
      const publicPath = join(opts.out, `${opts.name}_public_key.pem`);
      if (!opts.force) {
        for (const path of [privatePath, publicPath]) {
          const exists = await access(path).then(() => true, () => false);
          if (exists) fail(out, EXIT.failure, `${path} exists; pass --force to overwrite`, 'conflict');
        }
      }
      const keys = await Ed25519KeyPair.generate();
      await writeFileAtomic(privatePath, keys.privateKeyPem);
      await writeFile(publicPath, keys.publicKeyPem, { mode: 0o644 });
      out.result(
        { private_key_file: privatePath, public_key_file: publicPath, public_key: keys.publicKey },
        `wrote ${privatePath} (0600) and ${publicPath}\npublic key (raw, base64): ${keys.publicKey}`,
      );
    });
}
