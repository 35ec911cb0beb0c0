import { describe, expect, it } from 'vitest';
import { approverProblem, type ApproverIdentity } from '../../../core/approval.js';

const request = { teamId: 'team_a', requestedBy: 'tok_req', requestedByPrincipal: 'prn_alice' };

describe('approverProblem (who may decide on a request)', () => {
  const cases: { name: string; approver: ApproverIdentity; principal?: string | null; problem: RegExp | null }[] = [
    { name: 'ok/another person, approver of the team', approver: { tokenId: 'tok_bob', principalId: 'prn_bob', role: 'approver', teamId: 'team_a' }, problem: null },
    { name: 'ok/security admin', approver: { tokenId: 'tok_sec', principalId: 'prn_sec', role: 'admin', teamId: null }, problem: null },
    { name: 'ok/a plan from before principals compares tokens only', approver: { tokenId: 'tok_other', principalId: 'prn_alice', role: 'approver', teamId: 'team_a' }, principal: null, problem: null },
    { name: 'fail/the same token', approver: { tokenId: 'tok_req', principalId: 'prn_alice', role: 'admin', teamId: 'team_a' }, problem: /own request/ },
    { name: 'fail/the same person with another token', approver: { tokenId: 'tok_alice_approver', principalId: 'prn_alice', role: 'approver', teamId: 'team_a' }, problem: /whatever token they use/ },
    { name: 'fail/the same person as security admin', approver: { tokenId: 'tok_alice_sec', principalId: 'prn_alice', role: 'admin', teamId: null }, problem: /whatever token they use/ },
    { name: 'fail/another team', approver: { tokenId: 'tok_x', principalId: 'prn_x', role: 'approver', teamId: 'team_b' }, problem: /team or a security admin/ },
    { name: 'fail/requester role', approver: { tokenId: 'tok_y', principalId: 'prn_y', role: 'requester', teamId: 'team_a' }, problem: /approver role/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const problem = approverProblem(c.approver, request.teamId, request.requestedBy, c.principal === undefined ? request.requestedByPrincipal : c.principal);
      if (c.problem === null) expect(problem).toBeNull();
      else expect(problem).toMatch(c.problem);
    });
  }
});
