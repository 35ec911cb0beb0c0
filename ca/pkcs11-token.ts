/**
 * The worker's one connection to a PKCS#11 token holding CA keys: a small pool of logged-in sessions shared by
 * every CA key on the token.
 *
 * pkcs11js calls are synchronous on the JavaScript thread, except C_SignAsync / C_GenerateKeyPairAsync, which
 * run on libuv's thread pool. A PKCS#11 session runs one operation at a time, so each operation borrows a session
 * for its duration; with several sessions, signs of different activities run in parallel in the module (loaded
 * with CKF_OS_LOCKING_OK). Login state is per application and token: the first session logs in (a wrong PIN
 * fails `open`), the others share it. A session the token has dropped is discarded and a fresh one opened.
 */
import type { Signer } from './signer.js';
import {
  generateKeyPairInSession,
  openPkcs11Session,
  pkcs11Code,
  rawSigner,
  readKeyProtection,
  readPublicKey,
  selfTest,
  type Pkcs11KeyAlgorithm,
  type Pkcs11KeyProtection,
  type Pkcs11Session,
  type Pkcs11TokenOptions,
} from './pkcs11-signer.js';

export const DEFAULT_PKCS11_SESSIONS = 4;

export interface Pkcs11TokenKey extends Signer {
  readonly keyLabel: string;
  readonly keyProtection: Pkcs11KeyProtection;
}

export class Pkcs11Token {
  private readonly idle: Pkcs11Session[] = [];
  private readonly waiting: Array<(session: Pkcs11Session | Error) => void> = [];
  private openCount = 0;
  private closed = false;
  private creations: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: Pkcs11TokenOptions,
    private readonly maxSessions: number,
    first: Pkcs11Session,
  ) {
    this.idle.push(first);
    this.openCount = 1;
  }

  /** Opens the first session and logs in, so a wrong module, token or PIN stops the caller at start-up. */
  static async open(options: Pkcs11TokenOptions, maxSessions = DEFAULT_PKCS11_SESSIONS): Promise<Pkcs11Token> {
    if (!Number.isInteger(maxSessions) || maxSessions < 1) throw new Error(`PKCS#11: the session pool needs at least one session (got ${maxSessions})`);
    return new Pkcs11Token(options, maxSessions, await openPkcs11Session(options));
  }

  /** Human description for logs (never the PIN). */
  describe(): string {
    const where = this.options.tokenLabel !== undefined ? `token "${this.options.tokenLabel}"` : `slot ${this.options.slot}`;
    return `${where} of ${this.options.modulePath}`;
  }

  /** Runs `operation` on a session of its own; waits for one when all are busy. */
  async withSession<T>(operation: (session: Pkcs11Session) => T | Promise<T>): Promise<T> {
    const session = await this.acquire();
    let healthy = true;
    try {
      return await operation(session);
    } catch (error) {
      healthy = !isSessionLost(session, error);
      throw error;
    } finally {
      this.release(session, healthy);
    }
  }

  /**
   * Generates a CA key pair inside the token (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE; see
   * generatePkcs11KeyPair) and opens it. When a key with this label already exists (a retry after a crash between
   * generation and storing the issuer row) that key is opened instead — with the same protection checks.
   */
  async createKey(keyLabel: string, keyAlgorithm: Pkcs11KeyAlgorithm): Promise<Pkcs11TokenKey> {
    // One creation at a time in this process, so two retries of one creation cannot both generate under one label.
    const created = this.creations.then(() =>
      this.withSession(async (session) => {
        if (session.findObjects(session.pkcs11.CKO_PRIVATE_KEY, keyLabel).length > 0) return;
        await generateKeyPairInSession(session, { keyLabel, keyAlgorithm });
      }),
    );
    this.creations = created.catch(() => undefined);
    await created;
    const key = await this.openKey(keyLabel);
    if (key.keyAlgorithm !== keyAlgorithm) throw new Error(`PKCS#11: the key labelled "${keyLabel}" is ${key.keyAlgorithm}, want ${keyAlgorithm}`);
    return key;
  }

  /**
   * The key labelled `keyLabel` behind the Signer interface; every sign borrows a session of the pool. Refuses a
   * private key that is extractable or not sensitive, and a public key object that does not match the private key.
   */
  async openKey(keyLabel: string): Promise<Pkcs11TokenKey> {
    const found = await this.withSession((session) => {
      const { pkcs11 } = session;
      const privateKey = session.findObject(pkcs11.CKO_PRIVATE_KEY, keyLabel);
      const publicKey = session.findObject(pkcs11.CKO_PUBLIC_KEY, keyLabel);
      return { privateKey, ...readPublicKey(session, publicKey), keyProtection: readKeyProtection(session, privateKey), pkcs11, lib: session.lib };
    });
    const { keyAlgorithm, publicKeySpki, keyProtection } = found;
    if (keyProtection.extractable || !keyProtection.sensitive) {
      throw new Error(`PKCS#11: private key "${keyLabel}" is ${keyProtection.extractable ? 'extractable' : 'not sensitive'}; a CA key must have CKA_EXTRACTABLE=false and CKA_SENSITIVE=true`);
    }
    // Object handles of token objects are valid in every session of this application.
    const signRaw = rawSigner(found.pkcs11, found.lib, found.privateKey, keyAlgorithm, publicKeySpki);
    const key: Pkcs11TokenKey = {
      keyLabel,
      keyAlgorithm,
      publicKeySpki,
      keyProtection,
      sign: (data) => this.withSession((session) => signRaw(session.session, data)),
    };
    await selfTest(key, keyLabel);
    return key;
  }

  /** Closes every session (waiting operations fail) and finalizes the module when this was its last user. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.waiting.splice(0)) wake(new Error('PKCS#11: the token connection was closed'));
    for (const session of this.idle.splice(0)) session.close();
  }

  private async acquire(): Promise<Pkcs11Session> {
    if (this.closed) throw new Error('PKCS#11: the token connection is closed');
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.openCount < this.maxSessions) {
      this.openCount++;
      try {
        return await openPkcs11Session(this.options);
      } catch (error) {
        this.openCount--;
        throw error;
      }
    }
    const session = await new Promise<Pkcs11Session | Error>((resolve) => this.waiting.push(resolve));
    if (session instanceof Error) throw session;
    return session;
  }

  private release(session: Pkcs11Session, healthy: boolean): void {
    if (!healthy || this.closed) {
      this.openCount--;
      try {
        session.close();
      } catch {
        // The token already forgot it.
      }
      // A waiter gets a fresh session instead of the broken one.
      const wake = this.waiting.shift();
      if (wake) this.acquire().then(wake, (error: unknown) => wake(error instanceof Error ? error : new Error(String(error))));
      return;
    }
    const wake = this.waiting.shift();
    if (wake) wake(session);
    else this.idle.push(session);
  }
}

/** Errors after which the session is of no further use (the token was reset, removed, or logged out). */
function isSessionLost(session: Pkcs11Session, error: unknown): boolean {
  const { pkcs11 } = session;
  const code = pkcs11Code(error);
  return (
    code === pkcs11.CKR_SESSION_HANDLE_INVALID ||
    code === pkcs11.CKR_SESSION_CLOSED ||
    code === pkcs11.CKR_DEVICE_REMOVED ||
    code === pkcs11.CKR_TOKEN_NOT_PRESENT ||
    code === pkcs11.CKR_USER_NOT_LOGGED_IN ||
    code === pkcs11.CKR_DEVICE_ERROR
  );
}
