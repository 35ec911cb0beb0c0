/**
 * The API holds no KEK, and the KEK can be rotated while the platform runs.
 *
 * (a) The API started by its real start-up path (cmd/start-api.ts) with CERTFLOW_KEK unset, in
 *     production mode, seals a webhook secret to the worker's public key; the worker opens it and
 *     delivers a signature the receiver verifies. Nothing in the API's dependencies is a KEK, a key
 *     derived from one, or any private or secret key.
 * (b) `certflow kek rotate` in a database of its own (it re-seals every row it finds): stopped
 *     halfway by --limit, the mix works with both KEKs; finished, then run again (nothing to do);
 *     then a worker holding only the new KEK opens every issuer key, leaf key and webhook secret,
 *     renews and delivers.
 */
import { createCipheriv, KeyObject, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureCaHierarchy } from '../../activities/ca-bootstrap.js';
import type { ActivityDeps } from '../../activities/deps.js';
import { IssuerStore } from '../../activities/issuer-store.js';
import { verifyWebhookSignature } from '../../activities/webhook-signature.js';
import { createApp } from '../../api/app.js';
import { openDestinationSecret, workerSealingKey } from '../../ca/destination-secrets.js';
import { deriveSecretsKey, destinationSecretId, kekId, kekRing, openPrivateKey, type KeyEncryptionKeys } from '../../ca/key-encryption.js';
import { encodeSealingPublicKey } from '../../ca/sealed-box.js';
import { loadConfig } from '../../cmd/config.js';
import { runKekCommand } from '../../cmd/kek-cli.js';
import { startApi, type RunningApi } from '../../cmd/start-api.js';
import { AuditKey } from '../../db/audit-chain.js';
import { createDatabase, type Database } from '../../db/database.js';
import { applyMigrations } from '../../db/migrate.js';
import { createPool } from '../../db/postgres-pool.js';
import { auditEvents, certificateKeys, certificates, issuers } from '../../db/schema.js';
import { ensureBootstrapToken } from '../../db/tokens.js';
import type { Destination } from '../../core/types.js';
import { newId } from '../../db/ids.js';
import { createTeamWithTokens, startInProcessWorker, TEST_AUDIT_KEY_HEX, TEST_BOOTSTRAP_TOKEN, TEST_KEK_HEX, TEST_PUBLIC_URL, type Harness, type InProcessWorker } from '../support/harness.js';
import { certificatesAs, useIntegrationSuite, type CertificateClient } from '../support/integration-suite.js';
import { readBody } from '../support/read-body.js';

const TEST_KEK = Buffer.from(TEST_KEK_HEX, 'hex');

/** A webhook receiver that verifies each delivery's signature with the secret of its path. */
class Receiver {
  readonly received: { path: string; certificateId: string; generation: number; signatureValid: boolean }[] = [];
  private server: Server | null = null;
  private readonly secrets = new Map<string, string>();
  private readonly deliveryIds = new Set<string>();

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      void readBody(request).then((body) => {
        const path = request.url ?? '';
        const secret = this.secrets.get(path) ?? 'unknown';
        const signatureValid = verifyWebhookSignature(secret, String(request.headers['certflow-signature']), body, Math.floor(Date.now() / 1000));
        const payload = JSON.parse(body) as { certificateId: string; generation: number };
        // A retried request (same delivery id) is one delivery.
        const deliveryId = String(request.headers['certflow-delivery-id']);
        if (this.deliveryIds.has(deliveryId)) return void response.writeHead(signatureValid ? 204 : 401).end();
        this.deliveryIds.add(deliveryId);
        this.received.push({ path, certificateId: payload.certificateId, generation: payload.generation, signatureValid });
        response.writeHead(signatureValid ? 204 : 401).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  /** A URL of its own for a secret. */
  hook(secret: string): string {
    const path = `/hook/${this.secrets.size}`;
    this.secrets.set(path, secret);
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}${path}`;
  }

  deliveries(certificateId: string): { generation: number; signatureValid: boolean }[] {
    return this.received.filter((entry) => entry.certificateId === certificateId).map(({ generation, signatureValid }) => ({ generation, signatureValid }));
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}


/** Every Buffer, typed array and KeyObject reachable from `root` (own properties, cycles skipped). */
function reachableKeyMaterial(root: unknown): { path: string; value: Buffer | KeyObject }[] {
  const found: { path: string; value: Buffer | KeyObject }[] = [];
  const seen = new Set<unknown>();
  const queue: { path: string; value: unknown }[] = [{ path: 'deps', value: root }];
  while (queue.length > 0 && seen.size < 500_000) {
    const { path, value } = queue.shift()!;
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) continue;
    seen.add(value);
    if (value instanceof KeyObject) {
      found.push({ path, value });
      continue;
    }
    if (ArrayBuffer.isView(value)) {
      found.push({ path, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength) });
      continue;
    }
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(value, key);
      if (descriptor && 'value' in descriptor) queue.push({ path: `${path}.${String(key)}`, value: descriptor.value });
    }
    if (value instanceof Map) for (const [key, entry] of value) queue.push({ path: `${path}[${String(key)}]`, value: entry });
  }
  // A scan that stopped early would pass on what it never looked at.
  if (queue.length > 0) throw new Error(`the key-material scan stopped after ${seen.size} objects with ${queue.length} still to visit`);
  return found;
}

const suite = useIntegrationSuite('kek', { worker: true, team: true });
const receiver = new Receiver();
const stops: Array<() => Promise<unknown>> = [];
beforeAll(() => receiver.start());
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch((error: unknown) => console.error(error));
  await receiver.stop();
});

describe('the API holds no KEK', () => {
  it('starts without CERTFLOW_KEK, seals a webhook secret the worker opens, and carries no key', { timeout: 120_000 }, async () => {
    const { harness } = suite;
    const dataDir = await mkdtemp(join(inject('tempDir'), 'kek-api-'));
    const sealingPublicKey = encodeSealingPublicKey(workerSealingKey(TEST_KEK).publicKey);
    // Production mode: on the base commit the API refuses to start without CERTFLOW_KEK.
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: '0',
      CERTFLOW_ACME_PORT: '0',
      DATABASE_URL: harness.databaseUrl,
      TEMPORAL_ADDRESS: harness.temporalAddress,
      TEMPORAL_NAMESPACE: harness.namespace,
      CERTFLOW_TASK_QUEUE: harness.taskQueue,
      CERTFLOW_BOOTSTRAP_TOKEN: TEST_BOOTSTRAP_TOKEN,
      CERTFLOW_DATA_DIR: dataDir,
      CERTFLOW_SEALING_PUBLIC_KEY: sealingPublicKey,
      CERTFLOW_AUDIT_KEY: TEST_AUDIT_KEY_HEX,
      // The test's webhook receiver listens on loopback (the platform's own ports stay denied).
      CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: 'loopback',
    });
    expect(config.kek).toBeUndefined();
    const api: RunningApi = await startApi({ ...config, databaseUrl: config.databaseUrl!, temporalAddress: config.temporalAddress! }, () => undefined);
    stops.push(() => api.stop());

    // Structurally: no KEK field, and nothing key-like but the sealing public key anywhere in the deps.
    expect(Object.keys(api.deps).filter((key) => /kek|secret/i.test(key))).toEqual([]);
    const material = reachableKeyMaterial(api.deps);
    const forbidden = [TEST_KEK, deriveSecretsKey(TEST_KEK), Buffer.from(workerSealingKey(TEST_KEK).privateKey.export({ format: 'jwk' }).d!, 'base64url')];
    for (const { path, value } of material) {
      if (value instanceof KeyObject) expect(`${path}: ${value.type}`).toBe(`${path}: public`);
      else for (const key of forbidden) expect(value.includes(key), `${path} holds key material`).toBe(false);
    }
    expect(material.some(({ path }) => path.startsWith('deps.sealingPublicKey'))).toBe(true);
    expect(existsSync(join(dataDir, 'kek'))).toBe(false);

    const secret = `api-has-no-kek-${randomBytes(12).toString('hex')}`;
    const client = certificatesAs({ request: (path, init) => fetch(`${api.url}${path}`, init) }, suite.team.requester);
    const { id } = await client.create({ team: suite.team.teamName, dnsNames: ['hook.example.test'], validity: 'P1D', destinations: [{ type: 'webhook', url: receiver.hook(secret), secret }] });
    await client.waitFor<{ state: string }>(id, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'the webhook delivery' });
    expect(receiver.deliveries(id)).toEqual([{ generation: 1, signatureValid: true }]);

    const [row] = await harness.db.select({ destinations: certificates.destinations }).from(certificates).where(eq(certificates.id, id));
    const stored = row!.destinations[0] as Extract<Destination, { type: 'webhook' }>;
    expect(stored.sealedSecret.startsWith(`sb1.${workerSealingKey(TEST_KEK).publicKey.id}.`)).toBe(true);
    expect(JSON.stringify(row)).not.toContain(secret);
  });
});

describe('an API without a sealing public key', () => {
  it('refuses webhook destinations with 503 and stores nothing', async () => {
    const { harness } = suite;
    const app = createApp(
      { ...harness.apiDeps, sealingPublicKey: null },
      (message, error) => console.error(message, error),
    );
    const before = await harness.db.select({ id: certificates.id }).from(certificates);
    const secret = 'no-sealing-key-0123456789abcdef0123';
    const response = await app.request('/v1/certificates', {
      method: 'POST',
      headers: { Authorization: `Bearer ${suite.team.requester}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ team: suite.team.teamName, dnsNames: ['nokey.example.test'], validity: 'P1D', destinations: [{ type: 'webhook', url: receiver.hook(secret), secret }] }),
    });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/CERTFLOW_SEALING_PUBLIC_KEY/);
    expect(await harness.db.select({ id: certificates.id }).from(certificates)).toHaveLength(before.length);
  });
});

/** The format written before KEK ids and sealed boxes: `v1.<iv>.<ciphertext>.<tag>`. */
function sealLegacyV1(key: Buffer, plaintext: Buffer, recordId: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(recordId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return ['v1', iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

interface RotationWorld {
  db: Database;
  databaseUrl: string;
  harness: Harness;
  deliveryRoot: string;
}

/** A database of this test's own (the rotation re-seals every row of the database it is given). */
async function rotationWorld(): Promise<RotationWorld> {
  const name = `kek_rotation_${randomBytes(4).toString('hex')}`;
  await suite.harness.pool.query(`create database ${name}`);
  const url = new URL(suite.harness.databaseUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), () => undefined);
  stops.push(() => pool.end());
  await applyMigrations(pool);
  const db = createDatabase(pool, { auditKey: AuditKey.fromSecret(Buffer.from(TEST_AUDIT_KEY_HEX, 'hex')) });
  await ensureBootstrapToken(db, TEST_BOOTSTRAP_TOKEN);
  const deliveryRoot = await mkdtemp(join(inject('tempDir'), 'kek-rotation-'));
  return { db, databaseUrl: url.toString(), deliveryRoot, harness: { ...suite.harness, db, taskQueue: `it-kek-rotation-${newId('crt').slice(4, 12)}`, deliveryRoot } };
}

function appSealingTo(world: RotationWorld, kek: Buffer): Harness['app'] {
  return createApp(
    { ...world.harness.apiDeps, db: world.db, taskQueue: world.harness.taskQueue, fileDestinationRoot: world.deliveryRoot, sealingPublicKey: workerSealingKey(kek).publicKey },
    (message, error) => console.error(message, error),
  );
}

async function workerWith(world: RotationWorld, keys: KeyEncryptionKeys): Promise<InProcessWorker> {
  const deps: Partial<ActivityDeps> = {
    db: world.db,
    kek: keys,
    issuers: new IssuerStore(world.db, keys, TEST_PUBLIC_URL),
    now: () => new Date(),
    fileDestinationRoot: world.deliveryRoot,
    temporal: world.harness.client,
  };
  return startInProcessWorker(world.harness, world.harness.temporalAddress, deps);
}

async function rotate(world: RotationWorld, env: Record<string, string>, args: string[] = []): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runKekCommand(['rotate', ...args], { out: (line) => lines.push(line), err: (line) => lines.push(line), env: { DATABASE_URL: world.databaseUrl, CERTFLOW_AUDIT_KEY: TEST_AUDIT_KEY_HEX, ...env } });
  return { code, out: lines.join('\n') };
}

/** Every sealed blob of the database, as [what, id, blob]. */
async function sealedBlobs(db: Database): Promise<{ what: string; id: string; index?: number; sealed: string }[]> {
  const issuerRows = await db.select({ id: issuers.id, sealed: issuers.sealedPrivateKey }).from(issuers);
  const keyRows = await db.select({ id: certificateKeys.id, sealed: certificateKeys.sealedPrivateKey }).from(certificateKeys);
  const certificateRows = await db.select({ id: certificates.id, destinations: certificates.destinations }).from(certificates);
  return [
    // PKCS#11 issuers hold no sealed key.
    ...issuerRows.flatMap((row) => (row.sealed === null ? [] : [{ what: 'issuer', id: row.id, sealed: row.sealed }])),
    ...keyRows.map((row) => ({ what: 'key', ...row })),
    ...certificateRows.flatMap((row) =>
      row.destinations.flatMap((destination, index) => (destination.type === 'webhook' ? [{ what: 'secret', id: row.id, index, sealed: destination.sealedSecret }] : [])),
    ),
  ];
}

function openBlob(keys: KeyEncryptionKeys, blob: { what: string; id: string; index?: number; sealed: string }): Buffer {
  return blob.what === 'secret' ? openDestinationSecret(keys, blob.sealed, blob.id, blob.index!) : openPrivateKey(keys, blob.sealed, blob.id);
}

type View = { state: string; currentVersion: { generation: number } | null };
const activeAt = (generation: number) => (view: View) => view.state === 'active' && view.currentVersion?.generation === generation;

describe('KEK rotation', () => {
  it('re-seals every key and secret without downtime; afterwards the new KEK alone runs the platform', { timeout: 300_000 }, async () => {
    const oldKek = randomBytes(32);
    const newKek = randomBytes(32);
    const world = await rotationWorld();
    await ensureCaHierarchy(world.db, oldKek, { organization: 'Certflow KEK Rotation', publicUrl: TEST_PUBLIC_URL, now: new Date(), log: () => undefined });

    // Before: the old KEK, the API sealing to its key.
    let worker = await workerWith(world, oldKek);
    world.harness.app = appSealingTo(world, oldKek);
    const team = await createTeamWithTokens(world.harness);
    let certs: CertificateClient = certificatesAs(world.harness.app, team.requester);
    const hookSecret = `rotation-hook-${randomBytes(12).toString('hex')}`;
    const legacySecret = `rotation-legacy-${randomBytes(12).toString('hex')}`;
    const hooked = await certs.create({ team: team.teamName, dnsNames: ['hooked.example.test'], validity: 'P1D', destinations: [{ type: 'webhook', url: receiver.hook(hookSecret), secret: hookSecret }] });
    const legacy = await certs.create({ team: team.teamName, dnsNames: ['legacy.example.test'], validity: 'P1D', destinations: [{ type: 'webhook', url: receiver.hook(legacySecret), secret: legacySecret }] });
    const filed = await certs.create({ team: team.teamName, dnsNames: ['filed.example.test'], validity: 'P1D', destinations: [{ type: 'file', directory: 'filed' }] });
    for (const { id } of [hooked, legacy, filed]) await certs.waitFor<View>(id, activeAt(1), { timeoutMs: 30_000, what: `${id} issued` });

    // Blobs in the formats written before this change: the root's key and one webhook secret.
    const [root] = await world.db.select().from(issuers).where(eq(issuers.kind, 'root'));
    await world.db.update(issuers).set({ sealedPrivateKey: sealLegacyV1(oldKek, openPrivateKey(oldKek, root!.sealedPrivateKey!, root!.id), root!.id) }).where(eq(issuers.id, root!.id));
    const [legacyRow] = await world.db.select().from(certificates).where(eq(certificates.id, legacy.id));
    const legacyDestination = { ...(legacyRow!.destinations[0] as Extract<Destination, { type: 'webhook' }>) };
    legacyDestination.sealedSecret = sealLegacyV1(deriveSecretsKey(oldKek), Buffer.from(legacySecret, 'utf8'), destinationSecretId(legacy.id, 0));
    await world.db.update(certificates).set({ destinations: [legacyDestination] }).where(eq(certificates.id, legacy.id));
    await certs.renew(legacy.id, 'old formats still open');
    await certs.waitFor<View>(legacy.id, activeAt(2), { timeoutMs: 30_000, what: 'a delivery with the legacy secret' });

    // Rotation begins: the worker holds both KEKs, the API seals to the new KEK's key.
    await worker.stop();
    worker = await workerWith(world, kekRing(newKek, [oldKek]));
    world.harness.app = appSealingTo(world, newKek);
    certs = certificatesAs(world.harness.app, team.requester);
    const env = { CERTFLOW_KEK: newKek.toString('hex'), CERTFLOW_KEK_PREVIOUS: oldKek.toString('hex') };
    const total = (await sealedBlobs(world.db)).length;

    // Interrupted halfway (as by a crash): a mix that both KEKs together open, and the platform works on it.
    const partial = await rotate(world, env, ['--limit', '3', '--batch-size', '2']);
    expect(partial.code, partial.out).toBe(3);
    const mixed = await sealedBlobs(world.db);
    const underNew = (blob: { sealed: string }) => blob.sealed.startsWith(`v2.${kekId(newKek)}.`) || blob.sealed.startsWith(`sb1.${workerSealingKey(newKek).publicKey.id}.`);
    expect(mixed.filter(underNew)).toHaveLength(3);
    for (const blob of mixed) expect(() => openBlob(kekRing(newKek, [oldKek]), blob)).not.toThrow();
    await certs.renew(hooked.id, 'during the rotation');
    await certs.waitFor<View>(hooked.id, activeAt(2), { timeoutMs: 30_000, what: 'a renewal during the rotation' });

    const finished = await rotate(world, env);
    expect(finished.code, finished.out).toBe(0);
    expect(finished.out).toMatch(/done: everything is sealed under the current KEK/);
    const again = await rotate(world, env, ['--json']);
    expect(again.code, again.out).toBe(0);
    const report = JSON.parse(again.out.slice(again.out.indexOf('{'))) as Record<string, { resealed: number; current: number }>;
    // Idempotent: the second run finds everything current and rewrites nothing.
    expect([report['issuerKeys']!.resealed, report['certificateKeys']!.resealed, report['webhookSecrets']!.resealed]).toEqual([0, 0, 0]);
    const blobs = await sealedBlobs(world.db);
    expect(report['issuerKeys']!.current + report['certificateKeys']!.current + report['webhookSecrets']!.current).toBe(blobs.length);
    expect(blobs.length).toBeGreaterThanOrEqual(total);
    expect(blobs.filter((blob) => !underNew(blob))).toEqual([]);
    const audited = await world.db.select().from(auditEvents).where(eq(auditEvents.action, 'kek.rotated'));
    expect(audited.map((event) => event.details['complete'])).toEqual([false, true, true]);

    // After: only the new KEK. Every blob opens with it, and the platform renews and delivers.
    await worker.stop();
    for (const blob of blobs) expect(() => openBlob(newKek, blob), `${blob.what} ${blob.id}`).not.toThrow();
    for (const blob of blobs) expect(() => openBlob(oldKek, blob), `${blob.what} ${blob.id}`).toThrow();
    worker = await workerWith(world, newKek);
    stops.push(() => worker.stop());
    for (const [certificate, generation] of [[hooked, 3], [legacy, 3], [filed, 2]] as const) {
      await certs.renew(certificate.id, 'after the rotation');
      await certs.waitFor<View>(certificate.id, activeAt(generation), { timeoutMs: 30_000, what: `${certificate.id} renewed with the new KEK only` });
    }
    expect(receiver.deliveries(hooked.id)).toEqual([1, 2, 3].map((generation) => ({ generation, signatureValid: true })));
    expect(receiver.deliveries(legacy.id)).toEqual([1, 2, 3].map((generation) => ({ generation, signatureValid: true })));
    // The file delivery wrote the new generation's key, opened by the worker with the new KEK.
    expect(existsSync(join(world.deliveryRoot, 'filed', 'versions', '2', 'key.pem'))).toBe(true);
  });
});
