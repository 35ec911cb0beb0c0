/** The platform's own team: it holds the ACME listener's certificate; no one may create a team of this name. */
export const PLATFORM_TEAM_NAME = 'certflow-platform';
