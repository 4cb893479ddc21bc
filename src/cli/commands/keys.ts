import { randomBytes } from 'node:crypto';
import { parseApiKeyFile } from '../../auth/api-key-file';
import { sha256Hex } from '../../auth/api-key-ring';
import { UsageError } from '../args';
import type { CommandGroup } from '../command';
import { printJson } from '../output';

/**
 * `keys new`: a random key, and the `API_KEYS_FILE` entry that admits it. The service keeps only the hex SHA-256 of
 * a key (src/auth), so the plaintext is shown here once and nowhere else.
 */
export const keys: CommandGroup = {
  async new({ flags, out }) {
    const name = flags.required('name');
    const tenant = flags.required('tenant');
    const role = flags.optional('role') ?? 'service';
    flags.done(2);
    const key = `bk_${randomBytes(24).toString('base64url')}`;
    const entry = { name, tenant, role, key_sha256: sha256Hex(key) };
    // The service's own parser checks the entry, so a name or tenant it would refuse at start is refused here.
    try {
      parseApiKeyFile(JSON.stringify([entry]));
    } catch (error) {
      throw new UsageError((error as Error).message.replace(/^entry 0( \([^)]*\))?: /, '--'));
    }
    if (out.json) return printJson(out, { key, entry });
    out.line(`key: ${key}`);
    out.line(`API_KEYS_FILE entry (add it to the file's JSON array): ${JSON.stringify(entry)}`);
  },
};
