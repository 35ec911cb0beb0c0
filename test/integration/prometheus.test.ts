/**
 * A real Prometheus scrapes a real API (the app over HTTP, with its metrics) and a real worker (cmd/worker.ts as a
 * child process, its metrics listener and the Temporal SDK's exporter), every second, evaluating the shipped
 * alerting rules with every `for:` set to 0s (test/support/prometheus-rules.ts). A renewal made to fail (the team's
 * policy no longer allows the name) moves certflow_renewals_failed_total{reason="policy_violation"} and fires
 * CertflowRenewalsFailing, as Prometheus's own /api/v1/query and /api/v1/alerts say; stopping the worker fires
 * CertflowWorkerDown. `promtool check metrics` accepts both endpoints' output.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { apiMetrics } from '../../cmd/api-metrics.js';
import { loadConfig } from '../../cmd/config.js';
import { startApi } from '../../cmd/start-api.js';
import { findFreePort } from '../../devservices/free-port.js';
import { ensurePrometheusTools, type PrometheusTools } from '../../scripts/prometheus-tools.js';
import { authHeaders, createHarness, createTeamWithTokens, eventually, startChildWorker, TEST_AUDIT_KEY_HEX, TEST_BOOTSTRAP_TOKEN, type ChildWorker, type Harness, type Team } from '../support/harness.js';
import { certificatesAs, serveOverHttp, type CertificateClient, type HttpServer } from '../support/integration-suite.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus-server.js';
import { rulesWithFor } from '../support/prometheus-rules.js';

const METRICS_TOKEN = 'metrics-token-integration-tests';

let tools: PrometheusTools;
let harness: Harness;
let team: Team;
let certificates: CertificateClient;
let api: HttpServer;
let worker: ChildWorker;
let workerMetricsUrl: string;
let prometheus: RunningPrometheus;

beforeAll(async () => {
  tools = await ensurePrometheusTools((message) => process.stderr.write(`[prometheus-tools] ${message}\n`));
  harness = await createHarness('prometheus');
  team = await createTeamWithTokens(harness);
  const metrics = apiMetrics({ db: harness.db, temporal: harness.client, now: () => new Date(), settings: { token: METRICS_TOKEN, maxTeams: 1000, cacheSeconds: 1 }, production: false, log: () => undefined });
  const app = createApp({ ...harness.apiDeps, metrics }, (message, error) => console.error(message, error));
  api = await serveOverHttp(app);
  certificates = certificatesAs(app, team.requester);

  const [workerPort, sdkPort] = [await findFreePort(), await findFreePort()];
  worker = startChildWorker(harness, {
    CERTFLOW_WORKER_METRICS_PORT: String(workerPort),
    CERTFLOW_METRICS_TOKEN: METRICS_TOKEN,
    CERTFLOW_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${sdkPort}`,
  });
  await worker.ready;
  workerMetricsUrl = `http://127.0.0.1:${workerPort}`;

  const dir = await mkdtemp(join(inject('tempDir'), 'prometheus-'));
  const tokenFile = join(dir, 'metrics-token');
  await writeFile(tokenFile, METRICS_TOKEN);
  prometheus = await startPrometheus({
    binary: tools.prometheus,
    dir,
    rules: await rulesWithFor('0s'),
    intervalSeconds: 1,
    targets: [
      { job: 'certflow-api', target: new URL(api.baseUrl).host, tokenFile },
      { job: 'certflow-worker', target: `127.0.0.1:${workerPort}`, tokenFile },
      { job: 'certflow-worker-temporal-sdk', target: `127.0.0.1:${sdkPort}` },
    ],
  });
}, 600_000);

afterAll(async () => {
  await prometheus?.stop();
  await worker?.kill('SIGTERM');
  await api?.close();
  await harness?.close();
});

async function scrape(url: string, token: string | null = METRICS_TOKEN): Promise<Response> {
  return fetch(`${url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
}

function promtoolCheckMetrics(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tools.promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? -1, output }));
    child.stdin.end(text);
  });
}

const sampleValue = async (expr: string) => (await prometheus.query(expr))[0]?.value;

describe('metrics scraped by a real Prometheus', () => {
  it('serves /metrics on the API and the worker only with the token', async () => {
    for (const url of [api.baseUrl, workerMetricsUrl]) {
      expect((await scrape(url, null)).status).toBe(401);
      expect((await scrape(url, 'wrong-token-of-the-same-kind-xx')).status).toBe(401);
      const response = await scrape(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    }
  });

  it('never labels a metric with a certificate id or a DNS name', async () => {
    const { id } = await certificates.create({ team: team.teamName, dnsNames: ['labels.example.test'], validity: 'P1D' });
    await certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'issuance' });
    // The inventory gauges reuse their queries for a second (cacheSeconds): scrape until they include the certificate.
    const text = await eventually(
      async () => {
        const both = (await (await scrape(api.baseUrl)).text()) + (await (await scrape(workerMetricsUrl)).text());
        return new RegExp(`^certflow_certificates\\{team="${team.teamName}",state="active"`, 'm').test(both) ? both : undefined;
      },
      { timeoutMs: 10_000, what: 'the inventory gauges to count the certificate' },
    );
    expect(text).not.toContain(id);
    expect(text).not.toContain('labels.example.test');
    expect(text).toMatch(new RegExp(`^certflow_certificates\\{team="${team.teamName}",state="active",issuer="iss_[^"]+"\\} 1$`, 'm'));
    // The inventory figures of the team: its one certificate expires in about a day, not yet due for renewal.
    const soonest = Number(new RegExp(`^certflow_certificate_expiry_soonest_timestamp_seconds\\{team="${team.teamName}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(soonest * 1000 - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect(soonest * 1000 - Date.now()).toBeLessThan(25 * 3_600_000);
    expect(text).toMatch(new RegExp(`^certflow_certificates_expiring_unrenewed\\{team="${team.teamName}"\\} 0$`, 'm'));
    expect(text).toMatch(/^certflow_inventory_up 1$/m);
  });

  it('promtool check metrics accepts the output of both endpoints (with a certificate in the inventory)', async () => {
    const apiText = await (await scrape(api.baseUrl)).text();
    const workerText = await (await scrape(workerMetricsUrl)).text();
    expect(apiText).toMatch(/^certflow_certificates\{/m);
    expect(apiText).toMatch(/^certflow_certificate_expiry_seconds_bucket\{le="\+Inf"\}/m);
    // Figures from Temporal: the worker's schedules and the lifecycle workflows' states; from Postgres: its CRLs.
    expect(apiText).toMatch(/^certflow_schedule_interval_seconds\{schedule="crl-publication"\} 3600$/m);
    expect(apiText).toMatch(/^certflow_schedule_interval_seconds\{schedule="audit-checkpoint"\} 60$/m);
    expect(apiText).toMatch(/^certflow_schedule_last_action_timestamp_seconds\{schedule="crl-publication"\} \d/m);
    expect(apiText).toMatch(/^certflow_lifecycle_workflows\{state="failed"\} \d+$/m);
    expect(apiText).toMatch(/^certflow_crl_next_update_timestamp_seconds\{issuer="iss_[^"]+"\} \d/m);
    expect(workerText).toMatch(/^certflow_renewals_failed_total\{reason="policy_violation"\} 0$/m);
    for (const [name, text] of [['API', apiText], ['worker', workerText]] as const) {
      const result = await promtoolCheckMetrics(text);
      expect(result.code, `${name}: ${result.output}`).toBe(0);
    }
    // The check can fail: a counter without _total is reported.
    expect((await promtoolCheckMetrics('# HELP bad_counter a counter\n# TYPE bad_counter counter\nbad_counter 1\n')).code).not.toBe(0);
  });

  it('a failing renewal moves the failure counter and fires CertflowRenewalsFailing through Prometheus', async () => {
    const { id } = await certificates.create({ team: team.teamName, dnsNames: ['renew.example.test'], validity: 'P1D' });
    await certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'issuance' });
    // Prometheus has scraped the worker's counter at 0 before the failure, so increase() sees it move.
    await eventually(async () => ((await sampleValue('certflow_renewals_failed_total{job="certflow-worker",reason="policy_violation"}')) === 0 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'Prometheus to scrape the failure counter at 0',
    });
    expect((await prometheus.alerts()).filter((alert) => alert.labels['alertname'] === 'CertflowRenewalsFailing')).toEqual([]);
    // Prometheus sees both targets up.
    for (const job of ['certflow-api', 'certflow-worker', 'certflow-worker-temporal-sdk']) {
      await eventually(async () => ((await sampleValue(`up{job="${job}"}`)) === 1 ? true : undefined), { timeoutMs: 30_000, what: `Prometheus to scrape ${job}` });
    }
    expect(await sampleValue('temporal_worker_task_slots_available{worker_type="WorkflowWorker"}')).toBeGreaterThan(0);

    // The team's policy no longer allows the name: the renewal fails with PolicyViolation.
    const patched = await harness.app.request(`/v1/teams/${team.teamId}`, {
      method: 'PATCH',
      headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
      body: JSON.stringify({ policy: { allowedDomains: ['elsewhere.test'] } }),
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    await certificates.renew(id, 'metrics test');
    await certificates.waitFor(id, (view) => view.state === 'failed', { timeoutMs: 30_000, what: 'the renewal to fail on policy' });

    await eventually(async () => ((await sampleValue('certflow_renewals_failed_total{job="certflow-worker",reason="policy_violation"}')) === 1 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'Prometheus to see the failure counter at 1',
    });
    expect(await sampleValue('certflow_renewals_started_total{job="certflow-worker"}')).toBe(1);
    expect(await sampleValue('certflow_renewals_succeeded_total{job="certflow-worker"}')).toBe(0);
    const alert = await eventually(
      async () => (await prometheus.alerts()).find((a) => a.labels['alertname'] === 'CertflowRenewalsFailing' && a.state === 'firing'),
      { timeoutMs: 30_000, what: 'CertflowRenewalsFailing to fire' },
    );
    expect(alert.labels).toMatchObject({ reason: 'policy_violation', severity: 'warning' });
    expect(alert.annotations['runbook_url']).toBe('docs/operations.md#certflowrenewalsfailing');
    // The workflow-only state reaches Prometheus through Temporal visibility, and its alert fires too.
    await eventually(
      async () => (await prometheus.alerts()).find((a) => a.labels['alertname'] === 'CertflowCertificatesFailed' && a.state === 'firing'),
      { timeoutMs: 30_000, what: 'CertflowCertificatesFailed to fire' },
    );
  });

  it('a stopped worker fires CertflowWorkerDown', async () => {
    await eventually(async () => ((await sampleValue('up{job="certflow-worker"}')) === 1 ? true : undefined), { timeoutMs: 30_000, what: 'the worker scraped' });
    await eventually(async () => ((await prometheus.alerts()).some((a) => a.labels['alertname'] === 'CertflowWorkerDown') ? undefined : true), {
      timeoutMs: 30_000,
      what: 'no CertflowWorkerDown while the worker is up',
    });
    await worker.kill('SIGTERM');
    const alert = await eventually(
      async () => (await prometheus.alerts()).find((a) => a.labels['alertname'] === 'CertflowWorkerDown' && a.state === 'firing'),
      { timeoutMs: 30_000, what: 'CertflowWorkerDown to fire' },
    );
    expect(alert.labels).toMatchObject({ job: 'certflow-worker', severity: 'critical' });
  });
});

describe('the API process as cmd/api.ts composes it (startApi)', () => {
  it('serves GET /metrics with the inventory gauges, behind CERTFLOW_METRICS_TOKEN, with the team label capped', async () => {
    const env = {
      DATABASE_URL: harness.databaseUrl,
      TEMPORAL_ADDRESS: harness.temporalAddress,
      TEMPORAL_NAMESPACE: harness.namespace,
      CERTFLOW_ACME_PORT: '0',
      CERTFLOW_BOOTSTRAP_TOKEN: TEST_BOOTSTRAP_TOKEN,
      CERTFLOW_AUDIT_KEY: TEST_AUDIT_KEY_HEX,
      CERTFLOW_DATA_DIR: await mkdtemp(join(inject('tempDir'), 'metrics-api-')),
      CERTFLOW_METRICS_TOKEN: METRICS_TOKEN,
      // No team gets a label of its own: every team's figures are summed under _other.
      CERTFLOW_METRICS_MAX_TEAMS: '0',
      PORT: '0',
    };
    const running = await startApi({ ...loadConfig(env), databaseUrl: env.DATABASE_URL, temporalAddress: env.TEMPORAL_ADDRESS }, () => undefined);
    try {
      expect((await scrape(running.url, null)).status).toBe(401);
      const response = await scrape(running.url);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toMatch(/^certflow_inventory_up 1$/m);
      expect(text).toMatch(/^certflow_teams \d+$/m);
      expect(text).toMatch(/^certflow_certificates\{team="_other",state="active",issuer="iss_[^"]+"\} \d+$/m);
      expect(text).not.toContain(`team="${team.teamName}"`);
    } finally {
      await running.stop();
    }
  });
});
