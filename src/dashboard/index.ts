// olmo dashboard: the web dashboard's server over run, eval, model and quickstart folders (see server.ts).
export { startDashboard, type DashboardOptions, type RunningDashboard } from './server.ts';
export type { ChatOption } from './chat.ts';
export type * from './api-types.ts';
