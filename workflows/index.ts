export { certificateLifecycle } from './certificate-lifecycle.js';
