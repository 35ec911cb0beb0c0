/**
 * Where `certflow login` keeps the API URL and token: `$XDG_CONFIG_HOME/certflow/config.json`
 * (else `~/.config/certflow/config.json`), the directory 0700 and the file 0600, since the token is
 * a secret. Flags and CERTFLOW_API_URL / CERTFLOW_TOKEN override what is stored.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/** An OIDC login (`certflow login --oidc`): what refreshing the access token (`token`) needs. */
const storedOidcSchema = z.object({
  issuer: z.string().min(1),
  clientId: z.string().min(1),
  tokenEndpoint: z.string().min(1),
  refreshToken: z.string().min(1).nullable(),
  /** When `token` expires (ISO), or null when the IdP did not say. */
  expiresAt: z.string().nullable(),
});
const storedSchema = z.object({ apiUrl: z.string().min(1), token: z.string().min(1), oidc: storedOidcSchema.optional() });
export type StoredLogin = z.infer<typeof storedSchema>;

export function configPath(env: Record<string, string | undefined>): string {
  const base = env['XDG_CONFIG_HOME'] && env['XDG_CONFIG_HOME'].startsWith('/') ? env['XDG_CONFIG_HOME'] : join(env['HOME'] ?? homedir(), '.config');
  return join(base, 'certflow', 'config.json');
}

/** The stored login, or null when there is none; a file that is not one is an error naming the file. */
export async function readStoredLogin(path: string): Promise<StoredLogin | null> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON; run "certflow login" again`);
  }
  const parsed = storedSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${path} does not hold a login (apiUrl, token); run "certflow login" again`);
  return parsed.data;
}

/** Writes the login atomically (a 0600 temporary file renamed over the old one). */
export async function writeStoredLogin(path: string, login: StoredLogin): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  // The mode of writeFile is masked by the umask and ignored for an existing file: set it explicitly.
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
