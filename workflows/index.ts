export { certificateLifecycle } from './certificate-lifecycle.js';
export { crlPublication } from './crl-publication.js';
