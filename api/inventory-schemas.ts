/** Bodies of the inventory endpoints (api/routes/inventory.ts). */
import { z } from 'zod';
import { createCertificateSchema } from './schemas.js';

/** Certificates per import request; bigger inventories go in several requests (the CLI batches). */
export const MAX_IMPORT_CERTIFICATES = 500;
export const MAX_SCAN_TARGETS = 256;

export const importSchema = z.strictObject({
  files: z
    .array(
      z.strictObject({
        /** The file name, recorded as the certificates' origin. */
        name: z.string().min(1).max(255),
        /** One PEM file or bundle: any number of CERTIFICATE blocks. */
        pem: z.string().min(1),
      }),
    )
    .min(1)
    .max(MAX_IMPORT_CERTIFICATES),
});

export const scanSchema = z.strictObject({
  /** `host:port`, `[IPv6]:port` or `a.b.c.d/nn:port` (at most /24). */
  targets: z.array(z.string().min(1).max(300)).min(1).max(MAX_SCAN_TARGETS),
  /** SNI name to send everywhere; absent: each target's host name (none for addresses). */
  serverName: z.string().min(1).max(253).optional(),
});

/** What adoption may set for the managed certificate; the names are always the adopted certificate's. */
const fields = createCertificateSchema.shape;
export const adoptSchema = z.strictObject({
  keyAlgorithm: fields.keyAlgorithm,
  validity: fields.validity,
  renewBefore: fields.renewBefore,
  destinations: fields.destinations,
});
