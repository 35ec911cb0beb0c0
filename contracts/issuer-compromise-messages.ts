/** Queries of the issuerCompromise workflow, defined once for the workflow and the API. */
import { defineQuery } from '@temporalio/workflow';
import type { CompromiseStatus } from '../core/issuer-compromise.js';

/** Where the drill is: its phase, and the successor and bulk operation once they exist. */
export const drillStatusQuery = defineQuery<CompromiseStatus>('drillStatus');
