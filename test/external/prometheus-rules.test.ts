/**
 * The shipped alerting rules (deploy/prometheus/alerts.yml) checked by Prometheus's own promtool: `check rules`,
 * and `test rules` with a firing and a quiet case for every alert (the cases below, written to a temp file as
 * JSON, which is YAML). Every alert must have both kinds of case and a runbook section in docs/operations.md.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePrometheusTools } from '../../scripts/prometheus-tools.js';
import { ALERTS_FILE, OPERATIONS_DOC, shippedAlertNames } from '../support/prometheus-rules.js';
import { runTool } from './run.js';

interface ExpectedAlert {
  exp_labels: Record<string, string>;
  exp_annotations: Record<string, string>;
}
interface AlertCheck {
  eval_time: string;
  alertname: string;
  exp_alerts: ExpectedAlert[];
}
interface RuleTest {
  name: string;
  interval: string;
  input_series: Array<{ series: string; values: string }>;
  alert_rule_test: AlertCheck[];
}

const runbook = (alert: string) => `docs/operations.md#${alert.toLowerCase()}`;

const TESTS: RuleTest[] = [
  {
    name: 'expiring without renewal: counted once across two API replicas, fires after 15 min',
    interval: '1m',
    input_series: [
      { series: 'certflow_certificates_expiring_unrenewed{team="payments",instance="api-1"}', values: '0x20 2x40' },
      { series: 'certflow_certificates_expiring_unrenewed{team="payments",instance="api-2"}', values: '0x20 2x40' },
      { series: 'certflow_certificates_expiring_unrenewed{team="search",instance="api-1"}', values: '0x60' },
    ],
    alert_rule_test: [
      { eval_time: '20m', alertname: 'CertflowCertificateExpiringWithoutRenewal', exp_alerts: [] },
      { eval_time: '30m', alertname: 'CertflowCertificateExpiringWithoutRenewal', exp_alerts: [] },
      {
        eval_time: '40m',
        alertname: 'CertflowCertificateExpiringWithoutRenewal',
        exp_alerts: [
          {
            exp_labels: { severity: 'critical', team: 'payments' },
            exp_annotations: {
              summary: '2 certificate(s) of team payments expire within 7 days and were not renewed',
              description:
                'Their current version expires within 7 days (or a quarter of its lifetime if shorter); renewal was due with a third of the lifetime left. GET /v1/certificates?team=payments&expiringBefore=<now+7d> lists them.',
              runbook_url: runbook('CertflowCertificateExpiringWithoutRenewal'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'renewals failing: fires after an hour of failures; a counter that stopped moving does not',
    interval: '1m',
    input_series: [
      { series: 'certflow_renewals_failed_total{reason="policy_violation",instance="w1",job="certflow-worker"}', values: '0+1x120' },
      { series: 'certflow_renewals_failed_total{reason="internal",instance="w1",job="certflow-worker"}', values: '0+1x30 30x90' },
      { series: 'certflow_renewals_failed_total{reason="no_active_issuer",instance="w1",job="certflow-worker"}', values: '0x120' },
    ],
    alert_rule_test: [
      { eval_time: '30m', alertname: 'CertflowRenewalsFailing', exp_alerts: [] },
      {
        eval_time: '90m',
        alertname: 'CertflowRenewalsFailing',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', reason: 'policy_violation' },
            exp_annotations: {
              summary: 'Renewals have been failing for an hour (reason policy_violation)',
              description: '20 failed renewal attempt(s) in the last 20 minutes, continuously for an hour.',
              runbook_url: runbook('CertflowRenewalsFailing'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'certificates failed: fires after 15 min, once across replicas; other states do not',
    interval: '1m',
    input_series: [
      { series: 'certflow_lifecycle_workflows{state="failed",instance="api-1",job="certflow-api"}', values: '0 3x30' },
      { series: 'certflow_lifecycle_workflows{state="failed",instance="api-2",job="certflow-api"}', values: '0 3x30' },
      { series: 'certflow_lifecycle_workflows{state="renewing",instance="api-1",job="certflow-api"}', values: '5x30' },
    ],
    alert_rule_test: [
      { eval_time: '10m', alertname: 'CertflowCertificatesFailed', exp_alerts: [] },
      {
        eval_time: '20m',
        alertname: 'CertflowCertificatesFailed',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', state: 'failed', job: 'certflow-api' },
            exp_annotations: {
              summary: '3 certificate lifecycle(s) stopped on an error that needs an operator',
              description:
                'A business error (policy violation, revoked, invalid request) stopped issuance or renewal; the lifecycle waits for a renew request after the cause is fixed. GET /v1/certificates?stuck=true&state=failed lists them.',
              runbook_url: runbook('CertflowCertificatesFailed'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'rollout failed: fires after a minute; a rollout that recovered within the minute does not',
    interval: '1m',
    input_series: [
      { series: 'certflow_certificates{state="rollout_failed",team="payments",issuer="iss_a",instance="api-1"}', values: '0 1x10' },
      { series: 'certflow_certificates{state="rollout_failed",team="search",issuer="iss_a",instance="api-1"}', values: '0 1 0x9' },
    ],
    alert_rule_test: [
      { eval_time: '1m', alertname: 'CertflowRolloutFailed', exp_alerts: [] },
      {
        eval_time: '5m',
        alertname: 'CertflowRolloutFailed',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', team: 'payments' },
            exp_annotations: {
              summary: '1 certificate(s) of team payments are not served by a destination (rollout failed)',
              description: 'The new version was rolled back on the failing destinations (the previous one stays valid); the rollout is retried every 15 minutes.',
              runbook_url: runbook('CertflowRolloutFailed'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'approval past half its deadline: fires as soon as one is',
    interval: '1m',
    input_series: [
      { series: 'certflow_approvals_past_half_deadline{team="payments",instance="api-1"}', values: '0 0 1 1' },
      { series: 'certflow_approvals_past_half_deadline{team="search",instance="api-1"}', values: '0 0 0 0' },
    ],
    alert_rule_test: [
      { eval_time: '1m', alertname: 'CertflowApprovalPastHalfDeadline', exp_alerts: [] },
      {
        eval_time: '2m',
        alertname: 'CertflowApprovalPastHalfDeadline',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', team: 'payments' },
            exp_annotations: {
              summary: '1 approval(s) of team payments are waiting past half their deadline',
              description: 'An approver must decide before the deadline, or the request expires (state approval_expired).',
              runbook_url: runbook('CertflowApprovalPastHalfDeadline'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'CRL stale: past nextUpdate (3600 s after the epoch the test starts at) for 5 min; a fresh CRL is not',
    interval: '1m',
    input_series: [
      { series: 'certflow_crl_next_update_timestamp_seconds{issuer="iss_a",instance="api-1"}', values: '3600x120' },
      { series: 'certflow_crl_next_update_timestamp_seconds{issuer="iss_b",instance="api-1"}', values: '100000x120' },
    ],
    alert_rule_test: [
      { eval_time: '59m', alertname: 'CertflowCrlStale', exp_alerts: [] },
      {
        eval_time: '90m',
        alertname: 'CertflowCrlStale',
        exp_alerts: [
          {
            exp_labels: { severity: 'critical', issuer: 'iss_a' },
            exp_annotations: {
              summary: 'The CRL of issuer iss_a is past its nextUpdate',
              description: 'Relying parties that check CRLs treat a stale CRL as unknown revocation status (and may refuse every certificate of this issuer).',
              runbook_url: runbook('CertflowCrlStale'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'ACME renewal overdue: fires after 15 min',
    interval: '1m',
    input_series: [
      { series: 'certflow_certificates{state="renewal_overdue",team="edge",issuer="iss_a",instance="api-1"}', values: '1x40' },
      { series: 'certflow_certificates{state="active",team="payments",issuer="iss_a",instance="api-1"}', values: '4x40' },
    ],
    alert_rule_test: [
      { eval_time: '10m', alertname: 'CertflowAcmeRenewalOverdue', exp_alerts: [] },
      {
        eval_time: '30m',
        alertname: 'CertflowAcmeRenewalOverdue',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', team: 'edge' },
            exp_annotations: {
              summary: '1 ACME certificate(s) of team edge were not renewed by their client within the ARI window',
              description: 'Certflow cannot renew an ACME certificate itself: its client (certbot, cert-manager, lego...) must.',
              runbook_url: runbook('CertflowAcmeRenewalOverdue'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'worker down: a target down for 5 min fires; an up one does not',
    interval: '1m',
    input_series: [
      { series: 'up{job="certflow-worker",instance="w1:9464"}', values: '1x10 0x20' },
      { series: 'up{job="certflow-worker",instance="w2:9464"}', values: '1x30' },
    ],
    alert_rule_test: [
      { eval_time: '13m', alertname: 'CertflowWorkerDown', exp_alerts: [] },
      {
        eval_time: '20m',
        alertname: 'CertflowWorkerDown',
        exp_alerts: [
          {
            exp_labels: { severity: 'critical', job: 'certflow-worker', instance: 'w1:9464' },
            exp_annotations: {
              summary: 'A Certflow worker is down or not scraped (w1:9464)',
              description: 'Without a worker nothing is issued, renewed, rolled out, revoked or published (CRLs, OCSP).',
              runbook_url: runbook('CertflowWorkerDown'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'worker down: no worker target scraped at all fires too',
    interval: '1m',
    input_series: [{ series: 'up{job="certflow-api",instance="api-1:8080"}', values: '1x20' }],
    alert_rule_test: [
      { eval_time: '3m', alertname: 'CertflowWorkerDown', exp_alerts: [] },
      {
        eval_time: '10m',
        alertname: 'CertflowWorkerDown',
        exp_alerts: [
          {
            exp_labels: { severity: 'critical', job: 'certflow-worker' },
            exp_annotations: {
              summary: 'A Certflow worker is down or not scraped ()',
              description: 'Without a worker nothing is issued, renewed, rolled out, revoked or published (CRLs, OCSP).',
              runbook_url: runbook('CertflowWorkerDown'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'schedule lagging: no run for two intervals, or a run started late; an on-time schedule is quiet',
    interval: '1m',
    input_series: [
      { series: 'certflow_schedule_interval_seconds{schedule="crl-publication",instance="api-1"}', values: '3600x200' },
      { series: 'certflow_schedule_last_action_timestamp_seconds{schedule="crl-publication",instance="api-1"}', values: '0x200' },
      { series: 'certflow_schedule_last_action_delay_seconds{schedule="crl-publication",instance="api-1"}', values: '0x200' },
      { series: 'certflow_schedule_interval_seconds{schedule="audit-checkpoint",instance="api-1"}', values: '60x200' },
      { series: 'certflow_schedule_last_action_timestamp_seconds{schedule="audit-checkpoint",instance="api-1"}', values: '0+60x200' },
      { series: 'certflow_schedule_last_action_delay_seconds{schedule="audit-checkpoint",instance="api-1"}', values: '0x60 600x30 0x110' },
    ],
    alert_rule_test: [
      { eval_time: '60m', alertname: 'CertflowScheduleLagging', exp_alerts: [] },
      {
        eval_time: '85m',
        alertname: 'CertflowScheduleLagging',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', schedule: 'audit-checkpoint' },
            exp_annotations: {
              summary: 'The Temporal Schedule audit-checkpoint is lagging',
              description: 'Its last run is more than two intervals old, or started more than 5 minutes after its scheduled time.',
              runbook_url: runbook('CertflowScheduleLagging'),
            },
          },
        ],
      },
      { eval_time: '130m', alertname: 'CertflowScheduleLagging', exp_alerts: [] },
      {
        eval_time: '150m',
        alertname: 'CertflowScheduleLagging',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', schedule: 'crl-publication' },
            exp_annotations: {
              summary: 'The Temporal Schedule crl-publication is lagging',
              description: 'Its last run is more than two intervals old, or started more than 5 minutes after its scheduled time.',
              runbook_url: runbook('CertflowScheduleLagging'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'inventory metrics unavailable: every replica failing for 10 min fires; one replica reading is enough',
    interval: '1m',
    input_series: [
      { series: 'certflow_inventory_up{instance="api-1"}', values: '1x10 0x30' },
      { series: 'certflow_inventory_up{instance="api-2"}', values: '1x25 0x15' },
    ],
    alert_rule_test: [
      { eval_time: '30m', alertname: 'CertflowInventoryMetricsUnavailable', exp_alerts: [] },
      {
        eval_time: '38m',
        alertname: 'CertflowInventoryMetricsUnavailable',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning' },
            exp_annotations: {
              summary: 'The API cannot read the inventory for its metrics: the inventory alerts above are blind',
              description: 'The inventory queries of GET /metrics fail (the API logs why); usually Postgres is unreachable from the API.',
              runbook_url: runbook('CertflowInventoryMetricsUnavailable'),
            },
          },
        ],
      },
    ],
  },
];

let promtool: string;
let dir: string;

beforeAll(async () => {
  ({ promtool } = await ensurePrometheusTools((message) => process.stderr.write(`[prometheus-tools] ${message}\n`)));
  dir = await mkdtemp(join(tmpdir(), 'certflow-promtool-'));
}, 900_000);
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

describe('deploy/prometheus/alerts.yml', () => {
  it('passes promtool check rules', async () => {
    const result = await runTool(promtool, ['check', 'rules', ALERTS_FILE]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('has a firing and a quiet case for every alert, and a runbook section for each in docs/operations.md', async () => {
    const names = await shippedAlertNames();
    expect(names.length).toBeGreaterThanOrEqual(9);
    const checks = TESTS.flatMap((test) => test.alert_rule_test);
    const operations = await readFile(OPERATIONS_DOC, 'utf8');
    for (const name of names) {
      expect(checks.some((check) => check.alertname === name && check.exp_alerts.length > 0), `${name}: a firing case`).toBe(true);
      expect(checks.some((check) => check.alertname === name && check.exp_alerts.length === 0), `${name}: a quiet case`).toBe(true);
      expect(operations, `${name}: a "### ${name}" runbook section`).toMatch(new RegExp(`^### ${name}$`, 'm'));
    }
    // No case for an alert that is not shipped (a renamed alert would otherwise leave its cases vacuous).
    for (const check of checks) expect(names).toContain(check.alertname);
  });

  it('passes promtool test rules with those cases', async () => {
    const file = join(dir, 'alerts.test.yml');
    await writeFile(file, JSON.stringify({ rule_files: [ALERTS_FILE], evaluation_interval: '1m', tests: TESTS }, null, 2));
    const result = await runTool(promtool, ['test', 'rules', file]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('promtool test rules fails when an alert is expected but the rules do not fire it (the check can fail)', async () => {
    const wrong: RuleTest = { ...TESTS[4]!, alert_rule_test: [{ ...TESTS[4]!.alert_rule_test[1]!, eval_time: '1m' }] };
    const file = join(dir, 'wrong.test.yml');
    await writeFile(file, JSON.stringify({ rule_files: [ALERTS_FILE], evaluation_interval: '1m', tests: [wrong] }));
    const result = await runTool(promtool, ['test', 'rules', file]);
    expect(result.code).not.toBe(0);
  });
});
