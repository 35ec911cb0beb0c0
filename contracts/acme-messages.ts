/** Workflow ids and signals of the ACME side, shared by the API and the workflows. */
import { defineSignal } from '@temporalio/workflow';

/** One validation workflow per challenge: a repeated answer finds it already started. */
export function acmeChallengeWorkflowId(challengeId: string): string {
  return `acme-challenge/${challengeId}`;
}

export interface AcmeChallengeInput {
  challengeId: string;
}

/**
 * The client renewed the certificate: an ACME order for `generation` is finalized and carries its
 * CSR, or cert-manager's next CertificateRequest for the Certificate was taken (api/kubernetes-renewal.ts).
 * Sent to the certificate's lifecycle, which issues that generation next.
 */
export const clientRenewedSignal = defineSignal<[{ generation: number }]>('clientRenewed');
