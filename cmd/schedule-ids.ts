/** Ids of the platform's Temporal Schedules (the worker creates them; the API's metrics describe them). */
export const CRL_PUBLICATION_SCHEDULE_ID = 'crl-publication';
export { AUDIT_CHECKPOINT_SCHEDULE_ID } from './audit-schedule.js';
