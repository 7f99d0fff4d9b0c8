// Proc2PDDL as an evaluation task family: data folders, the paper's prompts, official and stricter metrics.
export * from './data.ts';
export * from './prompts.ts';
export { Proc2PddlTask, PROC2PDDL_TASKS, PROC2PDDL_GENERATION, type Proc2PddlOptions } from './task.ts';
