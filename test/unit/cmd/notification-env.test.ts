import { describe, expect, it } from 'vitest';
import { loadNotificationSettings } from '../../../cmd/notification-env.js';

describe('loadNotificationSettings', () => {
  it('ok/defaults: no email, delivery every 10 s, sweep hourly', () => {
    expect(loadNotificationSettings({})).toEqual({ smtp: null, deliveryIntervalSeconds: 10, sweepIntervalSeconds: 3600 });
  });
  it('ok/SMTP relay and intervals', () => {
    const settings = loadNotificationSettings({
      CERTFLOW_SMTP_URL: 'smtps://user:pass@mail.example.com:465',
      CERTFLOW_SMTP_FROM: 'Certflow <certflow@example.com>',
      CERTFLOW_NOTIFICATION_INTERVAL: 'PT30S',
      CERTFLOW_INVENTORY_SWEEP_INTERVAL: 'off',
    });
    expect(settings).toEqual({ smtp: { url: 'smtps://user:pass@mail.example.com:465', from: 'Certflow <certflow@example.com>' }, deliveryIntervalSeconds: 30, sweepIntervalSeconds: null });
  });
  it.each([
    { name: 'fail/URL without From', env: { CERTFLOW_SMTP_URL: 'smtp://mail.example.com' }, message: 'CERTFLOW_SMTP_FROM' },
    { name: 'fail/not an smtp URL', env: { CERTFLOW_SMTP_URL: 'http://mail.example.com', CERTFLOW_SMTP_FROM: 'a@example.com' }, message: 'CERTFLOW_SMTP_URL' },
    { name: 'fail/From not an address', env: { CERTFLOW_SMTP_URL: 'smtp://mail.example.com', CERTFLOW_SMTP_FROM: 'certflow' }, message: 'CERTFLOW_SMTP_FROM' },
    { name: 'fail/bad interval', env: { CERTFLOW_NOTIFICATION_INTERVAL: 'often' }, message: 'CERTFLOW_NOTIFICATION_INTERVAL' },
  ])('$name', ({ env, message }) => expect(() => loadNotificationSettings(env)).toThrow(message));
});
