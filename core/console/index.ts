export { ConsoleSessions, type RunRequest, type ConsoleHooks } from './sessions';
export { completionSchema } from './completions';
export { parseExplainJson, planText, toPlanNode } from './plan-tree';
export { firstKeyword, isCursorable, oneStatement } from './statement';
