/**
 * Every activity option preset must be one the SDK accepts: a preset it refuses (e.g. a retry policy
 * with maximumAttempts 0) fails only when a workflow schedules the activity, deep inside a run.
 */
import { compileRetryPolicy } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ACTIVITY_PRESETS, LOCAL_PRESETS, UNTIL_DONE_LOCAL_PRESETS, UNTIL_DONE_PRESETS, waitingPreset } from '../../../workflows/activity-options.js';

const presets = Object.entries({
  ...Object.fromEntries(Object.entries(ACTIVITY_PRESETS).map(([name, preset]) => [`activity/${name}`, preset])),
  ...Object.fromEntries(Object.entries(LOCAL_PRESETS).map(([name, preset]) => [`local/${name}`, preset])),
  ...Object.fromEntries(Object.entries(UNTIL_DONE_PRESETS).map(([name, preset]) => [`until-done/${name}`, preset])),
  ...Object.fromEntries(Object.entries(UNTIL_DONE_LOCAL_PRESETS).map(([name, preset]) => [`until-done-local/${name}`, preset])),
  'waiting/300 s': waitingPreset(300),
});

describe('activity option presets', () => {
  it.each(presets)('ok/%s has a timeout and a retry policy the SDK accepts', (_name, preset) => {
    expect(preset.startToCloseTimeout).toBeDefined();
    expect(() => compileRetryPolicy(preset.retry!)).not.toThrow();
  });

  it('ok/a revocation is never given up', () => {
    expect(compileRetryPolicy(ACTIVITY_PRESETS.revocation.retry).maximumAttempts).toBeUndefined();
  });

  it('fail/a retry policy with maximumAttempts 0 is refused (what this test guards against)', () => {
    expect(() => compileRetryPolicy({ maximumAttempts: 0 })).toThrow(/maximumAttempts/);
  });
});
