export { auditCheckpoint } from './audit-checkpoint.js';
export { bulkReissue } from './bulk-reissue.js';
export { certificateLifecycle } from './certificate-lifecycle.js';
export { crlPublication } from './crl-publication.js';
export { issuerCompromise } from './issuer-compromise.js';
export { acmeChallengeValidation } from './acme-challenge.js';
export { notificationDelivery } from './notification-delivery.js';
export { inventorySweep } from './inventory-sweep.js';
